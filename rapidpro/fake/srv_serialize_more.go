package fake

import (
	"strings"

	"github.com/google/uuid"
)

// svDerivedUUID returns a stable UUID derived from parts (for objects the model
// does not store, such as labels, channels and definition nodes).
func svDerivedUUID(parts ...string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(strings.Join(parts, "\x00"))).String()
}

// message writes one message in the profile's shape.
func (c *serCtx) message(j *jbuf, m *Message) {
	if c.hosted() {
		j.raw(`{"uuid":`)
		j.str(m.UUID)
	} else {
		j.raw(`{"id":`)
		j.int(m.ID)
		j.raw(`,"broadcast":`)
		if m.BroadcastID != 0 {
			j.int(m.BroadcastID)
		} else {
			j.raw("null")
		}
	}
	j.raw(`,"contact":`)
	c.contactRef(j, m.ContactUUID, false)
	j.raw(`,"urn":`)
	switch {
	case m.URN == "":
		j.raw("null")
	case c.st.Org.Anon:
		scheme, _, _ := strings.Cut(m.URN, ":")
		j.str(scheme + ":********")
	default:
		j.str(m.URN)
	}
	j.raw(`,"channel":{"uuid":`)
	j.str(svDerivedUUID(c.st.Org.UUID, "channel"))
	j.raw(`,"name":"Simulated Channel"},"direction":`)
	j.str(m.Direction)
	j.raw(`,"type":`)
	if c.legacy() {
		if m.FlowUUID != "" {
			j.raw(`"flow"`)
		} else {
			j.raw(`"inbox"`)
		}
	} else {
		j.str(m.Type)
	}
	j.raw(`,"status":`)
	j.str(m.Status)
	if c.legacy() {
		j.raw(`,"archived":`)
		j.bool(m.Visibility == "archived")
	} else {
		j.raw(`,"visibility":`)
		j.str(m.Visibility)
		if c.prof == ProfileOSS2025 {
			j.raw(`,"archived":`)
			j.bool(m.Visibility == "archived")
		}
	}
	j.raw(`,"text":`)
	j.str(m.Text)
	j.raw(`,"labels":[`)
	for i, l := range m.Labels {
		if i > 0 {
			j.raw(",")
		}
		j.raw(`{"uuid":`)
		j.str(svLabelUUID(c.st, l))
		j.raw(`,"name":`)
		j.str(l)
		j.raw("}")
	}
	j.raw(`],"attachments":[]`)
	if c.hosted() {
		j.raw(`,"quick_replies":[]`)
	}
	if !c.legacy() {
		j.raw(`,"flow":`)
		c.flowRef(j, m.FlowUUID)
	}
	j.raw(`,"created_on":`)
	j.time(m.CreatedOn)
	j.raw(`,"sent_on":`)
	j.timePtr(m.SentOn)
	j.raw(`,"modified_on":`)
	j.timePtr(m.ModifiedOn)
	j.raw("}")
}

// svLabelUUID is the UUID of the message label named name.
func svLabelUUID(st *Store, name string) string { return svDerivedUUID(st.Org.UUID, "label", name) }

// refs writes a list of refs via one.
func refs(j *jbuf, ids []string, one func(*jbuf, string)) {
	j.raw("[")
	for i, id := range ids {
		if i > 0 {
			j.raw(",")
		}
		one(j, id)
	}
	j.raw("]")
}

// broadcast writes one broadcast in the profile's shape.
func (c *serCtx) broadcast(j *jbuf, b *Broadcast) {
	lang := "eng"
	if len(c.st.Org.Languages) > 0 {
		lang = c.st.Org.Languages[0]
	}
	if c.hosted() {
		j.raw(`{"uuid":`)
		j.str(b.UUID)
		j.raw(`,"status":`)
		j.str(b.Status)
	} else {
		j.raw(`{"id":`)
		j.int(b.ID)
	}
	j.raw(`,"urns":`)
	j.strList(nonNil(b.URNs))
	j.raw(`,"contacts":`)
	refs(j, b.Contacts, func(j *jbuf, u string) { c.contactRef(j, u, false) })
	j.raw(`,"groups":`)
	refs(j, b.Groups, c.groupRef)
	j.raw(`,"text":`)
	if c.prof == ProfileOSS2025 {
		j.raw("{")
		j.str(lang)
		j.raw(":")
		j.str(b.Text)
		j.raw(`},"attachments":[],"base_language":`)
		j.str(lang)
		j.raw(`,"status":`)
		j.str(b.Status)
	} else {
		j.str(b.Text)
	}
	j.raw(`,"created_on":`)
	j.time(b.CreatedOn)
	j.raw("}")
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// flowStart writes one flow start in the profile's shape.
func (c *serCtx) flowStart(j *jbuf, fs *FlowStart) {
	switch c.prof {
	case ProfileLegacy2017:
		j.raw(`{"id":`)
		j.int(fs.ID)
	case ProfileHosted2025:
		j.raw(`{"uuid":`)
		j.str(fs.UUID)
	default:
		j.raw(`{"id":`)
		j.int(fs.ID)
		j.raw(`,"uuid":`)
		j.str(fs.UUID)
	}
	j.raw(`,"flow":`)
	c.flowRef(j, fs.FlowUUID)
	j.raw(`,"status":`)
	j.str(fs.Status)
	j.raw(`,"groups":`)
	refs(j, fs.Groups, c.groupRef)
	j.raw(`,"contacts":`)
	refs(j, fs.Contacts, func(j *jbuf, u string) { c.contactRef(j, u, false) })
	j.raw(`,"restart_participants":`)
	j.bool(fs.RestartParticipants)
	if !c.legacy() {
		j.raw(`,"exclude_active":`)
		j.bool(fs.ExcludeActive)
		j.raw(`,"params":`)
		c.params(j, fs.Params)
	}
	j.raw(`,"extra":`)
	c.params(j, fs.Params)
	j.raw(`,"created_on":`)
	j.time(fs.CreatedOn)
	j.raw(`,"modified_on":`)
	j.time(fs.ModifiedOn)
	j.raw("}")
}

func (c *serCtx) params(j *jbuf, p map[string]any) {
	if p == nil {
		j.raw("null")
		return
	}
	j.any(p)
}

// flowRunCounts are the per-exit-type run counts of a flow.
type flowRunCounts struct {
	active, waiting, completed, interrupted, expired, failed int64
}

// flow writes one flow in the profile's shape.
func (c *serCtx) flow(j *jbuf, f *Flow, rc flowRunCounts) {
	j.raw(`{"uuid":`)
	j.str(f.UUID)
	j.raw(`,"name":`)
	j.str(f.Name)
	if !c.legacy() {
		j.raw(`,"type":`)
		j.str(f.Type)
	}
	j.raw(`,"archived":`)
	j.bool(f.Archived)
	j.raw(`,"labels":[],"expires":`)
	j.int(int64(f.Expires))
	j.raw(`,"runs":{"active":`)
	if c.legacy() {
		j.int(rc.active + rc.waiting)
	} else {
		j.int(rc.active)
		j.raw(`,"waiting":`)
		j.int(rc.waiting)
	}
	j.raw(`,"completed":`)
	j.int(rc.completed)
	j.raw(`,"interrupted":`)
	j.int(rc.interrupted)
	j.raw(`,"expired":`)
	j.int(rc.expired)
	if !c.legacy() {
		j.raw(`,"failed":`)
		j.int(rc.failed)
	}
	j.raw(`},"results":[`)
	for i, q := range f.Questions {
		if i > 0 {
			j.raw(",")
		}
		j.raw(`{"key":`)
		j.str(q.Key)
		j.raw(`,"name":`)
		j.str(q.Name)
		j.raw(`,"categories":`)
		j.strList(nonNil(q.Categories))
		j.raw(`,"node_uuids":[`)
		j.str(q.NodeUUID)
		j.raw("]}")
	}
	j.raw("]")
	if !c.legacy() {
		j.raw(`,"parent_refs":[]`)
	}
	j.raw(`,"created_on":`)
	j.time(f.CreatedOn)
	if !c.legacy() {
		j.raw(`,"modified_on":`)
		j.time(f.ModifiedOn)
	}
	j.raw("}")
}

// group writes one group with its member count.
func (c *serCtx) group(j *jbuf, g *Group, count int64) {
	j.raw(`{"uuid":`)
	j.str(g.UUID)
	j.raw(`,"name":`)
	j.str(g.Name)
	j.raw(`,"query":`)
	j.strOrNull(g.Query)
	if !c.legacy() {
		j.raw(`,"status":"ready","system":`)
		j.bool(g.System)
	}
	j.raw(`,"count":`)
	j.int(count)
	j.raw("}")
}

// svLegacyValueType maps a field type to the legacy value_type.
func svLegacyValueType(t string) string {
	if t == "number" {
		return "numeric"
	}
	return t
}

// field writes one contact field definition.
func (c *serCtx) field(j *jbuf, f *Field) {
	j.raw(`{"key":`)
	j.str(f.Key)
	if !c.legacy() {
		j.raw(`,"name":`)
		j.str(f.Name)
		j.raw(`,"type":`)
		j.str(f.Type)
	}
	if !c.hosted() {
		j.raw(`,"label":`)
		j.str(f.Name)
		j.raw(`,"value_type":`)
		j.str(svLegacyValueType(f.Type))
	}
	if c.prof == ProfileOSS2025 {
		j.raw(`,"featured":false,"priority":0,"usages":{"flows":0,"groups":0,"campaign_events":0},"agent_access":"view"`)
	}
	j.raw("}")
}

// boundary writes one boundary; geometry only when asked for.
func (c *serCtx) boundary(j *jbuf, b *Boundary, parent *Boundary, geometry bool) {
	j.raw(`{"osm_id":`)
	j.str(b.OSMID)
	j.raw(`,"name":`)
	j.str(b.Name)
	j.raw(`,"level":`)
	j.int(int64(b.Level))
	j.raw(`,"parent":`)
	switch {
	case b.Parent == "":
		j.raw("null")
	default:
		j.raw(`{"osm_id":`)
		j.str(b.Parent)
		j.raw(`,"name":`)
		if parent != nil {
			j.str(parent.Name)
		} else {
			j.raw("null")
		}
		j.raw("}")
	}
	j.raw(`,"aliases":`)
	j.strList(nonNil(b.Aliases))
	j.raw(`,"geometry":`)
	if geometry && len(b.Geometry) > 0 {
		j.b = append(j.b, b.Geometry...)
	} else {
		j.raw("null")
	}
	j.raw("}")
}

// archive writes one archive listing with its pre-signed download URL.
func (c *serCtx) archive(j *jbuf, a *Archive, url string) {
	if c.hosted() {
		j.raw(`{"type":`)
	} else {
		j.raw(`{"archive_type":`)
	}
	j.str(a.Type)
	j.raw(`,"start_date":`)
	j.str(a.StartDate)
	j.raw(`,"period":`)
	j.str(a.Period)
	j.raw(`,"record_count":`)
	j.int(int64(a.RecordCount))
	j.raw(`,"size":`)
	j.int(int64(len(a.Data)))
	j.raw(`,"hash":`)
	j.str(a.Hash)
	j.raw(`,"download_url":`)
	j.str(url)
	j.raw("}")
}

// org writes org.json / workspace.json.
func (c *serCtx) org(j *jbuf) {
	o := c.st.Org
	primary := ""
	if len(o.Languages) > 0 {
		primary = o.Languages[0]
	}
	j.raw("{")
	if !c.legacy() {
		j.raw(`"uuid":`)
		j.str(o.UUID)
		j.raw(",")
	}
	j.raw(`"name":`)
	j.str(o.Name)
	j.raw(`,"country":`)
	j.strOrNull(o.Country)
	j.raw(`,"languages":`)
	j.strList(nonNil(o.Languages))
	if !c.hosted() {
		j.raw(`,"primary_language":`)
		j.strOrNull(primary)
	}
	j.raw(`,"timezone":`)
	j.str(o.Timezone)
	j.raw(`,"date_style":`)
	j.str(o.DateStyle)
	if c.prof == ProfileOSS2025 {
		j.raw(`,"credits":{"used":-1,"remaining":-1}`)
	}
	j.raw(`,"anon":`)
	j.bool(o.Anon)
	j.raw("}")
}

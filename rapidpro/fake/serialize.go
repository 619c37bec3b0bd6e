package fake

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// jbuf is an append-style JSON writer; callers emit punctuation themselves.
type jbuf struct{ b []byte }

func (j *jbuf) raw(s string) { j.b = append(j.b, s...) }
func (j *jbuf) str(s string) { j.b = svAppendJSONStr(j.b, s) }
func (j *jbuf) int(n int64)  { j.b = strconv.AppendInt(j.b, n, 10) }

// strOrNull writes s, or null when it is empty.
func (j *jbuf) strOrNull(s string) {
	if s == "" {
		j.raw("null")
		return
	}
	j.str(s)
}

func (j *jbuf) bool(v bool) {
	if v {
		j.raw("true")
	} else {
		j.raw("false")
	}
}

// time writes t DRF-style: UTC, microseconds when non-zero, "Z".
func (j *jbuf) time(t time.Time) {
	j.b = append(j.b, '"')
	j.b = svAppendClock(j.b, t, 'T')
	j.b = append(j.b, 'Z', '"')
}

func (j *jbuf) timePtr(t *time.Time) {
	if t == nil || t.IsZero() {
		j.raw("null")
		return
	}
	j.time(*t)
}

// any writes v with encoding/json.
func (j *jbuf) any(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("null")
	}
	j.b = append(j.b, b...)
}

// strList writes a JSON array of strings.
func (j *jbuf) strList(l []string) {
	j.raw("[")
	for i, s := range l {
		if i > 0 {
			j.raw(",")
		}
		j.str(s)
	}
	j.raw("]")
}

const svHex = "0123456789abcdef"

// svAppendJSONStr appends s as a JSON string literal.
func svAppendJSONStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', svHex[c>>4], svHex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// serCtx carries what serializers need besides the record.
type serCtx struct {
	st         *Store
	prof       Profile
	paths      bool
	activeFlow map[string]string // contact UUID -> UUID of the flow it is in
}

func (c *serCtx) legacy() bool { return c.prof == ProfileLegacy2017 }
func (c *serCtx) hosted() bool { return c.prof == ProfileHosted2025 }

// flowRef writes {"uuid","name"} for a flow UUID, or null when empty.
func (c *serCtx) flowRef(j *jbuf, uuid string) {
	if uuid == "" {
		j.raw("null")
		return
	}
	j.raw(`{"uuid":`)
	j.str(uuid)
	j.raw(`,"name":`)
	if f := c.st.FlowsByUUID[uuid]; f != nil {
		j.str(f.Name)
	} else {
		j.raw("null")
	}
	j.raw("}")
}

// groupRef writes {"uuid","name"} for a group UUID.
func (c *serCtx) groupRef(j *jbuf, uuid string) {
	j.raw(`{"uuid":`)
	j.str(uuid)
	j.raw(`,"name":`)
	if g := c.st.GroupsByUUID[uuid]; g != nil {
		j.str(g.Name)
	} else {
		j.raw("null")
	}
	j.raw("}")
}

// contactRef writes a contact reference; summary adds urn/urn_display (and
// anon_display for anonymous orgs) outside the legacy profile.
func (c *serCtx) contactRef(j *jbuf, uuid string, summary bool) {
	ct := c.st.ContactsByUUID[uuid]
	j.raw(`{"uuid":`)
	j.str(uuid)
	j.raw(`,"name":`)
	if ct != nil && ct.Name != "" && !ct.Deleted {
		j.str(ct.Name)
	} else {
		j.raw("null")
	}
	if summary && !c.legacy() {
		urn := ""
		if ct != nil && len(ct.URNs) > 0 && !ct.Deleted {
			urn = ct.URNs[0]
		}
		switch {
		case urn == "":
			j.raw(`,"urn":null,"urn_display":null`)
		case c.st.Org.Anon:
			scheme, _, _ := strings.Cut(urn, ":")
			j.raw(`,"urn":`)
			j.str(scheme + ":********")
			j.raw(`,"urn_display":null,"anon_display":`)
			j.str(svAnonDisplay(ct.ID))
		default:
			_, path, _ := strings.Cut(urn, ":")
			j.raw(`,"urn":`)
			j.str(urn)
			j.raw(`,"urn_display":`)
			j.str(path)
		}
	}
	j.raw("}")
}

// svAnonDisplay is the zero-padded contact id shown in anonymous orgs.
func svAnonDisplay(id int64) string {
	s := strconv.FormatInt(id, 10)
	if len(s) < 10 {
		s = strings.Repeat("0", 10-len(s)) + s
	}
	return s
}

// run writes one run in the profile's shape.
func (c *serCtx) run(j *jbuf, r *Run) {
	switch c.prof {
	case ProfileLegacy2017:
		j.raw(`{"id":`)
		j.int(r.ID)
	case ProfileHosted2025:
		j.raw(`{"uuid":`)
		j.str(r.UUID)
	default:
		j.raw(`{"id":`)
		j.int(r.ID)
		j.raw(`,"uuid":`)
		j.str(r.UUID)
	}
	j.raw(`,"flow":`)
	c.flowRef(j, r.FlowUUID)
	j.raw(`,"contact":`)
	c.contactRef(j, r.ContactUUID, true)
	j.raw(`,"start":`)
	if r.StartUUID != "" {
		j.raw(`{"uuid":`)
		j.str(r.StartUUID)
		j.raw("}")
	} else {
		j.raw("null")
	}
	j.raw(`,"responded":`)
	j.bool(r.Responded)
	j.raw(`,"path":`)
	if c.paths || c.legacy() {
		j.raw("[")
		for i, st := range r.Path {
			if i > 0 {
				j.raw(",")
			}
			j.raw(`{"node":`)
			j.str(st.Node)
			j.raw(`,"time":`)
			j.time(st.Time)
			j.raw("}")
		}
		j.raw("]")
	} else {
		j.raw("null")
	}
	j.raw(`,"values":{`)
	c.values(j, r, !c.legacy(), c.prof == ProfileOSS2025)
	j.raw(`},"created_on":`)
	j.time(r.CreatedOn)
	j.raw(`,"modified_on":`)
	j.time(r.ModifiedOn)
	j.raw(`,"exited_on":`)
	j.timePtr(r.ExitedOn)
	j.raw(`,"exit_type":`)
	j.strOrNull(r.ExitType)
	j.raw("}")
}

// values writes the members of a run's values map, in the flow's question order
// then by key.
func (c *serCtx) values(j *jbuf, r *Run, withName, withInput bool) {
	n := 0
	one := func(k string, v *Value) {
		if n > 0 {
			j.raw(",")
		}
		n++
		j.str(k)
		j.raw(`:{"value":`)
		j.str(v.Value)
		j.raw(`,"category":`)
		if v.Category != nil {
			j.str(*v.Category)
		} else {
			j.raw("null")
		}
		j.raw(`,"node":`)
		j.str(v.Node)
		j.raw(`,"time":`)
		j.time(v.Time)
		if withName {
			j.raw(`,"name":`)
			j.str(v.Name)
		}
		if withInput {
			j.raw(`,"input":`)
			j.str(v.Input)
		}
		j.raw("}")
	}
	if len(r.Values) == 0 {
		return
	}
	done := 0
	if f := c.st.FlowsByUUID[r.FlowUUID]; f != nil {
		for _, q := range f.Questions {
			if v := r.Values[q.Key]; v != nil {
				one(q.Key, v)
				done++
			}
		}
	}
	if done == len(r.Values) {
		return
	}
	keys := make([]string, 0, len(r.Values))
	for k := range r.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		seen := false
		if f := c.st.FlowsByUUID[r.FlowUUID]; f != nil {
			for _, q := range f.Questions {
				if q.Key == k {
					seen = true
					break
				}
			}
		}
		if !seen {
			one(k, r.Values[k])
		}
	}
}

// contact writes one contact in the profile's shape.
func (c *serCtx) contact(j *jbuf, ct *Contact) {
	del := ct.Deleted
	j.raw(`{"uuid":`)
	j.str(ct.UUID)
	j.raw(`,"name":`)
	if del {
		j.raw("null")
	} else {
		j.strOrNull(ct.Name)
	}
	if !c.legacy() {
		j.raw(`,"status":`)
		if del {
			j.raw("null")
		} else {
			j.str(ct.Status)
		}
	}
	j.raw(`,"language":`)
	if del {
		j.raw("null")
	} else {
		j.strOrNull(ct.Language)
	}
	j.raw(`,"urns":`)
	switch {
	case del || len(ct.URNs) == 0:
		j.raw("[]")
	case c.st.Org.Anon:
		masked := make([]string, len(ct.URNs))
		for i, u := range ct.URNs {
			scheme, _, _ := strings.Cut(u, ":")
			masked[i] = scheme + ":********"
		}
		j.strList(masked)
	default:
		j.strList(ct.URNs)
	}
	j.raw(`,"groups":[`)
	if !del {
		n := 0
		for _, g := range ct.Groups {
			grp := c.st.GroupsByUUID[g]
			if grp == nil || grp.System {
				continue
			}
			if n > 0 {
				j.raw(",")
			}
			n++
			c.groupRef(j, g)
		}
	}
	j.raw(`],"fields":{`)
	if !del {
		for i, f := range c.st.Fields {
			if i > 0 {
				j.raw(",")
			}
			j.str(f.Key)
			j.raw(":")
			v, ok := ct.Fields[f.Key]
			switch {
			case !ok:
				j.raw("null")
			case c.legacy() && f.Type == "number" && svIsJSONNumber(v):
				j.raw(v)
			default:
				j.str(v)
			}
		}
	}
	j.raw("}")
	if c.legacy() {
		c.contactBools(j, ct)
		j.raw(`,"created_on":`)
		j.time(ct.CreatedOn)
		j.raw(`,"modified_on":`)
		j.time(ct.ModifiedOn)
		j.raw("}")
		return
	}
	j.raw(`,"flow":`)
	if del {
		j.raw("null")
	} else {
		c.flowRef(j, c.activeFlow[ct.UUID])
	}
	j.raw(`,"created_on":`)
	j.time(ct.CreatedOn)
	j.raw(`,"modified_on":`)
	j.time(ct.ModifiedOn)
	j.raw(`,"last_seen_on":`)
	j.timePtr(ct.LastSeenOn)
	if c.prof == ProfileOSS2025 {
		c.contactBools(j, ct)
	}
	j.raw("}")
}

// contactBools writes the deprecated blocked/stopped booleans (null when deleted).
func (c *serCtx) contactBools(j *jbuf, ct *Contact) {
	if ct.Deleted {
		j.raw(`,"blocked":null,"stopped":null`)
		return
	}
	j.raw(`,"blocked":`)
	j.bool(ct.Status == "blocked")
	j.raw(`,"stopped":`)
	j.bool(ct.Status == "stopped")
}

// svIsJSONNumber reports whether s is a valid JSON number literal.
func svIsJSONNumber(s string) bool {
	if s == "" {
		return false
	}
	var v json.Number
	return json.Unmarshal([]byte(s), &v) == nil
}

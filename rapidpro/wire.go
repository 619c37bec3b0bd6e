package rapidpro

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Wire structs for the endpoints other than runs (fastrun.go) and contacts
// (decode.go).
// Each public type also gets an UnmarshalJSON that goes through its wire
// struct, so json.Unmarshal into a public type is as tolerant as a page.

// ---- flows ----

type wireFlow struct {
	UUID       jString         `json:"uuid"`
	Name       jString         `json:"name"`
	Type       jString         `json:"type"`
	Archived   jBool           `json:"archived"`
	Labels     []Ref           `json:"labels"`
	Expires    jInt            `json:"expires"`
	Runs       map[string]jInt `json:"runs"`
	Results    []FlowResult    `json:"results"`
	ParentRefs []Ref           `json:"parent_refs"`
	CreatedOn  jTime           `json:"created_on"`
	ModifiedOn jTime           `json:"modified_on"`
}

func (w *wireFlow) api() Flow {
	f := Flow{
		UUID:       string(w.UUID),
		Name:       string(w.Name),
		Type:       string(w.Type),
		Archived:   bool(w.Archived),
		Labels:     w.Labels,
		Expires:    int(w.Expires),
		Results:    w.Results,
		ParentRefs: w.ParentRefs,
		CreatedOn:  w.CreatedOn.time(),
		ModifiedOn: w.ModifiedOn.ptr(),
	}
	if w.Runs != nil {
		f.Runs = make(map[string]int, len(w.Runs))
		for k, v := range w.Runs {
			f.Runs[k] = int(v)
		}
	}
	return f
}

// UnmarshalJSON decodes a flow tolerantly.
func (f *Flow) UnmarshalJSON(b []byte) error {
	var w wireFlow
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*f = w.api()
	return nil
}

// ---- groups ----

type wireGroup struct {
	UUID   jString     `json:"uuid"`
	Name   jString     `json:"name"`
	Query  jNullString `json:"query"`
	Status jString     `json:"status"`
	System jBool       `json:"system"`
	Count  jInt        `json:"count"`
}

func (w *wireGroup) api() Group {
	return Group{
		UUID:   string(w.UUID),
		Name:   string(w.Name),
		Query:  w.Query.ptr(),
		Status: string(w.Status),
		System: bool(w.System),
		Count:  int(w.Count),
	}
}

// UnmarshalJSON decodes a group tolerantly.
func (g *Group) UnmarshalJSON(b []byte) error {
	var w wireGroup
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*g = w.api()
	return nil
}

// ---- fields ----

type wireField struct {
	Key       jString `json:"key"`
	Name      jString `json:"name"`
	Label     jString `json:"label"`
	Type      jString `json:"type"`
	ValueType jString `json:"value_type"`
}

func (w *wireField) api() Field {
	f := Field{Key: string(w.Key), Name: string(w.Name), Type: string(w.Type)}
	if f.Name == "" {
		f.Name = string(w.Label)
	}
	if f.Type == "" {
		f.Type = string(w.ValueType)
	}
	f.Type = NormaliseFieldType(f.Type)
	return f
}

// UnmarshalJSON decodes a field, falling back to the legacy label and
// value_type and normalising the type.
func (f *Field) UnmarshalJSON(b []byte) error {
	var w wireField
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*f = w.api()
	return nil
}

// NormaliseFieldType maps the field value types of every API generation
// (including "numeric" and the v1 single letters T N D S I W) onto text,
// number, datetime, state, district and ward. Unknown types are lowercased.
func NormaliseFieldType(t string) string {
	switch s := strings.ToLower(strings.TrimSpace(t)); s {
	case "t", "text":
		return "text"
	case "n", "numeric", "number", "decimal":
		return "number"
	case "d", "datetime", "date":
		return "datetime"
	case "s", "state":
		return "state"
	case "i", "district":
		return "district"
	case "w", "ward":
		return "ward"
	default:
		return s
	}
}

// ---- messages ----

type wireMessage struct {
	ID          jInt64       `json:"id"`
	UUID        jString      `json:"uuid"`
	Broadcast   jInt64       `json:"broadcast"`
	Contact     Ref          `json:"contact"`
	URN         jString      `json:"urn"`
	Channel     *Ref         `json:"channel"`
	Direction   jString      `json:"direction"`
	Type        jString      `json:"type"`
	Status      jString      `json:"status"`
	Visibility  jString      `json:"visibility"`
	Archived    *jNullString `json:"archived"`
	Text        jString      `json:"text"`
	Labels      []Ref        `json:"labels"`
	Attachments []Attachment `json:"attachments"`
	Flow        *Ref         `json:"flow"`
	CreatedOn   jTime        `json:"created_on"`
	SentOn      jTime        `json:"sent_on"`
	ModifiedOn  jTime        `json:"modified_on"`
}

func (w *wireMessage) api() Message {
	m := Message{
		ID:          int64(w.ID),
		UUID:        string(w.UUID),
		Broadcast:   int64(w.Broadcast),
		Contact:     w.Contact,
		URN:         string(w.URN),
		Channel:     w.Channel,
		Direction:   string(w.Direction),
		Type:        string(w.Type),
		Status:      string(w.Status),
		Visibility:  string(w.Visibility),
		Text:        string(w.Text),
		Labels:      w.Labels,
		Attachments: w.Attachments,
		Flow:        w.Flow,
		CreatedOn:   w.CreatedOn.time(),
		SentOn:      w.SentOn.ptr(),
		ModifiedOn:  w.ModifiedOn.ptr(),
	}
	if m.Visibility == "" && w.Archived != nil && w.Archived.valid {
		if boolString(w.Archived.s) {
			m.Visibility = "archived"
		} else {
			m.Visibility = "visible"
		}
	}
	return m
}

// UnmarshalJSON decodes a message tolerantly.
func (m *Message) UnmarshalJSON(b []byte) error {
	var w wireMessage
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*m = w.api()
	return nil
}

// UnmarshalJSON accepts {"content_type", "url"} and the old
// "content/type:url" string form.
func (a *Attachment) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var w struct {
			ContentType jString `json:"content_type"`
			URL         jString `json:"url"`
		}
		if err := decodeTolerant(b, &w); err != nil {
			return err
		}
		*a = Attachment{ContentType: string(w.ContentType), URL: string(w.URL)}
		return nil
	}
	s, _ := rawString(b)
	ct, u, ok := strings.Cut(s, ":")
	if !ok || strings.HasPrefix(u, "//") {
		// "http://..." alone: no content type.
		*a = Attachment{URL: s}
		return nil
	}
	*a = Attachment{ContentType: ct, URL: u}
	return nil
}

// ---- broadcasts ----

type wireBroadcast struct {
	ID        jInt64          `json:"id"`
	UUID      jString         `json:"uuid"`
	URNs      []jString       `json:"urns"`
	Contacts  []Ref           `json:"contacts"`
	Groups    []Ref           `json:"groups"`
	Text      json.RawMessage `json:"text"`
	Status    jString         `json:"status"`
	CreatedOn jTime           `json:"created_on"`
}

func (w *wireBroadcast) api() Broadcast {
	b := Broadcast{
		ID:        int64(w.ID),
		UUID:      string(w.UUID),
		URNs:      strs(w.URNs),
		Contacts:  w.Contacts,
		Groups:    w.Groups,
		Status:    string(w.Status),
		CreatedOn: w.CreatedOn.time(),
	}
	raw := bytes.TrimSpace(w.Text)
	switch {
	case len(raw) == 0 || raw[0] == 'n':
	case raw[0] == '{':
		var m map[string]jNullString
		if json.Unmarshal(raw, &m) == nil {
			b.Text = make(map[string]string, len(m))
			for k, v := range m {
				if v.valid {
					b.Text[k] = v.s
				}
			}
		}
	default:
		if s, ok := rawString(raw); ok {
			b.Text = map[string]string{"base": s}
		}
	}
	return b
}

// UnmarshalJSON decodes a broadcast; a plain string text becomes
// {"base": text}.
func (b *Broadcast) UnmarshalJSON(data []byte) error {
	var w wireBroadcast
	if err := decodeTolerant(data, &w); err != nil {
		return err
	}
	*b = w.api()
	return nil
}

// ---- flow starts ----

type wireFlowStart struct {
	ID                  jInt64          `json:"id"`
	UUID                jString         `json:"uuid"`
	Flow                Ref             `json:"flow"`
	Status              jString         `json:"status"`
	Groups              []Ref           `json:"groups"`
	Contacts            []Ref           `json:"contacts"`
	RestartParticipants *jNullString    `json:"restart_participants"`
	ExcludeActive       *jNullString    `json:"exclude_active"`
	Params              json.RawMessage `json:"params"`
	Extra               json.RawMessage `json:"extra"`
	CreatedOn           jTime           `json:"created_on"`
	ModifiedOn          jTime           `json:"modified_on"`
}

func optBool(p *jNullString) *bool {
	if p == nil || !p.valid {
		return nil
	}
	v := boolString(p.s)
	return &v
}

func jsonObject(raw json.RawMessage) map[string]any {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func (w *wireFlowStart) api() FlowStart {
	s := FlowStart{
		ID:                  int64(w.ID),
		UUID:                string(w.UUID),
		Flow:                w.Flow,
		Status:              string(w.Status),
		Groups:              w.Groups,
		Contacts:            w.Contacts,
		RestartParticipants: optBool(w.RestartParticipants),
		ExcludeActive:       optBool(w.ExcludeActive),
		Params:              jsonObject(w.Params),
		CreatedOn:           w.CreatedOn.time(),
		ModifiedOn:          w.ModifiedOn.time(),
	}
	if s.Params == nil {
		s.Params = jsonObject(w.Extra)
	}
	return s
}

// UnmarshalJSON decodes a flow start; Params falls back to "extra".
func (s *FlowStart) UnmarshalJSON(b []byte) error {
	var w wireFlowStart
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*s = w.api()
	return nil
}

// ---- boundaries ----

type wireBoundary struct {
	OSMID    jString         `json:"osm_id"`
	Name     jString         `json:"name"`
	Level    jInt            `json:"level"`
	Parent   json.RawMessage `json:"parent"`
	Aliases  []jString       `json:"aliases"`
	Geometry json.RawMessage `json:"geometry"`
}

func (w *wireBoundary) api() Boundary {
	b := Boundary{
		OSMID:   string(w.OSMID),
		Name:    string(w.Name),
		Level:   int(w.Level),
		Aliases: strs(w.Aliases),
	}
	if g := bytes.TrimSpace(w.Geometry); len(g) > 0 && !bytes.Equal(g, []byte("null")) {
		b.Geometry = json.RawMessage(g)
	}
	p := bytes.TrimSpace(w.Parent)
	switch {
	case len(p) == 0 || p[0] == 'n':
	case p[0] == '{':
		var ref struct {
			OSMID jString `json:"osm_id"`
			Name  jString `json:"name"`
		}
		if decodeTolerant(p, &ref) == nil && ref.OSMID != "" {
			b.Parent = &BoundaryRef{OSMID: string(ref.OSMID), Name: string(ref.Name)}
		}
	default:
		if s, ok := rawString(p); ok && s != "" {
			b.Parent = &BoundaryRef{OSMID: s}
		}
	}
	return b
}

// UnmarshalJSON decodes a boundary; the parent may be an object, a bare
// OSM id or null.
func (b *Boundary) UnmarshalJSON(data []byte) error {
	var w wireBoundary
	if err := decodeTolerant(data, &w); err != nil {
		return err
	}
	*b = w.api()
	return nil
}

// ---- archives ----

type wireArchive struct {
	Type        jString `json:"type"`
	ArchiveType jString `json:"archive_type"`
	StartDate   jString `json:"start_date"`
	Period      jString `json:"period"`
	RecordCount jInt    `json:"record_count"`
	Size        jInt64  `json:"size"`
	Hash        jString `json:"hash"`
	DownloadURL jString `json:"download_url"`
}

func (w *wireArchive) api() Archive {
	a := Archive{
		Type:        string(w.Type),
		StartDate:   string(w.StartDate),
		Period:      string(w.Period),
		RecordCount: int(w.RecordCount),
		Size:        int64(w.Size),
		Hash:        string(w.Hash),
		DownloadURL: string(w.DownloadURL),
	}
	if a.Type == "" {
		a.Type = string(w.ArchiveType)
	}
	return a
}

// UnmarshalJSON decodes an archive; Type falls back to "archive_type".
func (a *Archive) UnmarshalJSON(b []byte) error {
	var w wireArchive
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*a = w.api()
	return nil
}

// ---- org ----

type wireOrg struct {
	UUID            jString   `json:"uuid"`
	Name            jString   `json:"name"`
	Country         jString   `json:"country"`
	Languages       []jString `json:"languages"`
	PrimaryLanguage jString   `json:"primary_language"`
	Timezone        jString   `json:"timezone"`
	DateStyle       jString   `json:"date_style"`
	Anon            jBool     `json:"anon"`
}

func (w *wireOrg) api() Org {
	return Org{
		UUID:            string(w.UUID),
		Name:            string(w.Name),
		Country:         string(w.Country),
		Languages:       strs(w.Languages),
		PrimaryLanguage: string(w.PrimaryLanguage),
		Timezone:        string(w.Timezone),
		DateStyle:       string(w.DateStyle),
		Anon:            bool(w.Anon),
	}
}

// UnmarshalJSON decodes the org tolerantly.
func (o *Org) UnmarshalJSON(b []byte) error {
	var w wireOrg
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*o = w.api()
	return nil
}

// strs converts a decoded list of strings, keeping nil as nil.
func strs(in []jString) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

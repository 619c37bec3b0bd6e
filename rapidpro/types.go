package rapidpro

import (
	"encoding/json"
	"strconv"
	"time"
)

// Page is one page of a list endpoint. Next is the server's "next" URL, to
// store as a resume cursor; it is "" on the last page delivered.
type Page[T any] struct {
	Results []T
	Next    string
}

// Ref is a reference to another object. Name may be empty (null).
type Ref struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// ContactRef is the contact reference carried by runs. URN, URNDisplay and
// AnonDisplay are present on some servers only.
type ContactRef struct {
	UUID        string `json:"uuid"`
	Name        string `json:"name"`
	URN         string `json:"urn,omitempty"`
	URNDisplay  string `json:"urn_display,omitempty"`
	AnonDisplay string `json:"anon_display,omitempty"`
}

// Org is the workspace the token belongs to (org.json).
type Org struct {
	UUID            string   `json:"uuid"`
	Name            string   `json:"name"`
	Country         string   `json:"country"`
	Languages       []string `json:"languages"`
	PrimaryLanguage string   `json:"primary_language"`
	Timezone        string   `json:"timezone"`
	DateStyle       string   `json:"date_style"`
	Anon            bool     `json:"anon"`
}

// Flow is an entry of flows.json.
type Flow struct {
	UUID     string `json:"uuid"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Archived bool   `json:"archived"`
	Labels   []Ref  `json:"labels"`
	// Expires is the expiry in minutes.
	Expires int `json:"expires"`
	// Runs counts runs by state: active, waiting, completed, interrupted,
	// expired, failed (older servers lack some keys).
	Runs       map[string]int `json:"runs"`
	Results    []FlowResult   `json:"results"`
	ParentRefs []Ref          `json:"parent_refs"`
	CreatedOn  time.Time      `json:"created_on"`
	ModifiedOn *time.Time     `json:"modified_on"`
}

// FlowResult describes one result key a flow can write.
type FlowResult struct {
	Key        string   `json:"key"`
	Name       string   `json:"name"`
	Categories []string `json:"categories"`
	NodeUUIDs  []string `json:"node_uuids"`
}

// Group is a contact group. Query is nil for manual groups; smart groups
// (Query != nil) cannot be written into a contact's groups.
type Group struct {
	UUID   string  `json:"uuid"`
	Name   string  `json:"name"`
	Query  *string `json:"query"`
	Status string  `json:"status"`
	System bool    `json:"system"`
	Count  int     `json:"count"`
}

// Field is a contact field. Name falls back to the legacy "label" and Type
// to the legacy "value_type"; Type is normalised to one of text, number,
// datetime, state, district, ward.
type Field struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Contact statuses. StatusDeleted is derived by this package for contacts
// the server returns with a null status (deleted contacts).
const (
	StatusActive   = "active"
	StatusBlocked  = "blocked"
	StatusStopped  = "stopped"
	StatusArchived = "archived"
	StatusDeleted  = "deleted"
)

// Contact is an entry of contacts.json.
type Contact struct {
	UUID     string   `json:"uuid"`
	Name     string   `json:"name"`
	Language string   `json:"language"`
	URNs     []string `json:"urns"`
	Groups   []Ref    `json:"groups"`
	// Fields maps every org field key to its value; numbers and booleans
	// are given in their string form, null is nil.
	Fields map[string]*string `json:"fields"`
	// Status is the server's status, else derived from the legacy
	// blocked/stopped booleans, else "deleted" when the server sent a null
	// status, else "active".
	Status     string     `json:"status"`
	Blocked    bool       `json:"blocked"`
	Stopped    bool       `json:"stopped"`
	Flow       *Ref       `json:"flow"`
	CreatedOn  time.Time  `json:"created_on"`
	ModifiedOn time.Time  `json:"modified_on"`
	LastSeenOn *time.Time `json:"last_seen_on"`
}

// Active reports whether the contact's status is "active".
func (c Contact) Active() bool { return c.Status == StatusActive }

// Run is a flow run (runs.json, run archives).
type Run struct {
	// ID is the legacy integer id (0 on hosted servers).
	ID      int64      `json:"id,omitempty"`
	UUID    string     `json:"uuid"`
	Flow    Ref        `json:"flow"`
	Contact ContactRef `json:"contact"`
	// StartUUID is the flow start that created the run ("" when none).
	StartUUID string     `json:"start_uuid,omitempty"`
	Responded bool       `json:"responded"`
	Path      []PathStep `json:"path"`
	// Values maps result keys to the latest value of each result.
	Values     map[string]RunValue `json:"values"`
	CreatedOn  time.Time           `json:"created_on"`
	ModifiedOn time.Time           `json:"modified_on"`
	ExitedOn   *time.Time          `json:"exited_on"`
	// ExitType is completed, interrupted, expired, failed or "" while the
	// run is active.
	ExitType string `json:"exit_type"`
}

// Key returns the run's stable identity: its UUID, else its integer id.
func (r Run) Key() string {
	if r.UUID != "" {
		return r.UUID
	}
	return strconv.FormatInt(r.ID, 10)
}

// PathStep is one node visit of a run.
type PathStep struct {
	Node string    `json:"node"`
	Time time.Time `json:"time"`
}

// RunValue is one result of a run.
type RunValue struct {
	// Name is the result's display name ("" on old servers).
	Name string `json:"name"`
	// Value is the parsed value; JSON numbers are given in string form.
	Value string `json:"value"`
	// Category is nil when the result has none. Legacy localized
	// categories are reduced to their "base" entry, else the first one.
	Category *string   `json:"category"`
	Node     string    `json:"node"`
	Time     time.Time `json:"time"`
	// Input is the raw text, when the server still sends it.
	Input *string `json:"input,omitempty"`
}

// Message is an entry of messages.json or a message archive.
type Message struct {
	ID        int64  `json:"id,omitempty"`
	UUID      string `json:"uuid,omitempty"`
	Broadcast int64  `json:"broadcast,omitempty"`
	Contact   Ref    `json:"contact"`
	URN       string `json:"urn"`
	Channel   *Ref   `json:"channel"`
	Direction string `json:"direction"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	// Visibility is visible or archived; derived from the legacy
	// "archived" boolean when absent.
	Visibility  string       `json:"visibility"`
	Text        string       `json:"text"`
	Labels      []Ref        `json:"labels"`
	Attachments []Attachment `json:"attachments"`
	Flow        *Ref         `json:"flow"`
	CreatedOn   time.Time    `json:"created_on"`
	SentOn      *time.Time   `json:"sent_on"`
	ModifiedOn  *time.Time   `json:"modified_on"`
}

// Key returns the message's identity: its UUID, else its integer id.
func (m Message) Key() string {
	if m.UUID != "" {
		return m.UUID
	}
	return strconv.FormatInt(m.ID, 10)
}

// Attachment is a message attachment.
type Attachment struct {
	ContentType string `json:"content_type"`
	URL         string `json:"url"`
}

// Broadcast is an entry of broadcasts.json.
type Broadcast struct {
	ID       int64    `json:"id,omitempty"`
	UUID     string   `json:"uuid,omitempty"`
	URNs     []string `json:"urns"`
	Contacts []Ref    `json:"contacts"`
	Groups   []Ref    `json:"groups"`
	// Text maps languages to text; a plain string text is stored under
	// the key "base".
	Text      map[string]string `json:"text"`
	Status    string            `json:"status"`
	CreatedOn time.Time         `json:"created_on"`
}

// Key returns the broadcast's identity: its UUID, else its integer id.
func (b Broadcast) Key() string {
	if b.UUID != "" {
		return b.UUID
	}
	return strconv.FormatInt(b.ID, 10)
}

// FlowStart is an entry of flow_starts.json (also the POST answer).
type FlowStart struct {
	ID                  int64  `json:"id,omitempty"`
	UUID                string `json:"uuid"`
	Flow                Ref    `json:"flow"`
	Status              string `json:"status"`
	Groups              []Ref  `json:"groups"`
	Contacts            []Ref  `json:"contacts"`
	RestartParticipants *bool  `json:"restart_participants,omitempty"`
	ExcludeActive       *bool  `json:"exclude_active,omitempty"`
	// Params is "params", else the legacy "extra".
	Params     map[string]any `json:"params"`
	CreatedOn  time.Time      `json:"created_on"`
	ModifiedOn time.Time      `json:"modified_on"`
}

// Boundary is an administrative boundary (boundaries.json).
type Boundary struct {
	OSMID   string       `json:"osm_id"`
	Name    string       `json:"name"`
	Level   int          `json:"level"`
	Parent  *BoundaryRef `json:"parent"`
	Aliases []string     `json:"aliases"`
	// Geometry is the GeoJSON geometry, nil when the server sent null.
	Geometry json.RawMessage `json:"geometry"`
}

// BoundaryRef references a parent boundary. Very old servers send only
// the OSM id.
type BoundaryRef struct {
	OSMID string `json:"osm_id"`
	Name  string `json:"name"`
}

// Archive is an entry of archives.json.
type Archive struct {
	// Type is "run" or "message" (from "type", else "archive_type").
	Type string `json:"type"`
	// StartDate is a date, YYYY-MM-DD.
	StartDate   string `json:"start_date"`
	Period      string `json:"period"`
	RecordCount int    `json:"record_count"`
	// Size is the size of the gzip file in bytes.
	Size int64 `json:"size"`
	// Hash is the hex MD5 of the gzip file.
	Hash        string `json:"hash"`
	DownloadURL string `json:"download_url"`
}

// ContactWrite is the body of a contact create or update. Nil fields are
// not sent, so an update leaves them unchanged. URNs and Fields are sent
// when non-empty (URNs replace all URNs; Fields merge, "" clears a field).
// Groups is sent whenever it is non-nil, even empty: groups=[] removes the
// contact from every manual group.
type ContactWrite struct {
	Name     *string
	Language *string
	URNs     []string
	Fields   map[string]string
	Groups   []string
}

// MarshalJSON encodes the write body following the rules above.
func (w ContactWrite) MarshalJSON() ([]byte, error) {
	body := struct {
		Name     *string           `json:"name,omitempty"`
		Language *string           `json:"language,omitempty"`
		URNs     []string          `json:"urns,omitempty"`
		Fields   map[string]string `json:"fields,omitempty"`
		Groups   *[]string         `json:"groups,omitempty"`
	}{Name: w.Name, Language: w.Language, URNs: w.URNs, Fields: w.Fields}
	if w.Groups != nil {
		g := w.Groups
		body.Groups = &g
	}
	return json.Marshal(body)
}

// BroadcastWrite is the body of a broadcast send. At least one of
// Contacts (UUIDs or URNs), URNs and Groups is required, each ≤ 100.
type BroadcastWrite struct {
	Text     string   `json:"text"`
	Contacts []string `json:"contacts,omitempty"`
	URNs     []string `json:"urns,omitempty"`
	Groups   []string `json:"groups,omitempty"`
}

// FlowStartWrite is the body of a flow start. Nil options are not sent, so
// the server defaults apply (restart_participants=true, exclude_active=false).
type FlowStartWrite struct {
	Flow                string         `json:"flow"`
	Contacts            []string       `json:"contacts,omitempty"`
	Groups              []string       `json:"groups,omitempty"`
	URNs                []string       `json:"urns,omitempty"`
	RestartParticipants *bool          `json:"restart_participants,omitempty"`
	ExcludeActive       *bool          `json:"exclude_active,omitempty"`
	Params              map[string]any `json:"params,omitempty"`
	// Extra is the deprecated alias of Params, the only name servers before
	// params know; a server that knows both takes params.
	Extra map[string]any `json:"extra,omitempty"`
}

// FlowDefinition is a flow definition reduced to its questions.
type FlowDefinition struct {
	UUID        string
	Name        string
	SpecVersion string
	Questions   []QuestionDef
}

// Question types.
const (
	QuestionOpen        = "open"
	QuestionNumeric     = "numeric"
	QuestionCategorical = "categorical"
)

// QuestionDef is one result-writing router (spec 13) or rule set (legacy).
type QuestionDef struct {
	// UUID is the router node UUID (spec 13) or the rule set UUID (legacy);
	// run values carry it as their node.
	UUID string
	// ResultKey is the snake_case result key runs use in their values.
	ResultKey string
	// Label is the result name as written in the flow.
	Label string
	// Order is the 0-based position among the flow's questions.
	Order int
	// Rules are the router's cases, without the default (Other), the
	// timeout (No Response) and catch-all categories.
	Rules []Rule
	// Categories lists every category name in order.
	Categories []string
	// Type is QuestionOpen, QuestionNumeric or QuestionCategorical.
	Type string
}

// Rule is one case of a router. Numeric tests are normalised to number,
// between, eq, lt, lte, gt, gte; other tests keep their raw type.
type Rule struct {
	Category string
	Test     string
	Args     []string
}

// Query types: the zero value of each field means "not sent". Resume, when
// set, is a stored "next" URL fetched verbatim instead of building a query.

// RunQuery filters runs.json.
type RunQuery struct {
	UUID, Flow, Contact string
	Responded           *bool
	After, Before       time.Time
	Reverse             bool
	Paths               *bool
	Resume              string
}

// ContactQuery filters contacts.json.
type ContactQuery struct {
	UUID, URN, Group string
	Deleted          bool
	After, Before    time.Time
	Reverse          bool
	Resume           string
}

// FlowQuery filters flows.json.
type FlowQuery struct {
	UUID, Type    string
	Archived      *bool
	After, Before time.Time
	Resume        string
}

// GroupQuery filters groups.json.
type GroupQuery struct {
	UUID, Name string
	Resume     string
}

// FieldQuery filters fields.json.
type FieldQuery struct {
	Key    string
	Resume string
}

// MessageQuery filters messages.json. A UUID made only of digits is sent
// as the legacy "id" parameter.
type MessageQuery struct {
	UUID, Folder, Contact, Label, Broadcast string
	After, Before                           time.Time
	Resume                                  string
}

// BroadcastQuery filters broadcasts.json. A UUID made only of digits is
// sent as the legacy "id" parameter.
type BroadcastQuery struct {
	UUID          string
	After, Before time.Time
	Resume        string
}

// FlowStartQuery filters flow_starts.json.
type FlowStartQuery struct {
	UUID          string
	After, Before time.Time
	Resume        string
}

// BoundaryQuery filters boundaries.json; Geometry asks for GeoJSON shapes.
type BoundaryQuery struct {
	Geometry bool
	Resume   string
}

// ArchiveQuery filters archives.json. After and Before are sent as dates.
type ArchiveQuery struct {
	Type, Period  string
	After, Before time.Time
	Resume        string
}

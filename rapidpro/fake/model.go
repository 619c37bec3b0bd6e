// Package fake is a RapidPro API v2 simulator: an in-memory org served over HTTP with
// the pagination, filtering, throttling and failure behaviour of the real server
// (see shared/RAPIDPRO.md §6). Tests drive it in-process; `tracpro fake-rapidpro`
// and `tracpro demo` run it as a server.
package fake

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Clock is the simulator's controllable time source. Times are truncated to
// microseconds, as RapidPro stores them. A frozen clock returns the same instant
// on every call, which produces exact modified_on ties on demand.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen bool
	at     time.Time
	last   time.Time
}

// NewClock returns a clock running at real time.
func NewClock() *Clock { return &Clock{} }

// Now returns the simulated current time (UTC, microsecond precision). While the
// clock runs, successive calls never go backwards.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.at
	}
	t := time.Now().Add(c.offset).UTC().Truncate(time.Microsecond)
	if !t.After(c.last) {
		t = c.last.Add(time.Microsecond)
	}
	c.last = t
	return t
}

// Set moves the clock to t; if frozen it stays there.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t = t.UTC().Truncate(time.Microsecond)
	c.offset = time.Until(t)
	c.at = t
	c.last = time.Time{}
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	c.at = c.at.Add(d)
}

// Freeze stops the clock at its current instant.
func (c *Clock) Freeze() {
	now := c.Now()
	c.mu.Lock()
	c.frozen, c.at = true, now
	c.mu.Unlock()
}

// Unfreeze lets the clock run again from where it was frozen.
func (c *Clock) Unfreeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.offset = time.Until(c.at)
		c.frozen = false
	}
}

// OrgInfo is what org.json / workspace.json describes.
type OrgInfo struct {
	UUID      string
	Name      string
	Country   string
	Languages []string
	Timezone  string
	DateStyle string
	Anon      bool
}

// Group is a contact group; Query is "" for manual groups.
type Group struct {
	ID        int64
	UUID      string
	Name      string
	Query     string
	System    bool
	CreatedOn time.Time
}

// Field is a contact field definition. Type is one of text, number, datetime,
// state, district, ward.
type Field struct {
	ID        int64
	Key       string
	Name      string
	Type      string
	CreatedOn time.Time
}

// Contact is a RapidPro contact. Fields holds set values only (a missing key is
// serialised as null). Groups holds group UUIDs.
type Contact struct {
	ID         int64
	UUID       string
	Name       string
	Language   string
	URNs       []string
	Groups     []string
	Fields     map[string]string
	Status     string // active, blocked, stopped, archived
	Deleted    bool
	CreatedOn  time.Time
	ModifiedOn time.Time
	LastSeenOn *time.Time
	// HiddenUntil makes the record invisible to the API before that instant
	// (late visibility: a slow commit with a past modified_on).
	HiddenUntil time.Time
}

// QuestionKind says how a flow result is routed.
type QuestionKind string

// The kinds of flow results the generator produces.
const (
	KindNumeric     QuestionKind = "numeric"     // has_number_between cases
	KindCategorical QuestionKind = "categorical" // has_any_word cases
	KindOpen        QuestionKind = "open"        // single "All Responses" category
	KindCalculated  QuestionKind = "calculated"  // no wait; operand is an expression; numeric cases
)

// Case is one router case of a question: a goflow test with its arguments and
// the category it routes to.
type Case struct {
	UUID      string
	Type      string // e.g. has_number_between, has_any_word
	Arguments []string
	Category  string
}

// Question is one result-writing router node of a flow.
type Question struct {
	NodeUUID   string
	Key        string // result key (snake_case of Name)
	Name       string // result name
	Prompt     string // the message sent before waiting
	Kind       QuestionKind
	Cases      []Case
	Categories []string // every category in order, incl. "Other"/"All Responses"
	Operand    string   // "@input.text" for waits, an expression for calculated values
}

// Flow is a RapidPro flow with the questions its definition holds.
type Flow struct {
	ID         int64
	UUID       string
	Name       string
	Type       string // message, voice, background, survey
	Archived   bool
	Expires    int // minutes
	Questions  []*Question
	Language   string
	CreatedOn  time.Time
	ModifiedOn time.Time
}

// Step is one node visit of a run's path.
type Step struct {
	Node string
	Time time.Time
}

// Value is one result of a run.
type Value struct {
	Name     string
	Value    string
	Category *string
	Node     string
	Time     time.Time
	Input    string
}

// Run is one contact's pass through a flow.
type Run struct {
	ID          int64
	UUID        string
	FlowUUID    string
	ContactUUID string
	StartUUID   string
	Responded   bool
	Path        []Step
	Values      map[string]*Value
	CreatedOn   time.Time
	ModifiedOn  time.Time
	ExitedOn    *time.Time
	ExitType    string // completed, interrupted, expired, failed, or "" while active
	HiddenUntil time.Time
	Archived    bool // moved into an archive: no longer served by runs.json
}

// Message is one message in or out.
type Message struct {
	ID          int64
	UUID        string
	BroadcastID int64
	ContactUUID string
	URN         string
	Direction   string // in, out
	Type        string // text, voice
	Status      string
	Visibility  string // visible, archived
	Text        string
	FlowUUID    string
	Labels      []string
	CreatedOn   time.Time
	SentOn      *time.Time
	ModifiedOn  *time.Time
	Archived    bool // moved into an archive
}

// Broadcast is a message sent to contacts, URNs or groups.
type Broadcast struct {
	ID        int64
	UUID      string
	URNs      []string
	Contacts  []string
	Groups    []string
	Text      string
	Status    string
	CreatedOn time.Time
}

// FlowStart is a request to start a flow for contacts/groups/URNs. Runs created
// by it carry its UUID in Run.StartUUID.
type FlowStart struct {
	ID                  int64
	UUID                string
	FlowUUID            string
	Groups              []string
	Contacts            []string
	URNs                []string
	RestartParticipants bool
	ExcludeActive       bool
	Params              map[string]any
	// System marks a start made by a flow or a trigger (no creator): the
	// real server leaves those out of GET flow_starts.json.
	System     bool
	Status     string // pending, starting, complete, failed
	CreatedOn  time.Time
	ModifiedOn time.Time
}

// Boundary is an administrative boundary (OSM id) with its GeoJSON geometry.
type Boundary struct {
	OSMID    string
	Name     string
	Level    int
	Parent   string // parent OSMID or ""
	Aliases  []string
	Geometry json.RawMessage
}

// Archive is a gzipped JSON-lines blob of runs or messages.
type Archive struct {
	Type        string // run, message
	StartDate   string // YYYY-MM-DD
	Period      string // daily, monthly
	RecordCount int
	Data        []byte // gzip of JSON lines
	Hash        string // hex MD5 of Data
	Token       string // random token in the download URL
	ExpiresAt   time.Time
	Rolled      bool // a daily rolled into a monthly: not listed
}

// Store is the simulator's state: one org. Every field is guarded by Mu; use
// Read and Write. Mutation helpers bump modified_on from Clock and the Version
// counter (indexes built by the server are rebuilt when Version changes).
type Store struct {
	Mu      sync.RWMutex
	Clock   *Clock
	Version uint64
	nextID  int64

	Org        OrgInfo
	Groups     []*Group
	Fields     []*Field
	Contacts   []*Contact // in ID order
	Flows      []*Flow
	Runs       []*Run // in ID order
	Messages   []*Message
	Broadcasts []*Broadcast
	FlowStarts []*FlowStart
	Boundaries []*Boundary
	Archives   []*Archive

	ContactsByUUID map[string]*Contact
	RunsByUUID     map[string]*Run
	FlowsByUUID    map[string]*Flow
	GroupsByUUID   map[string]*Group
}

// NewStore returns an empty store using clock (a new real-time clock if nil).
func NewStore(clock *Clock) *Store {
	if clock == nil {
		clock = NewClock()
	}
	return &Store{
		Clock:          clock,
		Org:            OrgInfo{UUID: uuid.NewString(), Name: "Simulated Org", Country: "RW", Languages: []string{"eng"}, Timezone: "UTC", DateStyle: "day_first"},
		ContactsByUUID: map[string]*Contact{},
		RunsByUUID:     map[string]*Run{},
		FlowsByUUID:    map[string]*Flow{},
		GroupsByUUID:   map[string]*Group{},
	}
}

// Read runs fn under the read lock.
func (s *Store) Read(fn func()) {
	s.Mu.RLock()
	defer s.Mu.RUnlock()
	fn()
}

// Write runs fn under the write lock and bumps Version.
func (s *Store) Write(fn func()) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	fn()
	s.Version++
}

// NextID allocates an integer id. Call with the write lock held.
func (s *Store) NextID() int64 {
	s.nextID++
	return s.nextID
}

// AddGroup stores g, filling ID, UUID and CreatedOn when unset. Write lock held.
func (s *Store) AddGroup(g *Group) *Group {
	if g.ID == 0 {
		g.ID = s.NextID()
	}
	if g.UUID == "" {
		g.UUID = uuid.NewString()
	}
	if g.CreatedOn.IsZero() {
		g.CreatedOn = s.Clock.Now()
	}
	s.Groups = append(s.Groups, g)
	s.GroupsByUUID[g.UUID] = g
	return g
}

// AddField stores f. Write lock held.
func (s *Store) AddField(f *Field) *Field {
	if f.ID == 0 {
		f.ID = s.NextID()
	}
	if f.CreatedOn.IsZero() {
		f.CreatedOn = s.Clock.Now()
	}
	s.Fields = append(s.Fields, f)
	return f
}

// AddContact stores c, filling ID, UUID, Status and dates when unset. Write lock held.
func (s *Store) AddContact(c *Contact) *Contact {
	if c.ID == 0 {
		c.ID = s.NextID()
	}
	if c.UUID == "" {
		c.UUID = uuid.NewString()
	}
	if c.Status == "" {
		c.Status = "active"
	}
	if c.Fields == nil {
		c.Fields = map[string]string{}
	}
	now := s.Clock.Now()
	if c.CreatedOn.IsZero() {
		c.CreatedOn = now
	}
	if c.ModifiedOn.IsZero() {
		c.ModifiedOn = c.CreatedOn
	}
	s.Contacts = append(s.Contacts, c)
	s.ContactsByUUID[c.UUID] = c
	return c
}

// TouchContact applies fn to the contact and bumps its modified_on. Write lock held.
// It reports false when no such contact exists.
func (s *Store) TouchContact(uuid string, fn func(*Contact)) bool {
	c := s.ContactsByUUID[uuid]
	if c == nil {
		return false
	}
	fn(c)
	c.ModifiedOn = s.Clock.Now()
	return true
}

// AddFlow stores f. Write lock held.
func (s *Store) AddFlow(f *Flow) *Flow {
	if f.ID == 0 {
		f.ID = s.NextID()
	}
	if f.UUID == "" {
		f.UUID = uuid.NewString()
	}
	if f.Type == "" {
		f.Type = "message"
	}
	now := s.Clock.Now()
	if f.CreatedOn.IsZero() {
		f.CreatedOn = now
	}
	if f.ModifiedOn.IsZero() {
		f.ModifiedOn = f.CreatedOn
	}
	s.Flows = append(s.Flows, f)
	s.FlowsByUUID[f.UUID] = f
	return f
}

// AddRun stores r, filling ID, UUID and dates when unset. Write lock held.
func (s *Store) AddRun(r *Run) *Run {
	if r.ID == 0 {
		r.ID = s.NextID()
	}
	if r.UUID == "" {
		r.UUID = uuid.NewString()
	}
	if r.Values == nil {
		r.Values = map[string]*Value{}
	}
	now := s.Clock.Now()
	if r.CreatedOn.IsZero() {
		r.CreatedOn = now
	}
	if r.ModifiedOn.IsZero() {
		r.ModifiedOn = r.CreatedOn
	}
	s.Runs = append(s.Runs, r)
	s.RunsByUUID[r.UUID] = r
	return r
}

// TouchRun applies fn to the run and bumps its modified_on. Write lock held.
func (s *Store) TouchRun(uuid string, fn func(*Run)) bool {
	r := s.RunsByUUID[uuid]
	if r == nil {
		return false
	}
	fn(r)
	r.ModifiedOn = s.Clock.Now()
	return true
}

// AddMessage stores m. Write lock held.
func (s *Store) AddMessage(m *Message) *Message {
	if m.ID == 0 {
		m.ID = s.NextID()
	}
	if m.UUID == "" {
		m.UUID = uuid.NewString()
	}
	if m.Visibility == "" {
		m.Visibility = "visible"
	}
	if m.Type == "" {
		m.Type = "text"
	}
	if m.CreatedOn.IsZero() {
		m.CreatedOn = s.Clock.Now()
	}
	s.Messages = append(s.Messages, m)
	return m
}

// AddBroadcast stores b. Write lock held.
func (s *Store) AddBroadcast(b *Broadcast) *Broadcast {
	if b.ID == 0 {
		b.ID = s.NextID()
	}
	if b.UUID == "" {
		b.UUID = uuid.NewString()
	}
	if b.CreatedOn.IsZero() {
		b.CreatedOn = s.Clock.Now()
	}
	s.Broadcasts = append(s.Broadcasts, b)
	return b
}

// AddFlowStart stores fs. Write lock held.
func (s *Store) AddFlowStart(fs *FlowStart) *FlowStart {
	if fs.ID == 0 {
		fs.ID = s.NextID()
	}
	if fs.UUID == "" {
		fs.UUID = uuid.NewString()
	}
	if fs.Status == "" {
		fs.Status = "pending"
	}
	now := s.Clock.Now()
	if fs.CreatedOn.IsZero() {
		fs.CreatedOn = now
	}
	if fs.ModifiedOn.IsZero() {
		fs.ModifiedOn = fs.CreatedOn
	}
	s.FlowStarts = append(s.FlowStarts, fs)
	return fs
}

// AddBoundary stores b. Write lock held.
func (s *Store) AddBoundary(b *Boundary) *Boundary {
	s.Boundaries = append(s.Boundaries, b)
	return b
}

// GroupByName returns the group with that exact name, or nil. Lock held.
func (s *Store) GroupByName(name string) *Group {
	for _, g := range s.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

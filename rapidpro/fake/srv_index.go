package fake

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// svLazy caches a value derived from the store, rebuilt when Store.Version moves.
type svLazy[T any] struct {
	mu      sync.Mutex
	version uint64
	built   bool
	val     T
}

// get returns the cached value for version, building it if stale (build gets
// the stale value, the zero value at first). The caller holds the store read lock.
func (l *svLazy[T]) get(version uint64, build func(old T) T) T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.built || l.version != version {
		l.val = build(l.val)
		l.version, l.built = version, true
	}
	return l.val
}

// svIndexes are the per-endpoint sorted views of the store.
type svIndexes struct {
	runs     svLazy[*runIndex]
	contacts svLazy[*contactIndex]
	msgs     svLazy[*msgIndex]
	flows    svLazy[*flowIndex]
	misc     svLazy[*miscIndex]
}

// svSortDesc returns the items of src passing include, sorted by (key, id)
// descending.
func svSortDesc[T any](src []T, include func(T) bool, key, id func(T) int64) []T {
	type ent struct {
		k, id int64
		v     T
	}
	es := make([]ent, 0, len(src))
	for _, v := range src {
		if include == nil || include(v) {
			es = append(es, ent{key(v), id(v), v})
		}
	}
	slices.SortFunc(es, func(a, b ent) int {
		if a.k != b.k {
			return cmp.Compare(b.k, a.k)
		}
		return cmp.Compare(b.id, a.id)
	})
	out := make([]T, len(es))
	for i := range es {
		out[i] = es[i].v
	}
	return out
}

// runIndex holds live runs by (-modified_on, -id). byFlow and byContact are
// derived lazily from all.
type runIndex struct {
	all  []*Run
	pos  []int32 // pos[i]: index of all[i] in Store.Runs
	keys []int64 // keys[j]: modified_on of Store.Runs[j] at build time, svExcluded when archived
	runs []*Run  // Store.Runs at build time, to check the incremental rebuild applies

	mu        sync.Mutex
	byFlow    map[string][]*Run
	byContact map[string][]*Run
}

// svExcluded marks a run left out of the index.
const svExcluded = int64(-1 << 63)

func (s *Server) runIdx() *runIndex {
	st := s.store
	return s.idx.runs.get(st.Version, func(old *runIndex) *runIndex { return svBuildRuns(st.Runs, old) })
}

// flow returns the indexed runs of one flow.
func (ix *runIndex) flow(uuid string) []*Run {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.byFlow == nil {
		ix.byFlow = map[string][]*Run{}
	}
	l, ok := ix.byFlow[uuid]
	if !ok {
		for _, r := range ix.all {
			if r.FlowUUID == uuid {
				l = append(l, r)
			}
		}
		ix.byFlow[uuid] = l
	}
	return l
}

// contact returns the indexed runs of one contact.
func (ix *runIndex) contact(uuid string) []*Run {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.byContact == nil {
		ix.byContact = map[string][]*Run{}
		for _, r := range ix.all {
			ix.byContact[r.ContactUUID] = append(ix.byContact[r.ContactUUID], r)
		}
	}
	return ix.byContact[uuid]
}

// svRunBefore reports whether run a sorts before run b in (-key, -id) order.
func svRunBefore(ka, kb int64, a, b *Run) bool {
	if ka != kb {
		return ka > kb
	}
	return a.ID > b.ID
}

// svBuildRuns indexes runs. When old indexed a prefix of the same slice and
// few runs changed since, it merges the changes into old in O(n) instead of
// sorting everything again.
func svBuildRuns(runs []*Run, old *runIndex) *runIndex {
	n := len(runs)
	keys := make([]int64, n)
	for j, r := range runs {
		if r.Archived {
			keys[j] = svExcluded
		} else {
			keys[j] = r.ModifiedOn.UnixMicro()
		}
	}
	ix := &runIndex{keys: keys, runs: runs}
	incremental := old != nil && len(old.keys) <= n && n < 1<<31
	if incremental {
		for j := range old.keys {
			if old.runs[j] != runs[j] {
				incremental = false
				break
			}
		}
	}
	var changed []int32
	if incremental {
		for j := range keys {
			if j >= len(old.keys) || keys[j] != old.keys[j] {
				changed = append(changed, int32(j))
			}
		}
		incremental = len(changed) <= n/8
	}
	if !incremental {
		type ent struct {
			k, id int64
			j     int32
		}
		es := make([]ent, 0, n)
		for j, r := range runs {
			if keys[j] != svExcluded {
				es = append(es, ent{keys[j], r.ID, int32(j)})
			}
		}
		slices.SortFunc(es, func(a, b ent) int {
			if a.k != b.k {
				return cmp.Compare(b.k, a.k)
			}
			return cmp.Compare(b.id, a.id)
		})
		ix.all, ix.pos = make([]*Run, len(es)), make([]int32, len(es))
		for i, e := range es {
			ix.all[i], ix.pos[i] = runs[e.j], e.j
		}
		return ix
	}
	if len(changed) == 0 {
		ix.all, ix.pos = old.all, old.pos
		return ix
	}
	isChanged := make([]bool, n)
	var ins []int32
	for _, j := range changed {
		isChanged[j] = true
		if keys[j] != svExcluded {
			ins = append(ins, j)
		}
	}
	slices.SortFunc(ins, func(a, b int32) int {
		if svRunBefore(keys[a], keys[b], runs[a], runs[b]) {
			return -1
		}
		return 1
	})
	ix.all = make([]*Run, 0, len(old.all)+len(ins))
	ix.pos = make([]int32, 0, len(old.all)+len(ins))
	k := 0
	for i, j := range old.pos {
		if isChanged[j] {
			continue
		}
		for k < len(ins) && svRunBefore(keys[ins[k]], keys[j], runs[ins[k]], old.all[i]) {
			ix.all, ix.pos = append(ix.all, runs[ins[k]]), append(ix.pos, ins[k])
			k++
		}
		ix.all, ix.pos = append(ix.all, old.all[i]), append(ix.pos, j)
	}
	for ; k < len(ins); k++ {
		ix.all, ix.pos = append(ix.all, runs[ins[k]]), append(ix.pos, ins[k])
	}
	return ix
}

// contactIndex holds contacts by (-modified_on, -id), plus derived lookups.
type contactIndex struct {
	live, deleted []*Contact
	activeFlow    map[string]string   // contact UUID -> flow UUID of its newest unexited run
	byURN         map[string]*Contact // URN -> live contact
}

func (s *Server) contactIdx() *contactIndex {
	st := s.store
	return s.idx.contacts.get(st.Version, func(*contactIndex) *contactIndex {
		key := func(c *Contact) int64 { return c.ModifiedOn.UnixMicro() }
		id := func(c *Contact) int64 { return c.ID }
		ix := &contactIndex{
			live:       svSortDesc(st.Contacts, func(c *Contact) bool { return !c.Deleted }, key, id),
			deleted:    svSortDesc(st.Contacts, func(c *Contact) bool { return c.Deleted }, key, id),
			activeFlow: map[string]string{},
			byURN:      map[string]*Contact{},
		}
		best := map[string]*Run{}
		for _, r := range st.Runs {
			if r.ExitType == "" && !r.Archived {
				if b := best[r.ContactUUID]; b == nil || r.ModifiedOn.After(b.ModifiedOn) {
					best[r.ContactUUID] = r
				}
			}
		}
		for k, r := range best {
			ix.activeFlow[k] = r.FlowUUID
		}
		for _, c := range ix.live {
			for _, u := range c.URNs {
				ix.byURN[u] = c
			}
		}
		return ix
	})
}

// msgIndex holds messages (not archived away, not deleted) in the three
// orderings the folders use, and the labels in use.
type msgIndex struct {
	byCreated, bySent, byModified []*Message
	labels                        []svLabel
}

// svLabel is a message label derived from message label names.
type svLabel struct {
	name  string
	count int64
}

func svMsgSent(m *Message) int64 {
	if m.SentOn != nil {
		return m.SentOn.UnixMicro()
	}
	return m.CreatedOn.UnixMicro()
}

func svMsgModified(m *Message) int64 {
	if m.ModifiedOn != nil {
		return m.ModifiedOn.UnixMicro()
	}
	return m.CreatedOn.UnixMicro()
}

func (s *Server) msgIdx() *msgIndex {
	st := s.store
	return s.idx.msgs.get(st.Version, func(*msgIndex) *msgIndex {
		inc := func(m *Message) bool { return !m.Archived && m.Visibility != "deleted" }
		id := func(m *Message) int64 { return m.ID }
		ix := &msgIndex{
			byCreated:  svSortDesc(st.Messages, inc, func(m *Message) int64 { return m.CreatedOn.UnixMicro() }, id),
			bySent:     svSortDesc(st.Messages, inc, svMsgSent, id),
			byModified: svSortDesc(st.Messages, inc, svMsgModified, id),
		}
		counts := map[string]int64{}
		var order []string
		for _, m := range ix.byCreated {
			for _, l := range m.Labels {
				if _, ok := counts[l]; !ok {
					order = append(order, l)
				}
				counts[l]++
			}
		}
		slices.SortFunc(order, strings.Compare)
		for _, l := range order {
			ix.labels = append(ix.labels, svLabel{name: l, count: counts[l]})
		}
		return ix
	})
}

// flowIndex holds flows by (-created_on, -id) with their run counts.
type flowIndex struct {
	flows  []*Flow
	counts map[string]flowRunCounts
}

func (s *Server) flowIdx() *flowIndex {
	st := s.store
	return s.idx.flows.get(st.Version, func(*flowIndex) *flowIndex {
		ix := &flowIndex{
			flows: svSortDesc(st.Flows, nil, func(f *Flow) int64 { return f.CreatedOn.UnixMicro() },
				func(f *Flow) int64 { return f.ID }),
			counts: map[string]flowRunCounts{},
		}
		for _, r := range st.Runs {
			c := ix.counts[r.FlowUUID]
			switch r.ExitType {
			case "":
				if len(r.Path) > 0 {
					c.waiting++
				} else {
					c.active++
				}
			case "completed":
				c.completed++
			case "interrupted":
				c.interrupted++
			case "expired":
				c.expired++
			case "failed":
				c.failed++
			}
			ix.counts[r.FlowUUID] = c
		}
		return ix
	})
}

// miscIndex holds the small collections.
type miscIndex struct {
	groups      []*Group
	groupCounts map[string]int64
	fields      []*Field
	broadcasts  []*Broadcast
	starts      []*FlowStart
	boundaries  []*Boundary // osm_id descending
	boundByID   map[string]*Boundary
	archives    []*Archive // start_date descending, listed ones only
}

func (s *Server) miscIdx() *miscIndex {
	st := s.store
	return s.idx.misc.get(st.Version, func(*miscIndex) *miscIndex {
		ix := &miscIndex{
			groups: svSortDesc(st.Groups, nil, func(g *Group) int64 { return g.CreatedOn.UnixMicro() },
				func(g *Group) int64 { return g.ID }),
			groupCounts: map[string]int64{},
			fields: svSortDesc(st.Fields, nil, func(f *Field) int64 { return f.CreatedOn.UnixMicro() },
				func(f *Field) int64 { return f.ID }),
			broadcasts: svSortDesc(st.Broadcasts, nil, func(b *Broadcast) int64 { return b.CreatedOn.UnixMicro() },
				func(b *Broadcast) int64 { return b.ID }),
			starts: svSortDesc(st.FlowStarts, nil, func(f *FlowStart) int64 { return f.ModifiedOn.UnixMicro() },
				func(f *FlowStart) int64 { return f.ID }),
			boundByID: map[string]*Boundary{},
		}
		for _, c := range st.Contacts {
			if c.Deleted {
				continue
			}
			for _, g := range c.Groups {
				ix.groupCounts[g]++
			}
		}
		ix.boundaries = append([]*Boundary(nil), st.Boundaries...)
		slices.SortFunc(ix.boundaries, func(a, b *Boundary) int { return strings.Compare(b.OSMID, a.OSMID) })
		for _, b := range st.Boundaries {
			ix.boundByID[b.OSMID] = b
		}
		type ent struct {
			a *Archive
			i int
		}
		var es []ent
		for i, a := range st.Archives {
			if !a.Rolled {
				es = append(es, ent{a, i})
			}
		}
		slices.SortFunc(es, func(x, y ent) int {
			if c := strings.Compare(y.a.StartDate, x.a.StartDate); c != 0 {
				return c
			}
			return cmp.Compare(y.i, x.i)
		})
		for _, e := range es {
			ix.archives = append(ix.archives, e.a)
		}
		return ix
	})
}

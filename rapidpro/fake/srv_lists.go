package fake

import (
	"sort"
	"strconv"
	"strings"
	"sync"
)

const (
	svBadUUIDDetail = "Value for uuid must be a valid UUID"
	svInvalidCursor = "Invalid cursor"
)

// listPage serves one page of a paged list. The n candidates are sorted
// descending by (first ordering field, id); key gives that field for index i,
// keep filters, write serializes.
func (s *Server) listPage(rc *reqCtx, n int, kind posKind, asc bool, key func(int) sortKey,
	keep func(int) bool, write func(*jbuf, int)) *reply {
	cur, err := decodeCursor(rc.q, kind, s.cfg.OffsetCutoff)
	if err != nil {
		return detailReply(404, svInvalidCursor)
	}
	out := paginate(n, key, keep, pageSpec{size: s.cfg.PageSize, kind: kind, asc: asc, cursor: cur})
	bp := svBufPool.Get().(*[]byte)
	j := &jbuf{b: (*bp)[:0]}
	j.raw(`{"next":`)
	j.strOrNull(cursorLink(rc.r, rc.q, out.next, kind))
	j.raw(`,"previous":`)
	j.strOrNull(cursorLink(rc.r, rc.q, out.prev, kind))
	j.raw(`,"results":[`)
	for k, i := range out.idx {
		if k > 0 {
			j.raw(",")
		}
		write(j, i)
	}
	j.raw("]}")
	raw := ""
	if v := rc.q["cursor"]; len(v) > 0 {
		raw = v[len(v)-1]
	}
	pageNo := s.hooks.pageNumber(rc.name, raw)
	if pageNo > 0 && out.next != nil {
		s.hooks.note(rc.name, out.next.encode(kind), pageNo+1)
	}
	if pageNo > 1 && out.prev != nil {
		s.hooks.note(rc.name, out.prev.encode(kind), pageNo-1)
	}
	return &reply{status: 200, body: j.b, ctype: "application/json", endpoint: rc.name, pageNo: pageNo, pool: bp}
}

// svBufPool recycles page buffers.
var svBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// release returns a pooled body buffer once the reply has been written.
func (r *reply) release() {
	if r.pool != nil && cap(r.body) <= 16<<20 {
		*r.pool = r.body[:0]
		svBufPool.Put(r.pool)
		r.pool, r.body = nil, nil
	}
}

// svTimeRange narrows items (sorted descending by key) to the inclusive range.
func svTimeRange[T any](items []T, rng svRange, key func(T) int64) []T {
	if rng.Empty {
		return nil
	}
	lo, hi := 0, len(items)
	if rng.HasBefore {
		b := rng.Before.UnixMicro()
		lo = sort.Search(len(items), func(i int) bool { return key(items[i]) <= b })
	}
	if rng.HasAfter {
		a := rng.After.UnixMicro()
		hi = sort.Search(len(items), func(i int) bool { return key(items[i]) < a })
	}
	if lo >= hi {
		return nil
	}
	return items[lo:hi]
}

func (s *Server) serCtx(rc *reqCtx) *serCtx {
	p := rc.q.Get("paths")
	return &serCtx{st: s.store, prof: rc.prof, paths: p == "" || svStrToBool(p)}
}

func (s *Server) getRuns(rc *reqCtx) *reply {
	q := rc.q
	if d := svExclusive(q, "contact", "flow"); d != "" {
		return detailReply(400, d)
	}
	if u := q.Get("uuid"); u != "" && !svValidUUID(u) {
		return detailReply(400, svBadUUIDDetail)
	}
	rng := svParseRange(q)
	asc := svStrToBool(q.Get("reverse"))
	responded := svStrToBool(q.Get("responded"))
	var rep *reply
	s.store.Read(func() {
		st := s.store
		ix := s.runIdx()
		items := ix.all
		switch {
		case q.Get("uuid") != "":
			items = nil
			if r := st.RunsByUUID[q.Get("uuid")]; r != nil && !r.Archived {
				items = []*Run{r}
			}
		case q.Get("id") != "":
			items = nil
			if id, err := strconv.ParseInt(q.Get("id"), 10, 64); err == nil {
				k := sort.Search(len(st.Runs), func(i int) bool { return st.Runs[i].ID >= id })
				if k < len(st.Runs) && st.Runs[k].ID == id && !st.Runs[k].Archived {
					items = []*Run{st.Runs[k]}
				}
			}
		}
		single := q.Get("uuid") != "" || q.Get("id") != ""
		flowF, contactF := q.Get("flow"), q.Get("contact")
		if !single && flowF != "" {
			items = ix.flow(flowF)
		} else if !single && contactF != "" {
			items = ix.contact(contactF)
		}
		items = svTimeRange(items, rng, func(r *Run) int64 { return r.ModifiedOn.UnixMicro() })
		now := rc.now
		keep := func(i int) bool {
			r := items[i]
			return !r.HiddenUntil.After(now) && (!responded || r.Responded) &&
				(!single || ((flowF == "" || r.FlowUUID == flowF) && (contactF == "" || r.ContactUUID == contactF)))
		}
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posTime, asc, func(i int) sortKey { return sortKey{t: items[i].ModifiedOn.UnixMicro()} },
			keep, func(j *jbuf, i int) { sc.run(j, items[i]) })
	})
	return rep
}

func (s *Server) getContacts(rc *reqCtx) *reply {
	q := rc.q
	if u := q.Get("uuid"); u != "" && !svValidUUID(u) {
		return detailReply(400, svBadUUIDDetail)
	}
	urn := q.Get("urn")
	if urn != "" {
		n, ok := svNormalizeURN(urn)
		if !ok {
			return detailReply(400, "Invalid URN: "+urn)
		}
		urn = n
	}
	rng := svParseRange(q)
	asc := svStrToBool(q.Get("reverse"))
	deleted := svStrToBool(q.Get("deleted"))
	var rep *reply
	s.store.Read(func() {
		st := s.store
		ix := s.contactIdx()
		items := ix.live
		if deleted {
			items = ix.deleted
		}
		if u := q.Get("uuid"); u != "" {
			items = nil
			if c := st.ContactsByUUID[u]; c != nil && c.Deleted == deleted {
				items = []*Contact{c}
			}
		}
		if urn != "" {
			c := ix.byURN[urn]
			if c == nil || deleted || (len(items) == 1 && items[0] != c) {
				items = nil
			} else {
				items = []*Contact{c}
			}
		}
		group := ""
		if g := q.Get("group"); g != "" {
			grp := st.GroupsByUUID[g]
			if grp == nil {
				grp = st.GroupByName(g)
			}
			if grp == nil || deleted {
				items = nil
			} else {
				group = grp.UUID
			}
		}
		items = svTimeRange(items, rng, func(c *Contact) int64 { return c.ModifiedOn.UnixMicro() })
		now := rc.now
		keep := func(i int) bool {
			c := items[i]
			if c.HiddenUntil.After(now) {
				return false
			}
			if group != "" {
				for _, g := range c.Groups {
					if g == group {
						return true
					}
				}
				return false
			}
			return true
		}
		sc := s.serCtx(rc)
		sc.activeFlow = ix.activeFlow
		rep = s.listPage(rc, len(items), posTime, asc, func(i int) sortKey { return sortKey{t: items[i].ModifiedOn.UnixMicro()} },
			keep, func(j *jbuf, i int) { sc.contact(j, items[i]) })
	})
	return rep
}

// svFolderPredicates are the message folders.
var svFolderPredicates = map[string]func(m *Message) bool{
	"inbox":    func(m *Message) bool { return m.Direction == "in" && m.FlowUUID == "" && m.Visibility == "visible" },
	"flows":    func(m *Message) bool { return m.Direction == "in" && m.FlowUUID != "" && m.Visibility == "visible" },
	"archived": func(m *Message) bool { return m.Direction == "in" && m.Visibility == "archived" },
	"outbox": func(m *Message) bool {
		return m.Direction == "out" && m.Visibility == "visible" &&
			(m.Status == "initializing" || m.Status == "pending" || m.Status == "queued" || m.Status == "errored")
	},
	"sent": func(m *Message) bool {
		return m.Direction == "out" && m.Visibility == "visible" &&
			(m.Status == "wired" || m.Status == "sent" || m.Status == "delivered" || m.Status == "read")
	},
	"failed": func(m *Message) bool {
		return m.Direction == "out" && m.Visibility == "visible" && m.Status == "failed"
	},
	"incoming": func(m *Message) bool { return m.Direction == "in" && m.Visibility == "visible" },
}

func (s *Server) getMessages(rc *reqCtx) *reply {
	q := rc.q
	if d := svExclusive(q, "contact", "folder", "label", "broadcast"); d != "" {
		return detailReply(400, d)
	}
	if u := q.Get("uuid"); u != "" && !svValidUUID(u) {
		return detailReply(400, svBadUUIDDetail)
	}
	rng := svParseRange(q)
	folder := strings.ToLower(q.Get("folder"))
	var rep *reply
	s.store.Read(func() {
		ix := s.msgIdx()
		items, orderKey := ix.byCreated, func(m *Message) int64 { return m.CreatedOn.UnixMicro() }
		switch folder {
		case "sent":
			items, orderKey = ix.bySent, svMsgSent
		case "incoming":
			items, orderKey = ix.byModified, svMsgModified
		}
		pred := svFolderPredicates[folder]
		if folder != "" && pred == nil {
			items = nil
		}
		if folder == "sent" {
			if rng.Empty {
				items = nil
			}
		} else {
			items = svTimeRange(items, rng, orderKey)
		}
		uuidF, idF, contactF, labelF := q.Get("uuid"), q.Get("id"), q.Get("contact"), q.Get("label")
		bcast := int64(-1)
		if b := q.Get("broadcast"); b != "" {
			bcast, _ = strconv.ParseInt(b, 10, 64)
		}
		keep := func(i int) bool {
			m := items[i]
			if pred != nil && !pred(m) {
				return false
			}
			if folder == "sent" && !rng.contains(m.CreatedOn) {
				return false
			}
			if (uuidF != "" && m.UUID != uuidF) || (idF != "" && strconv.FormatInt(m.ID, 10) != idF) ||
				(contactF != "" && m.ContactUUID != contactF) || (bcast >= 0 && m.BroadcastID != bcast) {
				return false
			}
			if labelF != "" {
				for _, l := range m.Labels {
					if l == labelF || svLabelUUID(s.store, l) == labelF {
						return true
					}
				}
				return false
			}
			return true
		}
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posTime, false, func(i int) sortKey { return sortKey{t: orderKey(items[i])} },
			keep, func(j *jbuf, i int) { sc.message(j, items[i]) })
	})
	return rep
}

func (s *Server) getBroadcasts(rc *reqCtx) *reply {
	q := rc.q
	if u := q.Get("uuid"); u != "" && !svValidUUID(u) {
		return detailReply(400, svBadUUIDDetail)
	}
	rng := svParseRange(q)
	var rep *reply
	s.store.Read(func() {
		items := svTimeRange(s.miscIdx().broadcasts, rng, func(b *Broadcast) int64 { return b.CreatedOn.UnixMicro() })
		u, id := q.Get("uuid"), q.Get("id")
		keep := func(i int) bool {
			b := items[i]
			return (u == "" || b.UUID == u) && (id == "" || strconv.FormatInt(b.ID, 10) == id)
		}
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posTime, false, func(i int) sortKey { return timeKey(items[i].CreatedOn) },
			keep, func(j *jbuf, i int) { sc.broadcast(j, items[i]) })
	})
	return rep
}

func (s *Server) getFlowStarts(rc *reqCtx) *reply {
	q := rc.q
	if u := q.Get("uuid"); u != "" && !svValidUUID(u) {
		return detailReply(400, svBadUUIDDetail)
	}
	rng := svParseRange(q)
	asc := svStrToBool(q.Get("reverse"))
	var rep *reply
	s.store.Read(func() {
		items := svTimeRange(s.miscIdx().starts, rng, func(f *FlowStart) int64 { return f.ModifiedOn.UnixMicro() })
		u, id := q.Get("uuid"), q.Get("id")
		keep := func(i int) bool {
			f := items[i]
			return !f.System && (u == "" || f.UUID == u) && (id == "" || strconv.FormatInt(f.ID, 10) == id)
		}
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posTime, asc, func(i int) sortKey { return timeKey(items[i].ModifiedOn) },
			keep, func(j *jbuf, i int) { sc.flowStart(j, items[i]) })
	})
	return rep
}

package fake

import (
	"strings"
)

func (s *Server) getOrg(rc *reqCtx) *reply {
	var j jbuf
	s.store.Read(func() { s.serCtx(rc).org(&j) })
	return &reply{status: 200, body: j.b, ctype: "application/json"}
}

func (s *Server) getFlows(rc *reqCtx) *reply {
	q := rc.q
	if u := q.Get("uuid"); u != "" && !svValidUUID(u) {
		return detailReply(400, svBadUUIDDetail)
	}
	rng := svParseRange(q)
	u, typ := q.Get("uuid"), q.Get("type")
	archived, hasArchived := svStrToBool(q.Get("archived")), q.Get("archived") != ""
	var rep *reply
	s.store.Read(func() {
		ix := s.flowIdx()
		items := ix.flows
		if rng.Empty {
			items = nil
		}
		keep := func(i int) bool {
			f := items[i]
			return (u == "" || f.UUID == u) && (typ == "" || f.Type == typ) &&
				(!hasArchived || f.Archived == archived) && rng.contains(f.ModifiedOn)
		}
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posTime, false, func(i int) sortKey { return timeKey(items[i].CreatedOn) },
			keep, func(j *jbuf, i int) { sc.flow(j, items[i], ix.counts[items[i].UUID]) })
	})
	return rep
}

func (s *Server) getGroups(rc *reqCtx) *reply {
	q := rc.q
	if d := svExclusive(q, "name", "uuid"); d != "" {
		return detailReply(400, d)
	}
	u, name := q.Get("uuid"), q.Get("name")
	var rep *reply
	s.store.Read(func() {
		ix := s.miscIdx()
		items := ix.groups
		keep := func(i int) bool {
			g := items[i]
			return (u == "" || g.UUID == u) && (name == "" || strings.EqualFold(g.Name, name))
		}
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posTime, false, func(i int) sortKey { return timeKey(items[i].CreatedOn) },
			keep, func(j *jbuf, i int) { sc.group(j, items[i], ix.groupCounts[items[i].UUID]) })
	})
	return rep
}

func (s *Server) getFields(rc *reqCtx) *reply {
	key := rc.q.Get("key")
	var rep *reply
	s.store.Read(func() {
		items := s.miscIdx().fields
		keep := func(i int) bool { return key == "" || items[i].Key == key }
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posTime, false, func(i int) sortKey { return timeKey(items[i].CreatedOn) },
			keep, func(j *jbuf, i int) { sc.field(j, items[i]) })
	})
	return rep
}

func (s *Server) getLabels(rc *reqCtx) *reply {
	q := rc.q
	if d := svExclusive(q, "name", "uuid"); d != "" {
		return detailReply(400, d)
	}
	u, name := q.Get("uuid"), q.Get("name")
	var rep *reply
	s.store.Read(func() {
		items := s.msgIdx().labels
		// labels are kept ascending by name; serve them in that order
		n := len(items)
		at := func(i int) svLabel { return items[n-1-i] }
		keep := func(i int) bool {
			l := at(i)
			return (u == "" || svLabelUUID(s.store, l.name) == u) && (name == "" || strings.EqualFold(l.name, name))
		}
		rep = s.listPage(rc, n, posString, true, func(i int) sortKey { return sortKey{s: at(i).name} },
			keep, func(j *jbuf, i int) {
				l := at(i)
				j.raw(`{"uuid":`)
				j.str(svLabelUUID(s.store, l.name))
				j.raw(`,"name":`)
				j.str(l.name)
				j.raw(`,"count":`)
				j.int(l.count)
				j.raw("}")
			})
	})
	return rep
}

func (s *Server) getBoundaries(rc *reqCtx) *reply {
	geometry := svStrToBool(rc.q.Get("geometry"))
	var rep *reply
	s.store.Read(func() {
		ix := s.miscIdx()
		items := ix.boundaries
		if s.store.Org.Country == "" {
			items = nil
		}
		sc := s.serCtx(rc)
		rep = s.listPage(rc, len(items), posString, true, func(i int) sortKey { return sortKey{s: items[i].OSMID} },
			nil, func(j *jbuf, i int) { sc.boundary(j, items[i], ix.boundByID[items[i].Parent], geometry) })
	})
	return rep
}

func (s *Server) getArchives(rc *reqCtx) *reply {
	q := rc.q
	typ := q.Get("type")
	if typ == "" {
		typ = q.Get("archive_type")
	}
	period := q.Get("period")
	rng := svParseRange(q)
	var rep *reply
	s.store.Read(func() {
		items := s.miscIdx().archives
		if rng.Empty {
			items = nil
		}
		after, before := "", ""
		if rng.HasAfter {
			after = rng.After.Format("2006-01-02")
		}
		if rng.HasBefore {
			before = rng.Before.Format("2006-01-02")
		}
		keep := func(i int) bool {
			a := items[i]
			return (typ == "" || a.Type == typ) && (period == "" || a.Period == period) &&
				(after == "" || a.StartDate >= after) && (before == "" || a.StartDate <= before)
		}
		sc := s.serCtx(rc)
		base := svBaseURL(rc.r)
		rep = s.listPage(rc, len(items), posString, false, func(i int) sortKey { return sortKey{s: items[i].StartDate} },
			keep, func(j *jbuf, i int) { sc.archive(j, items[i], base+s.signArchive(items[i], rc.now)) })
	})
	return rep
}

package fake

import (
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"weak"
)

// Write side effects: flow starts move pending -> starting -> complete and
// then create runs; queued broadcasts create outgoing messages that later move
// to sent. The bookkeeping lives in a side table keyed by the store (model.go
// stays untouched); its entries go away with their store. This file also holds
// the generator's inbox and broadcast messages.

// storeExtra is per-store state kept outside Store. It is read and written
// under the store lock.
type storeExtra struct {
	polls   []string // poll flow UUIDs recorded by Generate
	cohorts []string // cohort group UUIDs recorded by Generate

	startsSeen int          // len(s.FlowStarts) already scanned
	bcastsSeen int          // len(s.Broadcasts) already scanned
	starts     []*FlowStart // pending or starting
	bcasts     []*outbound  // queued

	runsSeen  int // len(s.Runs) indexed into byContact
	lastRun   *Run
	byContact map[string][]*Run // contact UUID -> its runs, built on first need
}

// outbound is a queued broadcast and the messages it created.
type outbound struct {
	b       *Broadcast
	msgs    []*Message
	created bool
}

var extras sync.Map // weak.Pointer[Store] -> *storeExtra

// extraFor returns the side table entry of s, creating it on first use.
func extraFor(s *Store) *storeExtra {
	k := weak.Make(s)
	if v, ok := extras.Load(k); ok {
		return v.(*storeExtra)
	}
	v, loaded := extras.LoadOrStore(k, &storeExtra{})
	if !loaded {
		runtime.AddCleanup(s, func(k weak.Pointer[Store]) { extras.Delete(k) }, k)
	}
	return v.(*storeExtra)
}

func (e *storeExtra) pending(s *Store) bool {
	return len(e.starts) > 0 || len(e.bcasts) > 0 || len(s.FlowStarts) != e.startsSeen || len(s.Broadcasts) != e.bcastsSeen
}

// PendingWork reports whether ProcessPending has anything to do. Lock held.
func (s *Store) PendingWork() bool { return extraFor(s).pending(s) }

// ProcessPending advances write side effects at the store clock's now. Called
// by the server under the store WRITE lock (it does not lock). It is cheap when
// nothing is pending.
//
// A FlowStart "pending" for at least startDelay/2 becomes "starting"; after
// startDelay it becomes "complete" and creates one run per target contact
// (Contacts, members of Groups, owners of URNs), skipping deleted, blocked and
// stopped contacts, contacts that ever ran the flow when RestartParticipants is
// false, and contacts with an active run in any flow when ExcludeActive is true.
// A target's active run of the same flow is interrupted. A start of an unknown
// or archived flow fails. A "queued" Broadcast creates one queued outgoing
// message per recipient at once; after startDelay they and it become "sent".
func (s *Store) ProcessPending(startDelay time.Duration) {
	e := extraFor(s)
	if !e.pending(s) {
		return
	}
	e.scan(s)
	now := s.Clock.Now()
	var ready []*FlowStart
	keep := e.starts[:0]
	for _, fs := range e.starts {
		if fs.Status != "pending" && fs.Status != "starting" {
			continue
		}
		age := now.Sub(fs.CreatedOn)
		switch {
		case age >= startDelay:
			ready = append(ready, fs)
			continue
		case age >= startDelay/2 && fs.Status == "pending":
			fs.Status, fs.ModifiedOn = "starting", now
		}
		keep = append(keep, fs)
	}
	clear(e.starts[len(keep):])
	e.starts = keep
	for _, fs := range ready {
		s.completeStart(e, fs, now)
	}
	out := e.bcasts[:0]
	for _, ob := range e.bcasts {
		if ob.b.Status != "queued" {
			continue
		}
		if !ob.created {
			s.createBroadcastMessages(ob, now)
		}
		if now.Sub(ob.b.CreatedOn) >= startDelay {
			for _, m := range ob.msgs {
				if m.Status == "queued" {
					t := now
					m.Status, m.SentOn, m.ModifiedOn = "sent", &t, &t
				}
			}
			ob.b.Status = "sent"
			continue
		}
		out = append(out, ob)
	}
	clear(e.bcasts[len(out):])
	e.bcasts = out
}

// scan picks up flow starts and broadcasts added since the last call.
func (e *storeExtra) scan(s *Store) {
	if len(s.FlowStarts) < e.startsSeen {
		e.startsSeen, e.starts = 0, nil
	}
	for _, fs := range s.FlowStarts[e.startsSeen:] {
		if fs.Status == "pending" || fs.Status == "starting" {
			e.starts = append(e.starts, fs)
		}
	}
	e.startsSeen = len(s.FlowStarts)
	if len(s.Broadcasts) < e.bcastsSeen {
		e.bcastsSeen, e.bcasts = 0, nil
	}
	for _, b := range s.Broadcasts[e.bcastsSeen:] {
		if b.Status == "queued" {
			e.bcasts = append(e.bcasts, &outbound{b: b})
		}
	}
	e.bcastsSeen = len(s.Broadcasts)
}

// indexRuns brings byContact up to date with s.Runs.
func (e *storeExtra) indexRuns(s *Store) {
	runs := s.Runs
	if e.byContact == nil || len(runs) < e.runsSeen || (e.runsSeen > 0 && runs[e.runsSeen-1] != e.lastRun) {
		e.byContact, e.runsSeen = make(map[string][]*Run, len(s.Contacts)), 0
	}
	for _, r := range runs[e.runsSeen:] {
		e.byContact[r.ContactUUID] = append(e.byContact[r.ContactUUID], r)
	}
	e.runsSeen = len(runs)
	if len(runs) > 0 {
		e.lastRun = runs[len(runs)-1]
	}
}

// target is a resolved recipient and the URN to use for it.
type target struct {
	c   *Contact
	urn string
}

// resolve returns the contacts addressed by contact UUIDs (or URNs), group
// UUIDs (or names) and URNs, deduplicated, explicit contacts first.
func (s *Store) resolve(contacts, groups, urns []string) []target {
	var out []target
	seen := map[*Contact]bool{}
	add := func(c *Contact, urn string) {
		if c != nil && !seen[c] {
			seen[c] = true
			if urn == "" && len(c.URNs) > 0 {
				urn = c.URNs[0]
			}
			out = append(out, target{c, urn})
		}
	}
	urnSet := map[string]bool{}
	for _, u := range urns {
		urnSet[u] = true
	}
	for _, ref := range contacts {
		if strings.Contains(ref, ":") {
			urnSet[ref] = true
		} else {
			add(s.ContactsByUUID[ref], "")
		}
	}
	groupSet := map[string]bool{}
	for _, ref := range groups {
		if g := s.GroupsByUUID[ref]; g != nil {
			groupSet[g.UUID] = true
		} else if g := s.GroupByName(ref); g != nil {
			groupSet[g.UUID] = true
		}
	}
	if len(urnSet) == 0 && len(groupSet) == 0 {
		return out
	}
	for _, c := range s.Contacts {
		for _, u := range c.URNs {
			if urnSet[u] {
				add(c, u)
			}
		}
		for _, g := range c.Groups {
			if groupSet[g] {
				add(c, "")
			}
		}
	}
	return out
}

// completeStart creates the runs of a flow start and marks it complete.
func (s *Store) completeStart(e *storeExtra, fs *FlowStart, now time.Time) {
	fs.ModifiedOn = now
	f := s.FlowsByUUID[fs.FlowUUID]
	if f == nil || f.Archived {
		fs.Status = "failed"
		return
	}
	fs.Status = "complete"
	e.indexRuns(s)
	for _, t := range s.resolve(fs.Contacts, fs.Groups, fs.URNs) {
		c := t.c
		if c.Deleted || c.Status != "active" {
			continue
		}
		skip := false
		var same []*Run
		for _, r := range e.byContact[c.UUID] {
			if r.Archived {
				continue
			}
			active := r.ExitType == ""
			if (!fs.RestartParticipants && r.FlowUUID == f.UUID) || (fs.ExcludeActive && active) {
				skip = true
				break
			}
			if active && r.FlowUUID == f.UUID {
				same = append(same, r)
			}
		}
		if skip {
			continue
		}
		for _, r := range same {
			s.TouchRun(r.UUID, func(r *Run) { exitRun(r, "interrupted", now) })
		}
		run := &Run{FlowUUID: f.UUID, ContactUUID: c.UUID, StartUUID: fs.UUID, CreatedOn: now, ModifiedOn: now}
		if len(f.Questions) > 0 {
			run.Path = []Step{{Node: f.Questions[0].NodeUUID, Time: now}}
		} else {
			exitRun(run, "completed", now)
		}
		s.AddRun(run)
		e.indexRuns(s)
	}
}

// createBroadcastMessages creates the queued outgoing messages of a broadcast.
func (s *Store) createBroadcastMessages(ob *outbound, now time.Time) {
	b := ob.b
	for _, t := range s.resolve(b.Contacts, b.Groups, b.URNs) {
		if t.c.Deleted || t.c.Status != "active" {
			continue
		}
		mod := now
		m := &Message{BroadcastID: b.ID, ContactUUID: t.c.UUID, URN: t.urn, Direction: "out", Status: "queued",
			Text: b.Text, CreatedOn: now, ModifiedOn: &mod}
		if t.urn == "" {
			m.Status = "failed"
		}
		ob.msgs = append(ob.msgs, s.AddMessage(m))
	}
	ob.created = true
}

// messages creates inbox messages, replies and weekly reminder broadcasts.
func (g *gen) messages() {
	r := g.r
	if len(g.eligible) == 0 {
		return
	}
	var msgs []*Message
	nIn := min(max(len(g.eligible)/8, 10), 25000)
	for k := 0; k < nIn; k++ {
		ci := g.eligible[r.IntN(len(g.eligible))]
		c := g.contacts[ci]
		at := g.end.Add(-time.Duration(r.Int64N(int64(10*24*time.Hour/time.Microsecond))) * time.Microsecond)
		if !at.After(c.CreatedOn) {
			continue
		}
		mod := at.Add(time.Duration(50+r.IntN(900)) * time.Millisecond)
		m := &Message{UUID: g.ids.next(), ContactUUID: c.UUID, URN: c.URNs[0], Direction: "in", Status: "handled",
			Text: pick(r, inboxPhrases[g.ct[ci].lang]), CreatedOn: at, ModifiedOn: &mod}
		if u := r.Float64(); u < 0.05 {
			m.Visibility = "archived"
		} else if u < 0.1 {
			m.Labels = []string{"Follow Up"}
		}
		if c.LastSeenOn == nil || c.LastSeenOn.Before(at) {
			seen := at
			c.LastSeenOn = &seen
		}
		msgs = append(msgs, m)
		if r.Float64() < 0.25 {
			rt := at.Add(time.Duration(300+r.IntN(6*3600)) * time.Second)
			if rt.Before(g.end) {
				msgs = append(msgs, g.outMsg(c, 0, pick(r, replyPhrases), rt))
			}
		}
	}
	for _, w := range g.weeks {
		at := w.Add(50 * time.Hour)
		if !at.Before(g.end) {
			continue
		}
		b := &Broadcast{UUID: g.ids.next(), Text: "Reminder: please answer this week's school attendance questions.", Status: "sent", CreatedOn: at}
		for k := 0; k < 100 && k < len(g.eligible); k++ {
			b.Contacts = append(b.Contacts, g.contacts[g.eligible[r.IntN(len(g.eligible))]].UUID)
		}
		g.s.AddBroadcast(b)
		seen := map[string]bool{}
		for i, cu := range b.Contacts {
			if !seen[cu] {
				seen[cu] = true
				msgs = append(msgs, g.outMsg(g.s.ContactsByUUID[cu], b.ID, b.Text, at.Add(time.Duration(i)*time.Millisecond)))
			}
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].CreatedOn.Before(msgs[j].CreatedOn) })
	for _, m := range msgs {
		g.s.AddMessage(m)
	}
}

func (g *gen) outMsg(c *Contact, bid int64, text string, at time.Time) *Message {
	sent := at.Add(time.Duration(1+g.r.IntN(20)) * time.Second)
	if sent.After(g.end) {
		sent = g.end
	}
	status := "delivered"
	if u := g.r.Float64(); u < 0.03 {
		status = "failed"
	} else if u < 0.4 {
		status = "sent"
	}
	m := &Message{UUID: g.ids.next(), BroadcastID: bid, ContactUUID: c.UUID, URN: c.URNs[0], Direction: "out",
		Status: status, Text: text, CreatedOn: at, ModifiedOn: &sent}
	if status != "failed" {
		m.SentOn = &sent
	}
	return m
}

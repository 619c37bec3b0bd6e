package fake

import (
	"testing"
	"time"
)

// pendingFixture is a small hand-built org:
//
//	ran    – completed run of flow F before
//	busy   – active run in flow G
//	inF    – active run in flow F
//	member – in group "Team", no runs
//	blocked, gone – blocked and deleted contacts
type pendingFixture struct {
	s                                 *Store
	f, g                              *Flow
	team                              *Group
	ran, busy, inF, member, blk, gone *Contact
	inFRun                            *Run
	t0                                time.Time
}

func newPendingFixture(t *testing.T) *pendingFixture {
	t.Helper()
	clock := NewClock()
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock.Freeze()
	clock.Set(t0) // exact: Set on a frozen clock pins it
	x := &pendingFixture{s: NewStore(clock), t0: t0}
	s := x.s
	s.Write(func() {
		x.team = s.AddGroup(&Group{Name: "Team"})
		q := &Question{NodeUUID: "11111111-1111-4111-8111-111111111111", Key: "q", Name: "Q", Kind: KindOpen, Categories: []string{"All Responses"}}
		x.f = s.AddFlow(&Flow{Name: "F", Expires: 60, Questions: []*Question{q}})
		x.g = s.AddFlow(&Flow{Name: "G", Expires: 60})
		mk := func(name, urn string, groups ...string) *Contact {
			return s.AddContact(&Contact{Name: name, URNs: []string{urn}, Groups: groups})
		}
		x.ran = mk("Ran", "tel:+250780000001", x.team.UUID)
		x.busy = mk("Busy", "tel:+250780000002")
		x.inF = mk("InF", "tel:+250780000003")
		x.member = mk("Member", "tel:+250780000004", x.team.UUID)
		x.blk = mk("Blocked", "tel:+250780000005", x.team.UUID)
		x.blk.Status = "blocked"
		x.gone = mk("Gone", "tel:+250780000006")
		x.gone.Deleted = true
		done := t0.Add(-time.Hour)
		s.AddRun(&Run{FlowUUID: x.f.UUID, ContactUUID: x.ran.UUID, ExitType: "completed", ExitedOn: &done, CreatedOn: done})
		s.AddRun(&Run{FlowUUID: x.g.UUID, ContactUUID: x.busy.UUID, CreatedOn: done})
		x.inFRun = s.AddRun(&Run{FlowUUID: x.f.UUID, ContactUUID: x.inF.UUID, CreatedOn: done})
	})
	return x
}

// newRuns returns the runs created by start, by contact UUID.
func newRuns(s *Store, start string) map[string]*Run {
	out := map[string]*Run{}
	for _, r := range s.Runs {
		if r.StartUUID == start {
			out[r.ContactUUID] = r
		}
	}
	return out
}

func TestPendingFlowStartLifecycle(t *testing.T) {
	x := newPendingFixture(t)
	s := x.s
	var fs *FlowStart
	s.Write(func() {
		if s.PendingWork() {
			t.Fatal("pending work before any start")
		}
		fs = s.AddFlowStart(&FlowStart{FlowUUID: x.f.UUID, Groups: []string{x.team.UUID},
			Contacts: []string{x.ran.UUID, x.busy.UUID, x.inF.UUID, x.gone.UUID}, URNs: []string{"tel:+250780000004"},
			RestartParticipants: false, ExcludeActive: true})
	})
	step := func(d time.Duration) {
		s.Clock.Advance(d)
		s.Write(func() { s.ProcessPending(2 * time.Second) })
	}
	step(500 * time.Millisecond)
	if fs.Status != "pending" || !fs.ModifiedOn.Equal(x.t0) {
		t.Fatalf("after 0.5s: %s %v", fs.Status, fs.ModifiedOn)
	}
	step(600 * time.Millisecond)
	if fs.Status != "starting" || !fs.ModifiedOn.Equal(x.t0.Add(1100*time.Millisecond)) {
		t.Fatalf("after 1.1s: %s %v", fs.Status, fs.ModifiedOn)
	}
	if len(newRuns(s, fs.UUID)) != 0 {
		t.Fatal("runs created before the start completed")
	}
	step(time.Second)
	if fs.Status != "complete" || !fs.ModifiedOn.Equal(x.t0.Add(2100*time.Millisecond)) {
		t.Fatalf("after 2.1s: %s %v", fs.Status, fs.ModifiedOn)
	}
	runs := newRuns(s, fs.UUID)
	// ran: already ran F (restart_participants=false); inF: also ran F; busy:
	// active elsewhere (exclude_active); blk/gone: not active contacts.
	if len(runs) != 1 || runs[x.member.UUID] == nil {
		t.Fatalf("runs for %v", runs)
	}
	r := runs[x.member.UUID]
	if r.Responded || len(r.Values) != 0 || r.ExitType != "" || !r.CreatedOn.Equal(s.Clock.Now()) || !r.ModifiedOn.Equal(r.CreatedOn) {
		t.Fatalf("new run %+v", r)
	}
	if x.inFRun.ExitType != "" {
		t.Fatal("skipped contact's run was interrupted")
	}
	s.Write(func() {
		if s.PendingWork() {
			t.Fatal("pending work after completion")
		}
	})

	// With restart_participants and without exclude_active everyone active runs,
	// and inF's run of the same flow is interrupted.
	var fs2 *FlowStart
	s.Write(func() {
		fs2 = s.AddFlowStart(&FlowStart{FlowUUID: x.f.UUID, Groups: []string{"Team"},
			Contacts: []string{x.busy.UUID, x.inF.UUID}, RestartParticipants: true})
	})
	step(3 * time.Second)
	runs = newRuns(s, fs2.UUID)
	for _, c := range []*Contact{x.ran, x.busy, x.inF, x.member} {
		if runs[c.UUID] == nil {
			t.Fatalf("no run for %s", c.Name)
		}
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs", len(runs))
	}
	now := s.Clock.Now()
	if x.inFRun.ExitType != "interrupted" || !x.inFRun.ExitedOn.Equal(now) || !x.inFRun.ModifiedOn.Equal(now) {
		t.Fatalf("old run of inF: %s %v", x.inFRun.ExitType, x.inFRun.ExitedOn)
	}
	if r := newRuns(s, fs.UUID)[x.member.UUID]; r.ExitType != "interrupted" {
		t.Fatalf("member's previous active run of F: %q", r.ExitType)
	}
}

func TestPendingStartFailuresAndZeroDelay(t *testing.T) {
	x := newPendingFixture(t)
	s := x.s
	var bad, quick *FlowStart
	s.Write(func() {
		bad = s.AddFlowStart(&FlowStart{FlowUUID: "00000000-0000-4000-8000-000000000000", Contacts: []string{x.member.UUID}})
		quick = s.AddFlowStart(&FlowStart{FlowUUID: x.g.UUID, Contacts: []string{x.member.UUID}, RestartParticipants: true})
		s.ProcessPending(0)
	})
	if bad.Status != "failed" || quick.Status != "complete" {
		t.Fatalf("statuses %s %s", bad.Status, quick.Status)
	}
	r := newRuns(s, quick.UUID)[x.member.UUID]
	if r == nil || r.ExitType != "completed" {
		t.Fatalf("flow without questions: %+v", r)
	}
}

func TestPendingBroadcast(t *testing.T) {
	x := newPendingFixture(t)
	s := x.s
	var b *Broadcast
	s.Write(func() {
		b = s.AddBroadcast(&Broadcast{Text: "Hello", Status: "queued", Contacts: []string{x.busy.UUID, x.gone.UUID, "tel:+250780000003"},
			Groups: []string{x.team.UUID}, URNs: []string{"tel:+250780000002", "tel:+250789999999"}})
		if !s.PendingWork() {
			t.Fatal("queued broadcast not pending")
		}
		s.ProcessPending(2 * time.Second)
	})
	var msgs []*Message
	for _, m := range s.Messages {
		if m.BroadcastID == b.ID {
			msgs = append(msgs, m)
		}
	}
	// busy (contact + URN, deduplicated), inF (by URN), ran + member (group);
	// blocked and deleted contacts get nothing.
	want := map[string]bool{x.busy.UUID: true, x.inF.UUID: true, x.ran.UUID: true, x.member.UUID: true}
	if len(msgs) != len(want) {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		if !want[m.ContactUUID] || m.Status != "queued" || m.Direction != "out" || m.Text != "Hello" || m.SentOn != nil || m.URN == "" {
			t.Fatalf("message %+v", m)
		}
	}
	if b.Status != "queued" {
		t.Fatalf("broadcast %s too early", b.Status)
	}
	s.Clock.Advance(time.Second)
	s.Write(func() { s.ProcessPending(2 * time.Second) })
	if b.Status != "queued" || msgs[0].Status != "queued" {
		t.Fatal("sent before the delay")
	}
	s.Clock.Advance(time.Second)
	s.Write(func() { s.ProcessPending(2 * time.Second) })
	now := s.Clock.Now()
	for _, m := range msgs {
		if m.Status != "sent" || m.SentOn == nil || !m.SentOn.Equal(now) || !m.ModifiedOn.Equal(now) {
			t.Fatalf("message after delay %+v", m)
		}
	}
	if b.Status != "sent" {
		t.Fatalf("broadcast %s", b.Status)
	}
	n := len(s.Messages)
	s.Write(func() {
		if s.PendingWork() {
			t.Fatal("pending after sending")
		}
		s.ProcessPending(2 * time.Second)
	})
	if len(s.Messages) != n {
		t.Fatal("messages created twice")
	}
}

func TestPendingOnGeneratedOrg(t *testing.T) {
	s, info := genStore(t, 21, 300, 2)
	var fs *FlowStart
	var poll *Flow
	s.Write(func() {
		for _, f := range s.Flows {
			if f.Name == info.Polls[0] {
				poll = f
			}
		}
		fs = s.AddFlowStart(&FlowStart{FlowUUID: poll.UUID, Groups: []string{"Gasabo", "Kicukiro"}, RestartParticipants: true, ExcludeActive: true})
	})
	s.Clock.Advance(5 * time.Second)
	s.Write(func() { s.ProcessPending(2 * time.Second) })
	runs := newRuns(s, fs.UUID)
	if fs.Status != "complete" || len(runs) == 0 {
		t.Fatalf("status %s, %d runs", fs.Status, len(runs))
	}
	for cu := range runs {
		for _, r := range s.Runs {
			if r.ContactUUID == cu && r.StartUUID != fs.UUID && r.ExitType == "" {
				t.Fatalf("contact %s had an active run but was started (exclude_active)", cu)
			}
		}
	}
}

package fake

import (
	"context"
	"testing"
	"time"
)

// activityStore is a generated org whose frozen clock stands a little after End.
func activityStore(t *testing.T, seed int64) *Store {
	t.Helper()
	s, _ := genStore(t, seed, 400, 2)
	s.Clock.Set(genEnd.Add(time.Minute))
	return s
}

func countActive(s *Store) int {
	n := 0
	for _, r := range s.Runs {
		if r.ExitType == "" {
			n++
		}
	}
	return n
}

func TestActivityAdvancesAndCompletes(t *testing.T) {
	s := activityStore(t, 5)
	a := NewActivity(s, 1)
	before := countActive(s)
	if before == 0 {
		t.Fatal("no active runs to advance")
	}
	var total StepStats
	for i := 0; i < 30; i++ {
		s.Clock.Advance(time.Minute)
		now := s.Clock.Now()
		st := a.Step(20)
		total.RunsAdvanced += st.RunsAdvanced
		total.RunsCompleted += st.RunsCompleted
		total.RunsCreated += st.RunsCreated
		total.ContactsChanged += st.ContactsChanged
		total.MessagesIn += st.MessagesIn
		if st.RunsAdvanced == 0 {
			continue
		}
		touched := 0
		for _, r := range s.Runs {
			if !r.ModifiedOn.Equal(now) {
				continue
			}
			touched++
			if r.ExitType == "completed" && (r.ExitedOn == nil || !r.ExitedOn.Equal(now)) {
				t.Fatalf("completed run %s exited_on %v", r.UUID, r.ExitedOn)
			}
			fresh := 0
			for _, v := range r.Values {
				if v.Time.Equal(now) {
					fresh++
				}
			}
			if fresh > 0 && (!r.Responded || r.Path[len(r.Path)-1].Time.After(now)) {
				t.Fatalf("advanced run %s: responded %v", r.UUID, r.Responded)
			}
		}
		if touched < st.RunsAdvanced {
			t.Fatalf("step advanced %d runs but only %d have modified_on = now", st.RunsAdvanced, touched)
		}
	}
	if total.RunsAdvanced < 100 || total.RunsCompleted == 0 || total.ContactsChanged == 0 || total.MessagesIn == 0 {
		t.Fatalf("activity too quiet: %+v", total)
	}
	districts := map[string]bool{}
	for _, p := range Panels(s) {
		if p.Level == 2 {
			districts[s.GroupByName(p.Name).UUID] = true
		}
	}
	for _, c := range s.Contacts {
		n := 0
		for _, g := range c.Groups {
			if districts[g] {
				n++
			}
		}
		if (c.Status == "active" && !c.Deleted) != (n == 1) || len(c.Groups) > 0 && c.Status != "active" {
			t.Fatalf("contact %s (%s, deleted %v) in %d districts, groups %v", c.UUID, c.Status, c.Deleted, n, c.Groups)
		}
	}
	for _, r := range s.Runs {
		f := s.FlowsByUUID[r.FlowUUID]
		if r.ExitType == "completed" && len(r.Values) != len(f.Questions) {
			t.Fatalf("completed run %s has %d/%d values", r.UUID, len(r.Values), len(f.Questions))
		}
		for _, q := range f.Questions {
			if v := r.Values[q.Key]; v != nil && *v.Category != expectCategory(q, v) {
				t.Fatalf("%s: %q -> %q", q.Key, v.Value, *v.Category)
			}
		}
	}
}

func TestActivityExpiresAndStartsWeeks(t *testing.T) {
	s := activityStore(t, 6)
	a := NewActivity(s, 2)
	s.Clock.Advance(8 * 24 * time.Hour) // every waiting run is now past its flow's expiry
	expired, created := 0, 0
	for i := 0; i < 200 && (expired == 0 || created == 0 || countActive(s) > 0 && i < 150); i++ {
		st := a.Step(50)
		expired += st.RunsExpired
		created += st.RunsCreated
		s.Clock.Advance(time.Second)
	}
	if expired == 0 || created == 0 {
		t.Fatalf("expired %d, created %d", expired, created)
	}
	cut := genEnd.Add(8 * 24 * time.Hour)
	for _, r := range s.Runs {
		if r.ExitType == "" && r.CreatedOn.Before(cut) {
			f := s.FlowsByUUID[r.FlowUUID]
			if !r.ModifiedOn.Add(time.Duration(f.Expires) * time.Minute).After(s.Clock.Now()) {
				t.Fatalf("run %s idle since %v still active", r.UUID, r.ModifiedOn)
			}
		}
		if r.ExitType == "expired" && r.CreatedOn.Before(genEnd) && r.ExitedOn.After(genEnd) && !r.ModifiedOn.Equal(*r.ExitedOn) {
			t.Fatalf("expired run %s modified %v exited %v", r.UUID, r.ModifiedOn, r.ExitedOn)
		}
	}
	newRuns := 0
	for _, r := range s.Runs {
		if r.CreatedOn.After(cut.Add(-time.Second)) && r.StartUUID == "" {
			newRuns++
		}
	}
	if newRuns != created {
		t.Fatalf("%d trigger runs found, %d reported", newRuns, created)
	}
}

func TestActivityDeterministic(t *testing.T) {
	run := func() (string, []StepStats) {
		s := activityStore(t, 8)
		a := NewActivity(s, 3)
		var stats []StepStats
		for i := 0; i < 40; i++ {
			s.Clock.Advance(time.Hour)
			stats = append(stats, a.Step(25))
		}
		return digest(s), stats
	}
	d1, s1 := run()
	d2, s2 := run()
	if d1 != d2 {
		t.Fatal("same seed and calls gave different stores")
	}
	for i := range s1 {
		if s1[i] != s2[i] {
			t.Fatalf("step %d: %+v vs %+v", i, s1[i], s2[i])
		}
	}
}

func TestActivityRunStopsWithContext(t *testing.T) {
	s := activityStore(t, 9)
	s.Clock.Unfreeze()
	a := NewActivity(s, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { a.Run(ctx, 5*time.Millisecond, 10); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop")
	}
	changed := false
	s.Read(func() {
		for _, r := range s.Runs {
			if r.ModifiedOn.After(genEnd.Add(time.Minute)) {
				changed = true
				break
			}
		}
	})
	if !changed {
		t.Fatal("Run changed nothing")
	}
}

package jobs

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// groupNames lists the simulator's panels of a boundary level (1 provinces, 2 districts).
func groupNames(t *testing.T, e *env, level int) []string {
	t.Helper()
	var out []string
	rows, err := e.db.Query(`SELECT name FROM boundaries WHERE org_id = ? AND level = ? ORDER BY name`, e.org.ID, level)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	if len(out) == 0 {
		t.Fatalf("no boundaries of level %d", level)
	}
	return out
}

// expectedSkips derives from the simulator why a pull of every run (live
// API) skips each one while the tracked panels are panels: flows not tracked,
// and for tracked flows the contact's reason; contacts says why the contacts
// pull skips each contact.
func expectedSkips(e *env, panels map[string]bool, flows map[string]bool) (contacts, runs map[string]int) {
	contacts, runs = map[string]int{}, map[string]int{}
	reason := func(c *fake.Contact) string {
		if c == nil {
			return SkipUnknown
		}
		in := false
		for _, g := range c.Groups {
			in = in || panels[g]
		}
		switch {
		case c.Deleted:
			return SkipUnknown
		case c.Status != "active":
			return SkipInactive
		case models.PickURN(c.URNs) == "":
			return SkipNoURN
		case !in:
			return SkipNotInPanel
		}
		return ""
	}
	e.store.Read(func() {
		for _, c := range e.store.Contacts {
			if why := reason(c); why != "" && why != SkipUnknown {
				contacts[why]++
			}
		}
		for _, r := range e.store.Runs {
			switch {
			case r.Archived:
			case !flows[r.FlowUUID]:
				runs[SkipFlowUntrack]++
			default:
				if why := reason(e.store.ContactsByUUID[r.ContactUUID]); why != "" {
					runs[why]++
				}
			}
		}
	})
	return contacts, runs
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// TestTrackingMorePanelsBackfillsTheirRuns: an org tracking only the
// provinces (the simulator's contacts are all in districts) stores no contact
// and no response, and each pull says why it skipped every record. Adding
// the districts queues a backfill of every tracked poll's runs; it waits for
// the contacts pull (a runs pull before it reads no contact one by one), then
// the runs pull reads it: every response of the districts' contacts is there
// (checked against the simulator), recount finds no drift, and the backfill
// cost about one request per page of each poll's runs.
func TestTrackingMorePanelsBackfillsTheirRuns(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 21, Contacts: 90, Weeks: 3}, fake.Config{PageSize: 50}, true)
	ctx := context.Background()
	provinces, districts := groupNames(t, e, 1), groupNames(t, e, 2)
	var out bytes.Buffer
	if err := Track(ctx, e.syncer, e.org, provinces, nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	panelUUIDs := func() map[string]bool {
		m, err := e.db.TrackedGroupUUIDs(ctx, e.org.ID, "regions")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	flows := map[string]bool{}
	polls := mustPolls(t, e)
	for _, p := range polls {
		flows[p.FlowUUID] = true
	}
	wantContactSkips, wantRunSkips := expectedSkips(e, panelUUIDs(), flows)
	c := e.mustPull(ResContacts)
	r := e.mustPull(ResRuns)
	if !equalCounts(c.Skips, wantContactSkips) || !equalCounts(r.Skips, wantRunSkips) || wantRunSkips[SkipNotInPanel] == 0 {
		t.Fatalf("skips: contacts %v, want %v; runs %v, want %v", c.Skips, wantContactSkips, r.Skips, wantRunSkips)
	}
	if n := e.count(`SELECT count(*) FROM responses`); n != 0 {
		t.Fatalf("%d responses while no contact is in a tracked panel", n)
	}
	// The reasons are recorded with the pull and printed by `tracpro sync`.
	sums, err := e.db.OrgPullSummaries(ctx, e.org.ID)
	if err != nil || !equalCounts(sums[ResRuns].Skips, wantRunSkips) || sums[ResRuns].Skipped != r.Skipped {
		t.Fatalf("runs pull summary: %+v %v", sums[ResRuns], err)
	}
	if table := FormatResults([]Result{r}); !strings.Contains(table, "runs skipped: ") || !strings.Contains(table, " contact not in a tracked panel") {
		t.Fatalf("sync output does not say why runs were skipped:\n%s", table)
	}

	out.Reset()
	if err := Track(ctx, e.syncer, e.org, append(append([]string{}, provinces...), districts...), nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("the whole history of %d polls is queued to be read again for the contacts of the newly tracked panels", len(polls))) {
		t.Errorf("track output: %q", out.String())
	}
	pending := func() int {
		p, err := e.syncer.PendingBackfills(ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	if pending() != len(polls) {
		t.Errorf("%d backfills queued, want %d", pending(), len(polls))
	}
	// The scheduler may run the runs pull first: the backfill waits.
	e.pages.reset()
	e.mustPull(ResRuns)
	if pending() != len(polls) || len(e.pages.forPath("/api/v2/contacts.json")) != 0 {
		t.Errorf("a runs pull before the contacts pull: %d backfills left, %d contact requests", pending(), len(e.pages.forPath("/api/v2/contacts.json")))
	}
	e.mustPull(ResContacts)
	e.pages.reset()
	r = e.mustPull(ResRuns)
	if pending() != 0 {
		t.Fatalf("%d backfills left after the runs pull", pending())
	}

	_, want := truth(e)
	got, err := e.db.SnapshotResponses(ctx, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	perFlow := map[string]int{}
	e.store.Read(func() {
		for _, run := range e.store.Runs {
			if flows[run.FlowUUID] && !run.Archived {
				perFlow[run.FlowUUID]++
			}
		}
	})
	if len(want) < 100 || len(got) != len(want) {
		t.Fatalf("%d responses, the simulator's tracked runs make %d", len(got), len(want))
	}
	for u, w := range want {
		g, ok := got[u]
		if !ok || g.Status != w.Status || g.Active != w.Active || len(g.Answers) != len(w.Answers) {
			t.Errorf("run %s: got %+v, want %+v", u, g, w)
		}
	}
	if rep, err := e.db.RecountOrg(ctx, e.org.ID, false); err != nil || rep.Drifted != 0 {
		t.Fatalf("recount: %v, %d drifted", err, rep.Drifted)
	}
	// Cost: the main window (one page) plus each poll's runs once, page by page.
	limit := 1
	for _, n := range perFlow {
		limit += int(math.Ceil(float64(n)/50)) + 1
	}
	if runsReq := len(e.pages.forPath("/api/v2/runs.json")); runsReq > limit || r.Requests > limit {
		t.Fatalf("backfill cost %d runs requests (%d in all), want at most %d", runsReq, r.Requests, limit)
	}
	t.Logf("backfill: %d responses, %d requests", len(got), r.Requests)
}

// TestBackfillsOnlyWhatBecameVisible: adding a cohort queues no backfill;
// adding polls queues those polls only; the backfill reads them with
// progress, stops when the hourly API budget is spent (keeping its place) and
// the runs pull finishes them; removing a panel queues nothing.
func TestBackfillsOnlyWhatBecameVisible(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 22, Contacts: 60, Weeks: 3}, fake.Config{PageSize: 20}, false)
	ctx := context.Background()
	polls := mustPolls(t, e)
	if _, err := e.db.TrackPolls(ctx, e.org.ID, []string{polls[0].FlowUUID}); err != nil {
		t.Fatal(err)
	}
	e.mustPull(ResContacts)
	e.mustPull(ResRuns)
	pending := func() []string {
		p, err := e.syncer.PendingBackfills(ctx, e.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var out bytes.Buffer
	if err := Track(ctx, e.syncer, e.org, nil, append(append([]string{}, e.info.Cohorts...), "Pilot Schools 2024"), nil, &out); err != nil {
		t.Fatal(err)
	}
	if p := pending(); len(p) != 0 || strings.Contains(out.String(), "queued") {
		t.Fatalf("a cohort added queued %v: %q", p, out.String())
	}
	e.mustPull(ResContacts)
	var names []string
	for _, p := range polls {
		names = append(names, p.FlowUUID)
	}
	if err := Track(ctx, e.syncer, e.org, nil, nil, names, &out); err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, p := range polls[1:] {
		added = append(added, p.FlowUUID)
	}
	if p := pending(); !equalStrings(sorted(p), sorted(added)) {
		t.Fatalf("backfills %v, want the new polls %v (%q)", p, added, out.String())
	}

	// Budget: a few requests left this hour.
	used, err := e.db.APIUsage(ctx, e.org.ID, time.Now().Truncate(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	tight := NewSyncer(e.db, Config{ClientOptions: e.syncer.Cfg.ClientOptions, ScopeLimits: map[string]int{"v2.runs": int(float64(used["v2.runs"]+2)/0.95) + 1}, Now: e.store.Clock.Now})
	var steps [][3]int
	res := tight.Backfill(ctx, e.org, func(done, total, runs int) { steps = append(steps, [3]int{done, total, runs}) })
	if ErrorKind(res.Err) != "budget" || res.Items == 0 || len(pending()) == 0 {
		t.Fatalf("backfill under a tight budget: %+v, %d pending", res, len(pending()))
	}
	if len(steps) == 0 || steps[0] != [3]int{0, len(added), 0} {
		t.Fatalf("progress %v", steps)
	}
	e.mustPull(ResRuns)
	if p := pending(); len(p) != 0 {
		t.Fatalf("backfills left: %v", p)
	}
	_, want := truth(e)
	got, err := e.db.SnapshotResponses(ctx, e.org.ID)
	if err != nil || len(got) != len(want) {
		t.Fatalf("%d responses, want %d (%v)", len(got), len(want), err)
	}

	if err := Track(ctx, e.syncer, e.org, e.info.Panels[:len(e.info.Panels)-1], nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	if p := pending(); len(p) != 0 || strings.Count(out.String(), "queued") != 1 {
		t.Fatalf("a panel removed queued %v: %q", p, out.String())
	}

	// A poll untracked while its backfill waits: the backfill is dropped unread.
	for _, refs := range [][]string{names[:1], names, names[:2]} {
		if err := Track(ctx, e.syncer, e.org, nil, nil, refs, &out); err != nil {
			t.Fatal(err)
		}
	}
	if p := pending(); len(p) != len(names)-1 {
		t.Fatalf("backfills %v, want %d", p, len(names)-1)
	}
	e.mustPull(ResContacts)
	e.sim.ResetLog()
	e.mustPull(ResRuns)
	for _, req := range e.sim.Requests() {
		for _, p := range polls[2:] {
			if strings.Contains(req.RawQuery, p.FlowUUID) {
				t.Errorf("the runs of untracked poll %s were read: %s", p.FlowUUID, req.RawQuery)
			}
		}
	}
	if p := pending(); len(p) != 0 {
		t.Fatalf("backfills left: %v", p)
	}

	// The task: nothing left to read is done at once.
	task, err := e.db.CreateTask(ctx, e.org.ID, models.TaskBackfill, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	tr := Tasks(e.syncer)
	tr.StartBackfill(task, e.org)
	tr.Wait()
	if got, _ := e.db.TaskByID(ctx, task.ID); got.State != models.TaskDone || got.Message != "0 runs read: 0 created, 0 updated, 0 skipped" {
		t.Fatalf("task: %+v", got)
	}
}

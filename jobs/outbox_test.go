package jobs

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
	"tracpro/rapidpro/fake"
)

// startDelay is the simulator's pending → complete delay of flow starts here.
const startDelay = 30 * time.Millisecond

// startEnv is a synced simulator org with one panel holding exactly n
// contacts that are active both here and in the simulator.
type startEnv struct {
	*env
	panel  int64
	poll   *models.Poll
	scope  *models.Scope
	member []string // the panel's contact UUIDs, by local id
}

func newStartEnv(t *testing.T, seed int64, n int) *startEnv {
	t.Helper()
	e := newEnv(t, fake.GenConfig{Seed: seed, Contacts: n + 150, Weeks: 1}, fake.Config{StartDelay: startDelay}, false)
	e.mustPull(ResContacts)
	e.mustPull(ResRuns)
	ctx := context.Background()
	regions, err := e.db.ListRegions(ctx, e.org.ID, true)
	if err != nil || len(regions) < 2 {
		t.Fatalf("regions: %v %d", err, len(regions))
	}
	panel, other := regions[0].ID, regions[1].ID
	simActive := map[string]bool{}
	e.store.Read(func() {
		for _, c := range e.store.Contacts {
			simActive[c.UUID] = !c.Deleted && c.Status == "active"
		}
	})
	if _, err := e.db.Exec(`UPDATE contacts SET region_id = ? WHERE region_id = ?`, other, panel); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.Query(`SELECT id, uuid FROM contacts WHERE org_id = ? AND is_active = 1 ORDER BY id`, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []any
	se := &startEnv{env: e, panel: panel}
	for rows.Next() {
		var id int64
		var u string
		if err := rows.Scan(&id, &u); err != nil {
			t.Fatal(err)
		}
		if simActive[u] && len(ids) < n {
			ids = append(ids, id)
			se.member = append(se.member, u)
		}
	}
	rows.Close()
	if len(ids) != n {
		t.Fatalf("only %d usable contacts, want %d", len(ids), n)
	}
	if _, err := e.db.Exec(`UPDATE contacts SET region_id = ? WHERE id IN (?`+strings.Repeat(",?", n-1)+`)`, append([]any{panel}, ids...)...); err != nil {
		t.Fatal(err)
	}
	polls, err := e.db.ListPolls(ctx, e.org.ID, true)
	if err != nil || len(polls) == 0 {
		t.Fatalf("polls: %v", err)
	}
	se.poll = &polls[0]
	if se.scope, err = e.db.ResolveScope(ctx, e.org.ID, 0, true, panel, true); err != nil {
		t.Fatal(err)
	}
	return se
}

// start starts the poll for the panel (regional).
func (se *startEnv) start() *models.StartResult {
	se.t.Helper()
	res, err := se.db.StartPoll(context.Background(), models.PollStart{Org: se.org, Scope: se.scope, PollID: se.poll.ID, RegionID: se.panel})
	if err != nil {
		se.t.Fatal(err)
	}
	return res
}

// deliver runs one outbox pass.
func (se *startEnv) deliver() OutboxResult {
	se.t.Helper()
	r, err := se.syncer.DeliverOutbox(context.Background())
	if err != nil {
		se.t.Fatal(err)
	}
	return r
}

// startPosts returns the contact lists of the POSTs to flow_starts the
// simulator received (any status), in order.
func (se *startEnv) startPosts() (bodies [][]string, statuses []int) {
	for _, r := range se.sim.Requests() {
		if r.Method != "POST" || r.Path != "/api/v2/flow_starts.json" {
			continue
		}
		var b struct {
			Flow     string   `json:"flow"`
			Contacts []string `json:"contacts"`
			Restart  *bool    `json:"restart_participants"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			se.t.Fatal(err)
		}
		if b.Flow != se.poll.FlowUUID || b.Restart == nil || !*b.Restart {
			se.t.Errorf("flow start body: flow %q restart_participants %v", b.Flow, b.Restart)
		}
		bodies = append(bodies, b.Contacts)
		statuses = append(statuses, r.Status)
	}
	return
}

// completeRuns lets the first n panel members complete their open run of the
// poll in the simulator, then pulls the runs.
func (se *startEnv) completeRuns(n int) {
	done := map[string]bool{}
	for _, u := range se.member[:n] {
		done[u] = true
	}
	se.store.Write(func() {
		now := se.store.Clock.Now()
		for _, r := range se.store.RunsByUUID {
			if done[r.ContactUUID] && r.FlowUUID == se.poll.FlowUUID && r.ExitType == "" {
				se.store.TouchRun(r.UUID, func(r *fake.Run) { r.ExitType, r.ExitedOn = "completed", &now })
			}
		}
	})
	se.mustPull(ResRuns)
}

// completeStarts lets the simulator create the runs of its starts.
func (se *startEnv) completeStarts() {
	time.Sleep(2 * startDelay)
	se.store.Write(func() { se.store.ProcessPending(startDelay) })
}

// simStarts returns the UUIDs of the simulator's flow starts.
func (se *startEnv) simStarts() map[string]bool {
	out := map[string]bool{}
	se.store.Read(func() {
		for _, fs := range se.store.FlowStarts {
			out[fs.UUID] = true
		}
	})
	return out
}

func sizes(bodies [][]string) []int {
	out := make([]int, len(bodies))
	for i, b := range bodies {
		out[i] = len(b)
	}
	return out
}

func TestStartPollBatchesDeliveredAndRunsLinked(t *testing.T) {
	se := newStartEnv(t, 41, 230)
	res := se.start()
	if res.Contacts != 230 || res.Batches != 3 {
		t.Fatalf("start = %+v, want 230 contacts in 3 batches", res)
	}
	var typ string
	var region int64
	if err := se.db.QueryRow(`SELECT pollrun_type, region_id FROM pollruns WHERE id = ?`, res.PollrunID).Scan(&typ, &region); err != nil || typ != "r" || region != se.panel {
		t.Fatalf("poll run: %q %d %v", typ, region, err)
	}
	// Queued in the same transaction: 3 outbox rows (100/100/30), 3 flow starts.
	if n := se.count(`SELECT count(*) FROM outbox WHERE kind = 'flow_start' AND state = 'pending' AND ordering_key = ?`, "pollrun:"+itoa(res.PollrunID)); n != 3 {
		t.Fatalf("%d outbox rows, want 3", n)
	}
	if n := se.count(`SELECT count(*) FROM flow_starts WHERE pollrun_id = ? AND status = 'pending' AND uuid IS NULL`, res.PollrunID); n != 3 {
		t.Fatalf("%d pending flow starts, want 3", n)
	}
	var counts []int
	rows, _ := se.db.Query(`SELECT contacts FROM flow_starts WHERE pollrun_id = ? ORDER BY id`, res.PollrunID)
	for rows.Next() {
		var n int
		rows.Scan(&n)
		counts = append(counts, n)
	}
	rows.Close()
	if len(counts) != 3 || counts[0] != 100 || counts[1] != 100 || counts[2] != 30 {
		t.Fatalf("flow start sizes %v, want [100 100 30]", counts)
	}

	preexisting := se.simStarts()
	se.sim.ResetLog()
	if r := se.deliver(); r.Sent != 3 || r.Retried+r.Failed+r.Unknown != 0 {
		t.Fatalf("delivery = %+v, want 3 sent", r)
	}
	bodies, _ := se.startPosts()
	if got := sizes(bodies); len(got) != 3 || got[0] != 100 || got[1] != 100 || got[2] != 30 {
		t.Fatalf("simulator received flow starts of %v contacts, want [100 100 30]", got)
	}
	var sent []string
	for _, b := range bodies {
		sent = append(sent, b...)
	}
	if strings.Join(sent, ",") != strings.Join(se.member, ",") {
		t.Fatal("the batches do not carry exactly the panel's contacts in order")
	}
	// The start UUIDs are stored, and they are the simulator's.
	simStarts := se.simStarts()
	for u := range preexisting {
		delete(simStarts, u)
	}
	if n := se.count(`SELECT count(DISTINCT uuid) FROM flow_starts WHERE pollrun_id = ? AND status = 'started'`, res.PollrunID); n != 3 || len(simStarts) != 3 {
		t.Fatalf("%d started flow starts with a uuid, simulator has %d", n, len(simStarts))
	}
	rows, _ = se.db.Query(`SELECT uuid FROM flow_starts WHERE pollrun_id = ?`, res.PollrunID)
	for rows.Next() {
		var u string
		rows.Scan(&u)
		if !simStarts[u] {
			t.Errorf("stored start uuid %s unknown to the simulator", u)
		}
	}
	rows.Close()
	if n := se.count(`SELECT count(*) FROM outbox WHERE state = 'sent' AND result <> ''`); n != 3 {
		t.Fatalf("%d outbox rows sent, want 3", n)
	}
	// A second pass sends nothing.
	if r := se.deliver(); r != (OutboxResult{}) {
		t.Fatalf("second pass = %+v", r)
	}

	// The simulator creates the runs after its delay; a runs pull links them
	// to the regional poll run through start.uuid, not to the universal one.
	se.completeStarts()
	se.mustPull(ResRuns)
	if n := se.count(`SELECT count(*) FROM responses WHERE pollrun_id = ? AND is_active = 1`, res.PollrunID); n != 230 {
		t.Fatalf("%d responses in the regional poll run, want 230", n)
	}
	var startRuns []string
	se.store.Read(func() {
		for _, r := range se.store.RunsByUUID {
			if simStarts[r.StartUUID] {
				startRuns = append(startRuns, r.UUID)
			}
		}
	})
	if len(startRuns) != 230 {
		t.Fatalf("simulator created %d runs, want 230", len(startRuns))
	}
	if n := se.count(`SELECT count(*) FROM responses WHERE pollrun_id <> ? AND run_uuid IN ('`+strings.Join(startRuns, "','")+`')`, res.PollrunID); n != 0 {
		t.Fatalf("%d runs of the start landed outside its poll run", n)
	}
	prog, err := se.db.PollStartProgress(context.Background(), se.scope, res.PollrunID)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Started != 3 || prog.Pending != 0 || prog.ContactsStarted != 230 || prog.Runs != 230 || !prog.Latest || prog.NonRespondents != 230 {
		t.Fatalf("progress = %+v", prog)
	}
}

func TestStartPoll429RetriedLaterNotDuplicated(t *testing.T) {
	se := newStartEnv(t, 42, 150)
	res := se.start()
	pre := len(se.simStarts())
	se.sim.ResetLog()
	se.sim.Script(fake.Fault{Kind: fake.FaultThrottle, Method: "POST", Path: "flow_starts", RetryAfter: 30})
	before := time.Now()
	if r := se.deliver(); r.Retried != 1 || r.Sent != 0 {
		t.Fatalf("throttled pass = %+v, want 1 retried and the second batch held", r)
	}
	var next int64
	var attempts int
	if err := se.db.QueryRow(`SELECT next_attempt_at, attempts FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 1`).Scan(&next, &attempts); err != nil {
		t.Fatal(err)
	}
	if wait := time.UnixMilli(next).Sub(before); wait < 29*time.Second || wait > 32*time.Second || attempts != 1 {
		t.Fatalf("rescheduled in %s after %d attempts, want Retry-After 30s", wait, attempts)
	}
	// Not due yet: nothing is sent, and the later batch of the poll run waits.
	if r := se.deliver(); r != (OutboxResult{}) {
		t.Fatalf("early pass = %+v", r)
	}
	if _, err := se.db.Exec(`UPDATE outbox SET next_attempt_at = 0 WHERE state = 'pending'`); err != nil {
		t.Fatal(err)
	}
	if r := se.deliver(); r.Sent != 2 {
		t.Fatalf("later pass = %+v, want 2 sent", r)
	}
	bodies, statuses := se.startPosts()
	if got := sizes(bodies); len(got) != 3 || statuses[0] != 429 || statuses[1] != 201 || statuses[2] != 201 || got[1] != 100 || got[2] != 50 {
		t.Fatalf("POSTs %v with statuses %v, want the throttled one then 100 and 50", got, statuses)
	}
	if n := len(se.simStarts()) - pre; n != 2 {
		t.Fatalf("simulator has %d flow starts, want 2 (none duplicated)", n)
	}
	if c := se.count(`SELECT count(*) FROM flow_starts WHERE pollrun_id = ? AND status = 'started'`, res.PollrunID); c != 2 {
		t.Fatalf("%d flow starts started", c)
	}
}

func TestStartPoll500UnknownNeverResent(t *testing.T) {
	se := newStartEnv(t, 43, 150)
	res := se.start()
	se.sim.ResetLog()
	se.sim.Script(fake.Fault{Kind: fake.FaultStatus, Method: "POST", Path: "flow_starts", Status: 500})
	if r := se.deliver(); r.Unknown != 1 || r.Sent != 1 {
		t.Fatalf("pass = %+v, want 1 unknown and 1 sent", r)
	}
	for i := 0; i < 2; i++ {
		if r := se.deliver(); r != (OutboxResult{}) {
			t.Fatalf("pass %d after the 500 = %+v: the unknown batch must not be resent", i+2, r)
		}
	}
	_, statuses := se.startPosts()
	if len(statuses) != 2 || statuses[0] != 500 || statuses[1] != 201 {
		t.Fatalf("POST statuses %v, want [500 201]", statuses)
	}
	if n := se.count(`SELECT count(*) FROM outbox WHERE state = 'unknown' AND last_error LIKE '%outcome unknown%'`); n != 1 {
		t.Fatalf("%d outbox rows unknown", n)
	}
	prog, err := se.db.PollStartProgress(context.Background(), se.scope, res.PollrunID)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Unknown != 1 || prog.Started != 1 || prog.ContactsStarted != 50 || len(prog.Problems) != 1 || prog.Problems[0].Batch != 1 ||
		prog.Problems[0].State != models.FlowStartUnknown || !strings.Contains(prog.Problems[0].Message, "500") {
		t.Fatalf("progress = %+v", prog)
	}
}

func TestStartPoll400FailedAndDialErrorRetried(t *testing.T) {
	se := newStartEnv(t, 44, 120)
	se.start()
	se.sim.Script(fake.Fault{Kind: fake.FaultStatus, Method: "POST", Path: "flow_starts", Status: 400,
		Body: `{"contacts":["Contact limit is 100"]}`})
	if r := se.deliver(); r.Failed != 1 || r.Sent != 1 {
		t.Fatalf("pass = %+v, want 1 failed and 1 sent", r)
	}
	var msg string
	if err := se.db.QueryRow(`SELECT last_error FROM outbox WHERE state = 'failed'`).Scan(&msg); err != nil || msg != "HTTP 400: contacts: Contact limit is 100" {
		t.Fatalf("failed message %q (%v)", msg, err)
	}
	if n := se.count(`SELECT count(*) FROM flow_starts WHERE status = 'failed' AND uuid IS NULL`); n != 1 {
		t.Fatalf("%d failed flow starts", n)
	}

	// Nothing listening: nothing was sent, so the batch waits and retries.
	se.start()
	if _, err := se.db.Exec(`UPDATE orgs SET rapidpro_url = 'http://127.0.0.1:1' WHERE id = ?`, se.org.ID); err != nil {
		t.Fatal(err)
	}
	se.sim.ResetLog()
	if r := se.deliver(); r.Retried != 1 || r.Sent != 0 {
		t.Fatalf("unreachable pass = %+v", r)
	}
	var next int64
	if err := se.db.QueryRow(`SELECT next_attempt_at FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 1`).Scan(&next); err != nil || next <= time.Now().UnixMilli() {
		t.Fatalf("dial error not backed off: %d %v", next, err)
	}
	if _, err := se.db.Exec(`UPDATE orgs SET rapidpro_url = ? WHERE id = ?`, se.http.URL, se.org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := se.db.Exec(`UPDATE outbox SET next_attempt_at = 0 WHERE state = 'pending'`); err != nil {
		t.Fatal(err)
	}
	if r := se.deliver(); r.Sent != 2 {
		t.Fatalf("pass after reconnect = %+v, want 2 sent", r)
	}
}

// TestInterruptedFlowStartReadBackFirst: batches claimed by a process that
// stopped mid-request wait until such a request is over, then are looked
// for in flow_starts.json by the key they carry: the one RapidPro made is
// recorded without a second POST, the one it never received is started once.
func TestInterruptedFlowStartReadBackFirst(t *testing.T) {
	se := newStartEnv(t, 45, 150)
	ctx := context.Background()
	res := se.start()
	var rows []models.OutboxItem
	r, err := se.db.Query(`SELECT id, uid, payload FROM outbox WHERE kind = 'flow_start' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var it models.OutboxItem
		var payload string
		r.Scan(&it.ID, &it.UID, &payload)
		it.Payload = []byte(payload)
		rows = append(rows, it)
	}
	r.Close()
	if len(rows) != 2 || rows[0].UID == "" || rows[0].UID == rows[1].UID {
		t.Fatalf("flow start rows %+v: want 2, each with its own key", rows)
	}
	// Both claimed just now; the first batch's POST reached RapidPro (with
	// its key), the second's never left.
	var first models.FlowStartPayload
	json.Unmarshal(rows[0].Payload, &first)
	restart := true
	made, err := se.syncer.PushClient(se.org).StartFlow(ctx, rapidpro.FlowStartWrite{Flow: first.Flow, Contacts: first.Contacts,
		RestartParticipants: &restart, Params: map[string]any{models.OutboxKeyParam: rows[0].UID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := se.db.Exec(`UPDATE outbox SET attempts = 1, last_error = 'sending', updated_at = ? WHERE kind = 'flow_start'`, models.NowMs()); err != nil {
		t.Fatal(err)
	}
	se.sim.ResetLog()
	// Within the request timeout: nothing is read or sent yet.
	if r := se.deliver(); r != (OutboxResult{}) || len(se.sim.Requests()) != 0 {
		t.Fatalf("pass during the settle = %+v, %d requests", r, len(se.sim.Requests()))
	}
	// (The second batch waits behind the first: same poll run.)
	if n := se.count(`SELECT count(*) FROM outbox WHERE verify_since > 0 AND last_error LIKE 'interrupted%' AND next_attempt_at > ?`, models.NowMs()); n != 1 {
		t.Fatalf("%d rows held as uncertain, want 1", n)
	}
	// A minute later: the first is found, the second started once.
	if _, err := se.db.Exec(`UPDATE outbox SET verify_since = max(verify_since - 60000, 0), updated_at = updated_at - 60000, next_attempt_at = 0
		WHERE kind = 'flow_start'`); err != nil {
		t.Fatal(err)
	}
	if r := se.deliver(); r.Sent != 2 || r.Unknown+r.Failed+r.Retried != 0 {
		t.Fatalf("pass = %+v, want both sent", r)
	}
	bodies, _ := se.startPosts()
	if len(bodies) != 1 || strings.Join(bodies[0], ",") != strings.Join(se.member[100:], ",") {
		t.Fatalf("POSTed %v, want only the second batch once", sizes(bodies))
	}
	var uuid1, msg1 string
	se.db.QueryRow(`SELECT fs.uuid, o.last_error FROM outbox o JOIN flow_starts fs ON fs.id = json_extract(o.payload, '$.flow_start') WHERE o.id = ?`, rows[0].ID).Scan(&uuid1, &msg1)
	if uuid1 != made.UUID || !strings.Contains(msg1, "found in RapidPro") {
		t.Fatalf("first batch recorded as start %s (%q), RapidPro made %s", uuid1, msg1, made.UUID)
	}
	prog, err := se.db.PollStartProgress(ctx, se.scope, res.PollrunID)
	if err != nil || prog.Started != 2 || prog.ContactsStarted != 150 || prog.Unknown != 0 {
		t.Fatalf("progress %+v %v", prog, err)
	}
}

// TestLegacyFlowStartMatchedOrReview: batches queued before flow starts
// carried a key (an empty uid) and left uncertain are matched on flow and
// contacts: the one RapidPro made is recorded with its UUID, the other is
// left for review — neither is POSTed again.
func TestLegacyFlowStartMatchedOrReview(t *testing.T) {
	se := newStartEnv(t, 48, 150)
	ctx := context.Background()
	res := se.start()
	var payload string
	if err := se.db.QueryRow(`SELECT payload FROM outbox WHERE kind = 'flow_start' ORDER BY id LIMIT 1`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var first models.FlowStartPayload
	json.Unmarshal([]byte(payload), &first)
	restart := true
	made, err := se.syncer.PushClient(se.org).StartFlow(ctx, rapidpro.FlowStartWrite{Flow: first.Flow, Contacts: first.Contacts, RestartParticipants: &restart})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := se.db.Exec(`UPDATE outbox SET uid = '', attempts = 1, last_error = 'sending', updated_at = ? WHERE kind = 'flow_start'`, models.NowMs()-60000); err != nil {
		t.Fatal(err)
	}
	se.sim.ResetLog()
	if r := se.deliver(); r.Sent != 1 || r.Unknown != 1 {
		t.Fatalf("pass = %+v, want 1 found and 1 unknown", r)
	}
	if bodies, _ := se.startPosts(); len(bodies) != 0 {
		t.Fatalf("%d batches POSTed again", len(bodies))
	}
	prog, err := se.db.PollStartProgress(ctx, se.scope, res.PollrunID)
	if err != nil || prog.Started != 1 || prog.Unknown != 1 || len(prog.Problems) != 1 || prog.Problems[0].Batch != 2 ||
		!strings.Contains(prog.Problems[0].Message, "needs review") {
		t.Fatalf("progress %+v %v", prog, err)
	}
	var got string
	se.db.QueryRow(`SELECT uuid FROM flow_starts WHERE pollrun_id = ? AND status = 'started'`, res.PollrunID).Scan(&got)
	if got != made.UUID {
		t.Fatalf("batch 1 recorded as %s, RapidPro made %s", got, made.UUID)
	}
}

func TestRestartNonRespondentsOfLatestRegionalRun(t *testing.T) {
	se := newStartEnv(t, 46, 230)
	ctx := context.Background()
	first := se.start()
	se.deliver()
	se.completeStarts()
	se.mustPull(ResRuns)

	// 50 contacts complete their run; one contact joins the panel without a run.
	se.completeRuns(50)
	if n := se.count(`SELECT count(*) FROM responses WHERE pollrun_id = ? AND is_active = 1 AND status = 'C'`, first.PollrunID); n != 50 {
		t.Fatalf("%d complete responses, want 50", n)
	}
	var joiner string
	rows, err := se.db.Query(`SELECT uuid FROM contacts WHERE org_id = ? AND is_active = 1 AND region_id <> ? ORDER BY id`, se.org.ID, se.panel)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() && joiner == "" {
		var u string
		rows.Scan(&u)
		se.store.Read(func() {
			if c := se.store.ContactsByUUID[u]; c != nil && !c.Deleted && c.Status == "active" {
				joiner = u
			}
		})
	}
	rows.Close()
	if _, err := se.db.Exec(`UPDATE contacts SET region_id = ? WHERE uuid = ?`, se.panel, joiner); err != nil {
		t.Fatal(err)
	}

	res, err := se.db.RestartNonRespondents(ctx, se.org, se.scope, first.PollrunID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Contacts != 181 || res.Batches != 2 {
		t.Fatalf("restart = %+v, want 181 contacts (180 incomplete + 1 without a response) in 2 batches", res)
	}
	se.sim.ResetLog()
	if r := se.deliver(); r.Sent != 2 {
		t.Fatalf("restart delivery = %+v", r)
	}
	bodies, _ := se.startPosts()
	var got []string
	for _, b := range bodies {
		got = append(got, b...)
	}
	want := append(append([]string(nil), se.member[50:]...), joiner)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") || len(bodies) != 2 || len(bodies[0]) != 100 {
		t.Fatalf("restart started %d contacts in %v, want exactly the 181 non-respondents", len(got), sizes(bodies))
	}
	// The new runs land in the same poll run; completed responses stay.
	se.completeStarts()
	se.mustPull(ResRuns)
	if n := se.count(`SELECT count(*) FROM flow_starts WHERE pollrun_id = ? AND status = 'started'`, first.PollrunID); n != 5 {
		t.Fatalf("%d flow starts of the poll run, want 5", n)
	}
	if n := se.count(`SELECT count(*) FROM responses WHERE pollrun_id = ? AND is_active = 1`, first.PollrunID); n != 231 {
		t.Fatalf("%d active responses in the poll run, want 231", n)
	}
	if n := se.count(`SELECT count(*) FROM responses WHERE pollrun_id = ? AND is_active = 1 AND status = 'C'`, first.PollrunID); n != 50 {
		t.Fatalf("%d complete responses after the restart, want 50", n)
	}

	// Only the latest regional poll run of the panel can be restarted.
	second := se.start()
	_, err = se.db.RestartNonRespondents(ctx, se.org, se.scope, first.PollrunID)
	if models.ErrorCode(err) != models.CodeInvalid || !strings.Contains(err.Error(), "latest") {
		t.Fatalf("restart of an older poll run: %v", err)
	}
	other, err := se.db.ResolveScope(ctx, se.org.ID, 0, true, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := se.db.RestartNonRespondents(ctx, se.org, other, second.PollrunID); models.ErrorCode(err) != models.CodeInvalid {
		t.Fatalf("restart without the panel selected: %v", err)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

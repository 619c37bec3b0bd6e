package jobs

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// msgEnv is a regional poll run of a panel of 300 contacts, started and
// pulled from the simulator: 30 of them complete their run, 40 others have
// since moved to another panel, so a supervisor of the panel sees exactly
// 230 non-respondents; the moved ones are outside the scope.
type msgEnv struct {
	*startEnv
	pollrun        int64
	sup            *models.Scope
	nonRespondents []string // in scope, by local id
	respondents    []string
	moved          []string
}

func newMsgEnv(t *testing.T, seed int64) *msgEnv {
	t.Helper()
	se := newStartEnv(t, seed, 300)
	ctx := context.Background()
	run := se.start()
	se.deliver()
	se.completeStarts()
	se.mustPull(ResRuns)
	me := &msgEnv{startEnv: se, pollrun: run.PollrunID}
	se.completeRuns(30)
	if n := se.count(`SELECT count(*) FROM responses WHERE pollrun_id = ? AND is_active = 1 AND status = 'C'`, run.PollrunID); n != 30 {
		t.Fatalf("%d complete responses, want 30", n)
	}
	if n := se.count(`SELECT count(*) FROM responses WHERE pollrun_id = ? AND is_active = 1`, run.PollrunID); n != 300 {
		t.Fatalf("%d responses, want 300", n)
	}
	me.respondents = se.member[:30]
	me.moved = se.member[30:70]
	me.nonRespondents = se.member[70:]
	var other int64
	if err := se.db.QueryRow(`SELECT id FROM regions WHERE org_id = ? AND is_active = 1 AND id <> ? ORDER BY id LIMIT 1`, se.org.ID, se.panel).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if _, err := se.db.Exec(`UPDATE contacts SET region_id = ? WHERE uuid IN ('`+strings.Join(me.moved, "','")+`')`, other); err != nil {
		t.Fatal(err)
	}
	u, err := se.db.CreateUser(ctx, models.NewUser{Email: "sup@example.org", FullName: "Sup"})
	if err != nil {
		t.Fatal(err)
	}
	if err := se.db.SetMembership(ctx, se.org.ID, u.ID, models.RoleSupervisor); err != nil {
		t.Fatal(err)
	}
	if err := se.db.SetUserPanels(ctx, se.org.ID, u.ID, []int64{se.panel}); err != nil {
		t.Fatal(err)
	}
	if me.sup, err = se.db.ResolveScope(ctx, se.org.ID, u.ID, false, 0, true); err != nil {
		t.Fatal(err)
	}
	if len(me.sup.DataPanels) != 1 || me.sup.DataPanels[0] != se.panel {
		t.Fatalf("supervisor scope %v, want only the panel", me.sup.DataPanels)
	}
	return me
}

// send queues a message to the poll run's non-respondents as the supervisor.
func (me *msgEnv) send(text string) *models.SentMessage {
	me.t.Helper()
	m, err := me.db.SendMessage(context.Background(), models.MessageSend{Org: me.org, Scope: me.sup, PollrunID: me.pollrun,
		Recipients: models.RecipientsNonRespondents, Text: text})
	if err != nil {
		me.t.Fatal(err)
	}
	return m
}

// broadcastPosts returns the contact lists and statuses of the POSTs to
// broadcasts.json the simulator received, in order.
func (me *msgEnv) broadcastPosts(text string) (bodies [][]string, statuses []int) {
	for _, r := range me.sim.Requests() {
		if r.Method != "POST" || r.Path != "/api/v2/broadcasts.json" {
			continue
		}
		var b struct {
			Text     string   `json:"text"`
			Contacts []string `json:"contacts"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			me.t.Fatal(err)
		}
		if b.Text != text {
			me.t.Errorf("broadcast text %q, want %q", b.Text, text)
		}
		bodies = append(bodies, b.Contacts)
		statuses = append(statuses, r.Status)
	}
	return
}

// simBroadcasts returns, per simulator broadcast with this text, its contacts.
func (me *msgEnv) simBroadcasts(text string) [][]string {
	var out [][]string
	me.store.Read(func() {
		for _, b := range me.store.Broadcasts {
			if b.Text != text {
				continue
			}
			out = append(out, append([]string(nil), b.Contacts...))
		}
	})
	return out
}

func (me *msgEnv) status(id int64) models.MessageStatus {
	me.t.Helper()
	rows, err := me.db.PollrunMessages(context.Background(), me.sup, me.pollrun, 10)
	if err != nil {
		me.t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == id {
			return r.Status
		}
	}
	me.t.Fatalf("message %d not listed for the poll run", id)
	return models.MessageStatus{}
}

func TestMessageToNonRespondentsThreeBroadcasts(t *testing.T) {
	me := newMsgEnv(t, 61)
	ctx := context.Background()
	counts, err := me.db.MessageRecipients(ctx, me.sup, me.pollrun, 0)
	if err != nil {
		t.Fatal(err)
	}
	if counts != (models.RecipientCounts{All: 260, Respondents: 30, NonRespondents: 230}) {
		t.Fatalf("recipient counts %+v, want 260 / 30 / 230", counts)
	}
	const text = "Please answer this week's questions."
	m := me.send(text)
	if m.Contacts != 230 || m.Batches != 3 {
		t.Fatalf("sent %+v, want 230 contacts in 3 batches", m)
	}
	if n := me.count(`SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND state = 'pending'`); n != 3 {
		t.Fatalf("%d pending broadcasts in the outbox, want 3", n)
	}
	if st := me.status(m.ID); st.State() != models.BatchPending || st.Pending != 230 {
		t.Fatalf("status before delivery %+v", st)
	}
	me.sim.ResetLog()
	if r := me.deliver(); r.Sent != 3 || r.Failed+r.Unknown+r.Retried != 0 {
		t.Fatalf("delivery %+v, want 3 sent", r)
	}
	bodies, statuses := me.broadcastPosts(text)
	if got := sizes(bodies); len(got) != 3 || got[0] != 100 || got[1] != 100 || got[2] != 30 {
		t.Fatalf("broadcasts of %v contacts, want [100 100 30]", got)
	}
	for _, s := range statuses {
		if s != 201 {
			t.Fatalf("broadcast statuses %v", statuses)
		}
	}
	var reached []string
	for _, b := range me.simBroadcasts(text) {
		reached = append(reached, b...)
	}
	sort.Strings(reached)
	want := append([]string(nil), me.nonRespondents...)
	sort.Strings(want)
	if strings.Join(reached, ",") != strings.Join(want, ",") {
		t.Fatalf("the simulator's broadcasts reach %d contacts, not exactly the %d non-respondents in scope", len(reached), len(want))
	}
	outside := map[string]bool{}
	for _, u := range append(append([]string(nil), me.moved...), me.respondents...) {
		outside[u] = true
	}
	for _, u := range reached {
		if outside[u] {
			t.Fatalf("contact %s (respondent or outside the panel) received the message", u)
		}
	}
	if st := me.status(m.ID); st.State() != models.BatchSent || st.Sent != 230 {
		t.Fatalf("status after delivery %+v", st)
	}
	if n := me.count(`SELECT count(*) FROM message_batches WHERE message_id = ? AND status = 'sent' AND broadcast <> ''`, m.ID); n != 3 {
		t.Fatalf("%d batches with RapidPro's broadcast id", n)
	}
	// A second pass sends nothing.
	if r := me.deliver(); r != (OutboxResult{}) {
		t.Fatalf("second pass %+v", r)
	}
}

func TestMessageFaultsNeverSendTwice(t *testing.T) {
	me := newMsgEnv(t, 62)
	const text = "Reminder: the survey closes on Friday."
	m := me.send(text)
	me.sim.ResetLog()
	// First batch throttled: it waits, and the later batches of the message wait behind it.
	me.sim.Script(fake.Fault{Kind: fake.FaultThrottle, Method: "POST", Path: "broadcasts", RetryAfter: 30})
	if r := me.deliver(); r.Retried != 1 || r.Sent != 0 {
		t.Fatalf("throttled pass %+v", r)
	}
	if st := me.status(m.ID); st.State() != models.BatchPending || st.Pending != 230 {
		t.Fatalf("status after 429 %+v", st)
	}
	if _, err := me.db.Exec(`UPDATE outbox SET next_attempt_at = 0 WHERE state = 'pending'`); err != nil {
		t.Fatal(err)
	}
	// Then the throttled batch gets a 500 (outcome unknown: never resent), the second a 400 (failed with
	// RapidPro's message), and the third goes through.
	me.sim.Script(fake.Fault{Kind: fake.FaultStatus, Method: "POST", Path: "broadcasts", Status: 500})
	me.sim.Script(fake.Fault{Kind: fake.FaultStatus, Method: "POST", Path: "broadcasts", Status: 400, Body: `{"contacts":["No such object: x"]}`})
	if r := me.deliver(); r.Sent != 1 || r.Unknown != 1 || r.Failed != 1 {
		t.Fatalf("pass %+v, want 1 sent, 1 unknown, 1 failed", r)
	}
	for i := 0; i < 2; i++ {
		if r := me.deliver(); r != (OutboxResult{}) {
			t.Fatalf("later pass %+v: nothing may be resent", r)
		}
	}
	bodies, statuses := me.broadcastPosts(text)
	if got := sizes(bodies); len(got) != 4 || got[0] != 100 || got[1] != 100 || got[2] != 100 || got[3] != 30 ||
		statuses[0] != 429 || statuses[1] != 500 || statuses[2] != 400 || statuses[3] != 201 {
		t.Fatalf("POSTs %v with statuses %v, want 429, 500, 400, 201", got, statuses)
	}
	if strings.Join(bodies[0], ",") != strings.Join(bodies[1], ",") {
		t.Fatal("the throttled batch was not the one sent next")
	}
	// Every contact was posted at most once after the 429 (nothing sent twice).
	seen := map[string]bool{}
	for _, b := range bodies[1:] {
		for _, u := range b {
			if seen[u] {
				t.Fatalf("contact %s posted twice", u)
			}
			seen[u] = true
		}
	}
	if sim := me.simBroadcasts(text); len(sim) != 1 || len(sim[0]) != 30 {
		t.Fatalf("the simulator holds %d broadcasts of the message, want the one of 30", len(sim))
	}
	st := me.status(m.ID)
	if st.State() != "partly" || st.Sent != 30 || st.Unknown != 100 || st.Failed != 100 || !strings.Contains(st.Error, "500") {
		t.Fatalf("status %+v, want partly: 30 sent, 100 unknown, 100 failed", st)
	}
	var failMsg string
	if err := me.db.QueryRow(`SELECT error FROM message_batches WHERE message_id = ? AND status = 'failed'`, m.ID).Scan(&failMsg); err != nil ||
		failMsg != "HTTP 400: contacts: No such object: x" {
		t.Fatalf("failed batch reason %q (%v)", failMsg, err)
	}
	var status string
	if err := me.db.QueryRow(`SELECT status FROM messages WHERE id = ?`, m.ID).Scan(&status); err != nil || status != "F" {
		t.Fatalf("message status %q (%v), want F", status, err)
	}
}

// TestMessageInterruptedBroadcastBecomesUnknown: a broadcast claimed by a
// process that stopped mid-request, which RapidPro does not list, is never
// sent again: it becomes unknown, for review.
func TestMessageInterruptedBroadcastBecomesUnknown(t *testing.T) {
	se := newStartEnv(t, 63, 5)
	ctx := context.Background()
	var ids []int64
	rows, _ := se.db.Query(`SELECT id FROM contacts WHERE region_id = ? ORDER BY id`, se.panel)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	m, err := se.db.SendReply(ctx, se.org, se.scope, ids[0], 0, "We are coming on Monday.")
	if err != nil || m.Contacts != 1 || m.Batches != 1 {
		t.Fatalf("reply %+v %v", m, err)
	}
	// A claim left a minute ago by a process that stopped mid-request.
	if _, err := se.db.Exec(`UPDATE outbox SET attempts = 1, last_error = 'sending', updated_at = updated_at - 60000 WHERE kind = 'broadcast'`); err != nil {
		t.Fatal(err)
	}
	se.sim.ResetLog()
	if r := se.deliver(); r.Unknown != 1 || r.Sent != 0 {
		t.Fatalf("pass %+v, want the interrupted broadcast unknown", r)
	}
	for _, r := range se.sim.Requests() {
		if r.Path == "/api/v2/broadcasts.json" && r.Method == "POST" {
			t.Fatal("an interrupted broadcast was resent")
		}
	}
	_, msgs, err := se.db.ContactMessages(ctx, se.org.ID, ids[0], se.scope)
	if err != nil || len(msgs) != 1 || msgs[0].Status != models.BatchUnknown || !strings.Contains(msgs[0].Error, "needs review") {
		t.Fatalf("contact messages %+v %v", msgs, err)
	}
}

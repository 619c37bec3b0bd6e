package main

// The restore drill of issue #13, point 1: pushes of every kind are queued in
// a node that replicates to S3; S3 stops taking writes (so the node's claims
// and sent marks of the next outbox pass fall inside the replication loss
// window), the pass sends part of them, the node is SIGKILLed mid-pass, and a
// new node restores the replica on an empty directory and runs with jobs on.
// Through the simulator's request log and state: nothing is sent twice,
// nothing is silently dropped.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// drillItem is one queued push and how to recognise its writes in the
// simulator's log.
type drillItem struct {
	row    int64
	kind   string
	uid    string
	urn    string // contact create
	uuid   string // contact update / delete
	name   string // contact update
	text   string // broadcast
	people string // broadcast contacts, sorted and joined
}

// matches reports whether a logged write is this push's.
func (it drillItem) matches(r fake.LoggedRequest) bool {
	var body struct {
		Name     string         `json:"name"`
		URNs     []string       `json:"urns"`
		Text     string         `json:"text"`
		Contacts []string       `json:"contacts"`
		Params   map[string]any `json:"params"`
	}
	json.Unmarshal(r.Body, &body)
	switch it.kind {
	case models.OutboxContactCreate:
		return r.Method == "POST" && r.Path == "/api/v2/contacts.json" && r.RawQuery == "" && len(body.URNs) > 0 && body.URNs[0] == it.urn
	case models.OutboxContactUpdate:
		return r.Method == "POST" && r.Path == "/api/v2/contacts.json" && r.RawQuery == "uuid="+it.uuid && body.Name == it.name
	case models.OutboxContactDelete:
		return r.Method == "DELETE" && r.RawQuery == "uuid="+it.uuid
	case models.OutboxFlowStart:
		return r.Method == "POST" && r.Path == "/api/v2/flow_starts.json" && body.Params[models.OutboxKeyParam] == it.uid
	}
	slices.Sort(body.Contacts)
	return r.Method == "POST" && r.Path == "/api/v2/broadcasts.json" && body.Text == it.text && strings.Join(body.Contacts, ",") == it.people
}

// isWrite reports whether a logged request wrote to RapidPro.
func isWrite(r fake.LoggedRequest) bool { return r.Method == "POST" || r.Method == "DELETE" }

func TestRestoreDrillNothingSentTwice(t *testing.T) {
	requireE2E(t)
	buildBinaries(t, true)
	s3 := startS3(t)
	ctx := context.Background()
	sim, err := startSimulator("127.0.0.1:0", fake.GenConfig{Seed: 13, Contacts: 600, Weeks: 1, Timezone: "Africa/Kigali"}, fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.close()

	// 1. Node A: first boot, replicating every 500 ms, an org synced.
	a := newNode(t, s3, "drill", "500ms")
	a.start()
	a.waitReady()
	a.tracpro("", "org", "create", "-name", "Demo", "-subdomain", "demo", "-rapidpro-url", sim.url, "-token", sim.server.Token(), "-timezone", "Africa/Kigali")
	a.tracpro("", "org", "track", "-org", "demo", "-panels", strings.Join(sim.info.Panels, ","), "-cohorts", strings.Join(sim.info.Cohorts, ","), "-polls", strings.Join(sim.info.Polls, ","))
	a.tracpro("", "sync", "-org", "demo")
	db, err := models.Open(a.db) // the web app's writes, made here through the same model functions
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, err := db.OrgByRef(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.ResolveScope(ctx, org.ID, 0, true, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	var contacts []int64
	rows, err := db.Query(`SELECT id FROM contacts WHERE org_id = ? AND is_active = 1 AND region_id IS NOT NULL ORDER BY id`, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		contacts = append(contacts, id)
	}
	rows.Close()
	edit := func(id int64, name string) {
		var urn string
		var region int64
		if err := db.QueryRow(`SELECT urn, region_id FROM contacts WHERE id = ?`, id).Scan(&urn, &region); err != nil {
			t.Fatal(err)
		}
		scheme, path, _ := strings.Cut(urn, ":")
		if err := db.UpdateContact(ctx, org, admin, id, models.ContactInput{Name: name, Scheme: scheme, Path: path, RegionID: region, Language: "eng"}); err != nil {
			t.Fatal(err)
		}
	}

	// 2. Find the outbox pass: a probe push, sent by the next pass.
	edit(contacts[0], "Probe")
	waitFor(t, "the probe push", func() bool {
		var n int
		db.QueryRow(`SELECT count(*) FROM outbox WHERE state = 'sent'`).Scan(&n)
		return n == 1
	})
	time.Sleep(300 * time.Millisecond) // the pass ends
	queuedAt := time.Now()

	// 3. Pushes of every kind: two replies, a poll start propagated to the
	// biggest province (several batches of 100), 30 creates (elsewhere: a
	// start names contacts by their RapidPro UUID), 10 updates, 5 deletes,
	// and a reply identical to the first. The pass below is cut after half
	// of them: the first replies are sent, the last is not.
	best, most := int64(0), 0
	inProvince := map[int64]bool{}
	for _, r := range admin.Tree.Panels {
		ids := admin.Tree.Descendants(r.ID)
		if len(ids) == len(admin.Tree.Panels) {
			continue // the whole country: nowhere left for the new contacts
		}
		list := make([]string, len(ids))
		for i, id := range ids {
			list[i] = fmt.Sprint(id)
		}
		var n int
		db.QueryRow(`SELECT count(*) FROM contacts WHERE org_id = ? AND is_active = 1 AND region_id IN (`+strings.Join(list, ",")+`)`, org.ID).Scan(&n)
		if n > most {
			best, most = r.ID, n
			clear(inProvince)
			for _, id := range ids {
				inProvince[id] = true
			}
		}
	}
	if most <= models.FlowStartBatch {
		t.Fatalf("no panel with more than %d contacts (most: %d)", models.FlowStartBatch, most)
	}
	var elsewhere int64
	for _, r := range admin.Tree.Panels {
		if !inProvince[r.ID] {
			elsewhere = r.ID
			break
		}
	}
	if elsewhere == 0 {
		t.Fatal("every panel is in the started province")
	}
	polls, err := db.ListPolls(ctx, org.ID, true)
	if err != nil || len(polls) == 0 {
		t.Fatalf("polls: %v", err)
	}
	reply := func(contact int64, text string) {
		if _, err := db.SendReply(ctx, org, admin, contact, 0, text); err != nil {
			t.Fatal(err)
		}
	}
	reply(contacts[20], "Training moves to Monday.")
	reply(contacts[21], "Thank you for answering.")
	if _, err := db.StartPoll(ctx, models.PollStart{Org: org, Scope: admin, PollID: polls[0].ID, RegionID: best, Propagate: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := db.CreateContact(ctx, org, admin, models.ContactInput{Name: fmt.Sprintf("Drill %02d", i), Scheme: "tel",
			Path: fmt.Sprintf("+250788630%03d", i), RegionID: elsewhere, Language: "eng"}); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range contacts[1:11] {
		edit(id, fmt.Sprintf("Edited %02d", i))
	}
	for _, id := range contacts[11:16] {
		if err := db.DeleteContact(ctx, org, admin, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	reply(contacts[20], "Training moves to Monday.") // the same again, queued last
	items := drillItems(t, db, org.ID)
	t.Logf("%d pushes queued (%d contacts in the started province)", len(items), most)

	// 4. The replica holds every push pending; then S3 stops taking writes,
	// and every RapidPro write is slowed so that the pass can be cut in two.
	waitReplicated(t, a, items)
	s3.writesDown.Store(true)
	if since := time.Since(queuedAt); since > 4*time.Second {
		t.Logf("warning: the replica caught up %s after the pushes were queued: the pass may have begun before S3 went down", since.Round(time.Millisecond))
	}
	for _, m := range []string{"POST", "DELETE"} {
		sim.server.Script(fake.Fault{Kind: fake.FaultSlowFirstByte, Method: m, Delay: 120 * time.Millisecond, Probability: 1})
	}
	writes := func() (n int) {
		for _, r := range sim.server.Requests() {
			if isWrite(r) && r.At.After(queuedAt) {
				n++
			}
		}
		return n
	}
	half := len(items) / 2
	deadline := time.Now().Add(30 * time.Second)
	for writes() < half {
		if time.Now().After(deadline) {
			t.Fatalf("the outbox pass made %d writes in 30 s, want %d", writes(), half)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.kill(syscall.SIGKILL) // the machine is lost mid-pass
	time.Sleep(300 * time.Millisecond)
	sim.server.ClearFaults()
	byA := map[int64]int{}
	for _, r := range sim.server.Requests() {
		for _, it := range items {
			if isWrite(r) && it.matches(r) {
				byA[it.row]++
			}
		}
	}
	t.Logf("node A wrote %d of %d pushes before it was killed", len(byA), len(items))
	s3.writesDown.Store(false)

	// The loss window held: the replica has pushes pending that RapidPro has.
	check := filepath.Join(t.TempDir(), "check.db")
	if out, err := a.restore(check); err != nil {
		t.Fatalf("restore to check: %v\n%s", err, out)
	}
	lost := 0
	for _, st := range outboxStates(t, check, items) {
		if st.state == models.OutboxPending && byA[st.row] > 0 {
			lost++
		}
	}
	if lost == 0 {
		t.Fatal("no sent push is pending in the replica: the drill missed the loss window")
	}
	t.Logf("%d pushes RapidPro has are pending in the replica", lost)

	// 5. Node B restores on an empty directory and runs with jobs on.
	b := newNode(t, s3, "drill", "500ms")
	b.start()
	b.waitReady()
	if !strings.Contains(b.logs(), "restored "+b.db+" from the replica") || !strings.Contains(b.logs(), "pending pushes are checked against RapidPro") {
		t.Errorf("node B did not restore and reconcile:\n%s", b.logs())
	}
	served := time.Now()
	var final []drillState
	waitLong(t, "node B to settle every push", 120*time.Second, func() bool {
		final = outboxStates(t, b.db, items)
		for _, st := range final {
			if st.state == models.OutboxPending {
				return false
			}
		}
		return true
	})
	t.Logf("node B settled every push %s after it served (the settle before reading RapidPro is the push timeout, 30 s)",
		time.Since(served).Round(100*time.Millisecond))

	// Nothing sent twice; nothing dropped: each push was sent exactly once
	// (by A, or by B after finding RapidPro without it), or is unknown for
	// review with nothing resent. A failed push would be a refusal.
	all := sim.server.Requests()
	count := func(it drillItem) (n int) {
		for _, r := range all {
			if isWrite(r) && it.matches(r) {
				n++
			}
		}
		return n
	}
	sent, review := 0, 0
	type group struct{ writes, sent, unknown int }
	replies := map[string]*group{}
	for i, st := range final {
		it := items[i]
		if it.kind == models.OutboxBroadcast {
			// Identical replies (one text to one contact) cannot be told
			// apart in the log: each sent row has its broadcast, and no
			// more were made than rows sent or left for review.
			g := replies[it.text+"|"+it.people]
			if g == nil {
				g = &group{writes: count(it)}
				replies[it.text+"|"+it.people] = g
			}
			switch {
			case st.state == models.OutboxSent:
				g.sent++
			case st.state == models.OutboxUnknown && strings.Contains(st.msg, "needs review"):
				g.unknown++
			default:
				t.Errorf("reply %d: %s (%q)", it.row, st.state, st.msg)
			}
			continue
		}
		if n := count(it); st.state != models.OutboxSent || n != 1 {
			t.Errorf("push %d (%s %s%s%s): %s after %d writes (%q)", it.row, it.kind, it.urn, it.uuid, it.uid, st.state, n, st.msg)
			continue
		}
		sent++
	}
	for k, g := range replies {
		if g.writes < g.sent || g.writes > g.sent+g.unknown {
			t.Errorf("reply %q: %d broadcasts in RapidPro for %d rows sent and %d for review", k, g.writes, g.sent, g.unknown)
		}
		sent += g.sent
		review += g.unknown
	}
	t.Logf("node B: %d pushes sent once, %d for review", sent, review)
	// RapidPro holds each created contact once, and a pull on B imports no
	// duplicate.
	b.tracpro("", "sync", "-org", "demo", "-only", "contacts")
	ro, err := sql.Open("sqlite3", "file:"+b.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var dupes int
	ro.QueryRow(`SELECT count(*) FROM (SELECT urn FROM contacts WHERE is_active = 1 AND urn <> '' GROUP BY urn HAVING count(*) > 1)`).Scan(&dupes)
	simDupes := 0
	sim.store.Read(func() {
		owners := map[string]int{}
		for _, c := range sim.store.Contacts {
			if !c.Deleted {
				for _, u := range c.URNs {
					owners[u]++
				}
			}
		}
		for _, n := range owners {
			if n > 1 {
				simDupes++
			}
		}
	})
	if dupes != 0 || simDupes != 0 {
		t.Fatalf("duplicate contacts: %d URNs twice in TracPro, %d in RapidPro", dupes, simDupes)
	}
}

// drillItems lists the pending pushes of the org (the probe is sent).
func drillItems(t *testing.T, db *models.DB, orgID int64) []drillItem {
	t.Helper()
	rows, err := db.Query(`SELECT o.id, o.kind, o.uid, o.payload, coalesce(c.uuid, '') FROM outbox o
		LEFT JOIN contacts c ON c.id = json_extract(o.payload, '$.contact')
		WHERE o.org_id = ? AND o.state = 'pending' ORDER BY o.id`, orgID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []drillItem
	for rows.Next() {
		var it drillItem
		var payload, contact string
		if err := rows.Scan(&it.row, &it.kind, &it.uid, &payload, &contact); err != nil {
			t.Fatal(err)
		}
		var p struct {
			Name     string   `json:"name"`
			URNs     []string `json:"urns"`
			Text     string   `json:"text"`
			Contacts []string `json:"contacts"`
		}
		json.Unmarshal([]byte(payload), &p)
		switch it.kind {
		case models.OutboxContactCreate:
			it.urn = p.URNs[0]
		case models.OutboxContactUpdate, models.OutboxContactDelete:
			it.uuid, it.name = contact, p.Name
		case models.OutboxBroadcast:
			slices.Sort(p.Contacts)
			it.text, it.people = p.Text, strings.Join(p.Contacts, ",")
		}
		out = append(out, it)
	}
	return out
}

// drillState is a push's state in a database.
type drillState struct {
	row        int64
	state, msg string
}

// outboxStates reads the state of each push in the database at path.
func outboxStates(t *testing.T, path string, items []drillItem) []drillState {
	t.Helper()
	ro, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	out := make([]drillState, len(items))
	for i, it := range items {
		out[i].row = it.row
		if err := ro.QueryRow(`SELECT state, last_error FROM outbox WHERE id = ?`, it.row).Scan(&out[i].state, &out[i].msg); err != nil {
			t.Fatalf("push %d in %s: %v", it.row, path, err)
		}
	}
	return out
}

// waitReplicated waits until a restore of node n's replica holds every push.
func waitReplicated(t *testing.T, n *node, items []drillItem) {
	t.Helper()
	dir := t.TempDir()
	waitLong(t, "the replica to hold the pushes", 20*time.Second, func() bool {
		path := filepath.Join(dir, fmt.Sprintf("r%d.db", time.Now().UnixNano()))
		if _, err := n.restore(path); err != nil {
			return false
		}
		ro, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
		if err != nil {
			return false
		}
		defer ro.Close()
		var have int
		ro.QueryRow(`SELECT count(*) FROM outbox WHERE id >= ? AND state = 'pending'`, items[0].row).Scan(&have)
		return have == len(items)
	})
}

// waitLong is waitFor with its own limit.
func waitLong(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

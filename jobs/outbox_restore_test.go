package jobs

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// restoreEnv is the loss window of issue #13 at the jobs level: the "server"
// (se) queues pushes of every kind, the replica (a copy of its database)
// holds them all pending, then the server sends some and dies; the restored
// node opens the copy with RapidPro's state from after.
type restoreEnv struct {
	*startEnv
	creates                 map[string]int64 // URN → local contact id
	updates, deletes        []int64          // local contact ids
	unsent                  []int64          // outbox rows the server never sent
	reply1, reply2          int64            // two messages with the same text to the same contact
	pollrun                 int64
	updateNames             map[int64]string
	restored                *env
	check                   *models.NodeCheck
	serverWrites, nodeWrite []fake.LoggedRequest
}

// writes returns the write requests (POST, DELETE) the simulator received.
func (re *restoreEnv) writes() []fake.LoggedRequest {
	var out []fake.LoggedRequest
	for _, r := range re.sim.Requests() {
		if r.Method == "POST" || r.Method == "DELETE" {
			out = append(out, r)
		}
	}
	return out
}

// editInput is the contact form of an existing contact with a new name.
func (re *restoreEnv) editInput(id int64, name string) models.ContactInput {
	re.t.Helper()
	var urn string
	var region int64
	if err := re.db.QueryRow(`SELECT urn, region_id FROM contacts WHERE id = ?`, id).Scan(&urn, &region); err != nil {
		re.t.Fatal(err)
	}
	scheme, path, _ := strings.Cut(urn, ":")
	return models.ContactInput{Name: name, Scheme: scheme, Path: path, RegionID: region, Language: "eng"}
}

// drainNode delivers on the restored node until nothing is pending, letting
// time pass between passes (uncertain rows past their settle, back-offs due).
func (re *restoreEnv) drainNode() {
	re.t.Helper()
	for range 20 {
		if _, err := re.restored.syncer.DeliverOutbox(context.Background()); err != nil {
			re.t.Fatal(err)
		}
		if re.restored.count(`SELECT count(*) FROM outbox WHERE state = 'pending'`) == 0 {
			return
		}
		if _, err := re.restored.db.Exec(`UPDATE outbox SET next_attempt_at = 0, verify_since = max(verify_since - 60000, 0),
			updated_at = updated_at - 60000 WHERE state = 'pending'`); err != nil {
			re.t.Fatal(err)
		}
	}
	re.t.Fatal("the restored node's outbox never drained")
}

func newRestoreEnv(t *testing.T) *restoreEnv {
	se := newStartEnv(t, 47, 150)
	ctx := context.Background()
	re := &restoreEnv{startEnv: se, creates: map[string]int64{}, updateNames: map[int64]string{}}
	admin, err := se.db.ResolveScope(ctx, se.org.ID, 0, true, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	// Every kind of push: 4 creates, 3 updates, 2 deletes of contacts
	// outside the panel, a poll start of 150 contacts (2 batches), and two
	// replies with the same text to the same contact.
	var elsewhere int64
	if err := se.db.QueryRow(`SELECT id FROM regions WHERE org_id = ? AND is_active = 1 AND id <> ? ORDER BY id LIMIT 1`, se.org.ID, se.panel).Scan(&elsewhere); err != nil {
		t.Fatal(err)
	}
	for i, phone := range []string{"+250 788 610 001", "+250 788 610 002", "+250 788 610 003", "+250 788 610 004"} {
		id, err := se.db.CreateContact(ctx, se.org, admin, models.ContactInput{Name: "New " + string(rune('A'+i)), Scheme: "tel", Path: phone,
			RegionID: elsewhere, Language: "eng"})
		if err != nil {
			t.Fatal(err)
		}
		re.creates["tel:"+strings.ReplaceAll(phone, " ", "")] = id
	}
	rows, err := se.db.Query(`SELECT id FROM contacts WHERE org_id = ? AND is_active = 1 AND local_only = 0 AND region_id <> ? ORDER BY id LIMIT 5`, se.org.ID, se.panel)
	if err != nil {
		t.Fatal(err)
	}
	var others []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		others = append(others, id)
	}
	rows.Close()
	re.updates, re.deletes = others[:3], others[3:5]
	for i, id := range re.updates {
		name := "Edited " + string(rune('A'+i))
		re.updateNames[id] = name
		if err := se.db.UpdateContact(ctx, se.org, admin, id, re.editInput(id, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range re.deletes {
		if err := se.db.DeleteContact(ctx, se.org, admin, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	re.pollrun = se.start().PollrunID
	var member int64
	if err := se.db.QueryRow(`SELECT id FROM contacts WHERE uuid = ?`, se.member[0]).Scan(&member); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []*int64{&re.reply1, &re.reply2} {
		m, err := se.db.SendReply(ctx, se.org, se.scope, member, 0, "The meeting moves to Monday.")
		if err != nil {
			t.Fatal(err)
		}
		*dst = m.ID
	}
	return re
}

// TestRestoredNodeNeverSendsTwice: the replica holds every push pending; the
// server then sent most of them (their claims and sent marks lost with it)
// and never sent the rest. The node restored from the replica sends nothing
// twice and drops nothing: what RapidPro has is recorded as sent (read back
// by URN, by UUID, by the key in the flow start's params, by the
// broadcast's text and contacts), what it lacks is sent once, and the
// second of two identical replies — which RapidPro cannot tell apart from
// the first — is left for review.
func TestRestoredNodeNeverSendsTwice(t *testing.T) {
	re := newRestoreEnv(t)
	ctx := context.Background()
	replica := filepath.Join(t.TempDir(), "replica.db")
	if _, err := re.db.Exec(`VACUUM INTO ?`, replica); err != nil {
		t.Fatal(err)
	}
	if n := re.count(`SELECT count(*) FROM outbox WHERE state = 'pending' AND attempts = 0`); n != 4+3+2+2+2 {
		t.Fatalf("%d pushes pending in the replica, want 13", n)
	}

	// The server sends all but one push of each kind, then dies. (The rows
	// it never sent are held back here, in its database only.)
	held := `SELECT o.id FROM outbox o WHERE
		(o.kind = 'contact_create' AND o.ordering_key = ?) OR (o.kind = 'contact_update' AND o.ordering_key = ?)
		OR (o.kind = 'contact_delete' AND o.ordering_key = ?)
		OR (o.kind = 'flow_start' AND o.id = (SELECT max(id) FROM outbox WHERE kind = 'flow_start'))
		OR (o.kind = 'broadcast' AND json_extract(o.payload, '$.message') = ?)`
	rows, err := re.db.Query(held, models.ContactOrdering(re.creates["tel:+250788610004"]), models.ContactOrdering(re.updates[2]),
		models.ContactOrdering(re.deletes[1]), re.reply2)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		re.unsent = append(re.unsent, id)
	}
	rows.Close()
	if len(re.unsent) != 5 {
		t.Fatalf("%d rows held back, want 5", len(re.unsent))
	}
	for _, id := range re.unsent {
		if _, err := re.db.Exec(`UPDATE outbox SET next_attempt_at = ? WHERE id = ?`, time.Now().Add(time.Hour).UnixMilli(), id); err != nil {
			t.Fatal(err)
		}
	}
	re.sim.ResetLog()
	for range 5 {
		re.deliver()
	}
	re.serverWrites = re.writes()
	if len(re.serverWrites) != 3+2+1+1+1 {
		t.Fatalf("the server made %d writes, want 8", len(re.serverWrites))
	}

	// The node restored from the replica, on a new disk: no node file.
	db, err := models.OpenMigrated(ctx, replica)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	re.restored = &env{t: t, db: db, org: re.org, sim: re.sim, store: re.store, info: re.info, http: re.http}
	re.restored.syncer = NewSyncer(db, re.syncer.Cfg)
	if re.check, err = db.StartNode(ctx); err != nil {
		t.Fatal(err)
	}
	if re.check.State != models.NodeRestored || re.check.Uncertain != 13 {
		t.Fatalf("node check %+v, want restored with 13 uncertain pushes", re.check)
	}
	re.sim.ResetLog()
	// Within the settle time nothing is read or written.
	if r, err := re.restored.syncer.DeliverOutbox(ctx); err != nil || r != (OutboxResult{}) || len(re.sim.Requests()) != 0 {
		t.Fatalf("first pass on the restored node: %+v %v, %d requests", r, err, len(re.sim.Requests()))
	}
	re.drainNode()
	re.nodeWrite = re.writes()

	// Nothing sent twice: each write of the restored node is one of the
	// five the server never made.
	type write struct{ method, what string }
	key := func(r fake.LoggedRequest) write {
		var body map[string]any
		json.Unmarshal(r.Body, &body)
		switch {
		case strings.Contains(r.Path, "flow_starts"):
			params, _ := body["params"].(map[string]any)
			return write{r.Method, "start " + params[models.OutboxKeyParam].(string)}
		case strings.Contains(r.Path, "broadcasts"):
			return write{r.Method, "broadcast " + body["text"].(string)}
		case r.RawQuery != "":
			return write{r.Method, "contact " + r.RawQuery}
		}
		urns, _ := body["urns"].([]any)
		return write{r.Method, "create " + urns[0].(string)}
	}
	seen := map[write]int{}
	for _, r := range append(append([]fake.LoggedRequest(nil), re.serverWrites...), re.nodeWrite...) {
		seen[key(r)]++
	}
	for w, n := range seen {
		if n != 1 {
			t.Errorf("%s %s was sent %d times", w.method, w.what, n)
		}
	}
	if len(re.nodeWrite) != 4 {
		var got []write
		for _, r := range re.nodeWrite {
			got = append(got, key(r))
		}
		t.Fatalf("the restored node wrote %v, want exactly the 4 pushes never sent (create, update, delete, second batch)", got)
	}
	for _, r := range re.nodeWrite {
		if r.Status >= 300 {
			t.Errorf("%s %s answered %d", r.Method, r.Path, r.Status)
		}
	}

	// Nothing dropped: every push is settled; only the second identical
	// reply is unknown, with the message the message log shows.
	if n := re.restored.count(`SELECT count(*) FROM outbox WHERE state = 'sent'`); n != 12 {
		t.Errorf("%d pushes sent, want 12", n)
	}
	var unknownMsg int64
	var reason string
	if err := db.QueryRow(`SELECT json_extract(payload, '$.message'), last_error FROM outbox WHERE state <> 'sent'`).Scan(&unknownMsg, &reason); err != nil ||
		unknownMsg != re.reply2 || !strings.Contains(reason, "needs review") {
		t.Fatalf("the push not sent: message %d (want %d), %q %v", unknownMsg, re.reply2, reason, err)
	}
	scope, _ := db.ResolveScope(ctx, re.org.ID, 0, true, 0, true)
	msgs, _, err := db.ListMessages(ctx, scope, 1, 50)
	if err != nil {
		t.Fatal(err)
	}
	states := map[int64]string{}
	for _, m := range msgs {
		states[m.ID] = m.Status.State()
	}
	if states[re.reply1] != models.BatchSent || states[re.reply2] != models.BatchUnknown {
		t.Fatalf("message log states %v: want reply %d sent, reply %d unknown", states, re.reply1, re.reply2)
	}

	// RapidPro holds each contact once; the restored node knows the
	// created contacts by RapidPro's UUIDs; a pull imports no copy.
	for urn, id := range re.creates {
		sim := (&contactEnv{env: re.restored}).simByURN(urn)
		var local string
		var localOnly bool
		db.QueryRow(`SELECT uuid, local_only FROM contacts WHERE id = ?`, id).Scan(&local, &localOnly)
		if len(sim) != 1 || local != sim[0].UUID || localOnly {
			t.Errorf("%s: RapidPro has %d contacts, local UUID %s (local only %v)", urn, len(sim), local, localOnly)
		}
	}
	for id, name := range re.updateNames {
		var u string
		db.QueryRow(`SELECT uuid FROM contacts WHERE id = ?`, id).Scan(&u)
		re.store.Read(func() {
			if c := re.store.ContactsByUUID[u]; c == nil || c.Name != name {
				t.Errorf("contact %d in RapidPro: %+v, want named %q", id, c, name)
			}
		})
	}
	for _, id := range re.deletes {
		var u string
		db.QueryRow(`SELECT uuid FROM contacts WHERE id = ?`, id).Scan(&u)
		re.store.Read(func() {
			if c := re.store.ContactsByUUID[u]; c != nil && !c.Deleted {
				t.Errorf("contact %d still live in RapidPro", id)
			}
		})
	}
	re.restored.mustPull(ResContacts)
	if n := re.restored.count(`SELECT count(*) FROM (SELECT urn FROM contacts WHERE org_id = ? AND is_active = 1 AND urn <> '' GROUP BY urn HAVING count(*) > 1)`, re.org.ID); n != 0 {
		t.Fatalf("%d URNs held by two active contacts after a pull", n)
	}
	// The poll run's two batches: one start each in RapidPro, both recorded.
	var starts []string
	re.store.Read(func() {
		for _, fs := range re.store.FlowStarts {
			if k, _ := fs.Params[models.OutboxKeyParam].(string); k != "" {
				starts = append(starts, fs.UUID)
			}
		}
	})
	var recorded []string
	r, _ := db.Query(`SELECT uuid FROM flow_starts WHERE pollrun_id = ? AND status = 'started' ORDER BY id`, re.pollrun)
	for r.Next() {
		var u string
		r.Scan(&u)
		recorded = append(recorded, u)
	}
	r.Close()
	slices.Sort(starts)
	slices.Sort(recorded)
	if len(starts) != 2 || !slices.Equal(starts, recorded) {
		t.Fatalf("RapidPro has starts %v, the restored node recorded %v", starts, recorded)
	}
}

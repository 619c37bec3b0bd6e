package jobs

import (
	"context"
	"slices"
	"strings"
	"testing"

	"tracpro/models"
	"tracpro/rapidpro"
	"tracpro/rapidpro/fake"
)

// contactEnv is a simulator org with contacts pulled, an administrator's
// scope and a panel to create contacts in.
type contactEnv struct {
	*env
	scope *models.Scope
	panel int64
}

func newContactEnv(t *testing.T, seed int64) *contactEnv {
	t.Helper()
	e := newEnv(t, fake.GenConfig{Seed: seed, Contacts: 40, Weeks: 1}, fake.Config{}, false)
	e.mustPull(ResContacts)
	scope, err := e.db.ResolveScope(context.Background(), e.org.ID, 0, true, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	ce := &contactEnv{env: e, scope: scope}
	if err := e.db.QueryRow(`SELECT id FROM regions WHERE org_id = ? AND is_active = 1 ORDER BY id LIMIT 1`, e.org.ID).Scan(&ce.panel); err != nil {
		t.Fatal(err)
	}
	return ce
}

func (ce *contactEnv) input(name, phone string) models.ContactInput {
	return models.ContactInput{Name: name, Scheme: "tel", Path: phone, RegionID: ce.panel, Language: "eng"}
}

// simByURN returns the live simulator contacts owning urn.
func (ce *contactEnv) simByURN(urn string) []fake.Contact {
	var out []fake.Contact
	ce.store.Read(func() {
		for _, c := range ce.store.Contacts {
			if !c.Deleted && slices.Contains(c.URNs, urn) {
				out = append(out, *c)
			}
		}
	})
	return out
}

// drain delivers until nothing is pending, making every pending row due
// again between passes (time passing); it returns the number of passes.
func (ce *contactEnv) drain() int {
	ce.t.Helper()
	for pass := 1; pass <= 30; pass++ {
		if _, err := ce.syncer.DeliverOutbox(context.Background()); err != nil {
			ce.t.Fatal(err)
		}
		if ce.count(`SELECT count(*) FROM outbox WHERE state = 'pending'`) == 0 {
			return pass
		}
		if _, err := ce.db.Exec(`UPDATE outbox SET next_attempt_at = 0 WHERE state = 'pending'`); err != nil {
			ce.t.Fatal(err)
		}
	}
	ce.t.Fatal("the outbox never drained")
	return 0
}

// contactWrites returns the status of each contacts.json write the simulator
// received: creates (POST without ?uuid=), updates and deletes.
func (ce *contactEnv) contactWrites() (creates, updates, deletes []int) {
	for _, r := range ce.sim.Requests() {
		if r.Path != "/api/v2/contacts.json" {
			continue
		}
		switch {
		case r.Method == "POST" && !strings.Contains(r.RawQuery, "uuid="):
			creates = append(creates, r.Status)
		case r.Method == "POST":
			updates = append(updates, r.Status)
		case r.Method == "DELETE":
			deletes = append(deletes, r.Status)
		}
	}
	return
}

// TestContactPushesSurviveFaults: with RapidPro answering 5xx, 429 and a
// truncated answer to a create that did happen, nothing is lost or written
// twice, and the outbox drains once RapidPro recovers.
func TestContactPushesSurviveFaults(t *testing.T) {
	ce := newContactEnv(t, 71)
	ctx := context.Background()
	a, err := ce.db.CreateContact(ctx, ce.org, ce.scope, ce.input("Alice", "+250 788 600 001"))
	if err != nil {
		t.Fatal(err)
	}
	in := ce.input("Alice Two", "+250 788 600 001")
	if err := ce.db.UpdateContact(ctx, ce.org, ce.scope, a, in); err != nil {
		t.Fatal(err)
	}
	if _, err := ce.db.CreateContact(ctx, ce.org, ce.scope, ce.input("Bob", "+250 788 600 002")); err != nil {
		t.Fatal(err)
	}
	var gone int64
	var goneUUID string
	if err := ce.db.QueryRow(`SELECT id, uuid FROM contacts WHERE is_active = 1 AND local_only = 0 ORDER BY id LIMIT 1`).Scan(&gone, &goneUUID); err != nil {
		t.Fatal(err)
	}
	if err := ce.db.DeleteContact(ctx, ce.org, ce.scope, gone, 0); err != nil {
		t.Fatal(err)
	}
	ce.sim.ResetLog()
	for _, f := range []fake.Fault{
		{Kind: fake.FaultTruncate, Method: "POST", Path: "contacts"},                      // Alice created, answer lost
		{Kind: fake.FaultStatus, Method: "POST", Path: "contacts", Status: 500, Times: 2}, // not written
		{Kind: fake.FaultThrottle, Method: "GET", Path: "contacts", RetryAfter: 30},       // the read-back throttled
		{Kind: fake.FaultStatus, Method: "DELETE", Path: "contacts", Status: 503},
		{Kind: fake.FaultThrottle, Method: "POST", Path: "contacts", RetryAfter: 30},
	} {
		ce.sim.Script(f)
	}
	passes := ce.drain()
	if n := ce.count(`SELECT count(*) FROM outbox WHERE state = 'sent'`); n != 4 {
		t.Fatalf("%d pushes sent, want 4 (states: %d failed, %d unknown)", n,
			ce.count(`SELECT count(*) FROM outbox WHERE state = 'failed'`), ce.count(`SELECT count(*) FROM outbox WHERE state = 'unknown'`))
	}
	alice, bob := ce.simByURN("tel:+250788600001"), ce.simByURN("tel:+250788600002")
	if len(alice) != 1 || alice[0].Name != "Alice Two" || len(bob) != 1 || bob[0].Name != "Bob" {
		t.Fatalf("RapidPro has %d Alice (%v) and %d Bob", len(alice), alice, len(bob))
	}
	var aliceUUID string
	ce.db.QueryRow(`SELECT uuid FROM contacts WHERE id = ?`, a).Scan(&aliceUUID)
	if aliceUUID != alice[0].UUID {
		t.Fatalf("local Alice has UUID %s, RapidPro's is %s", aliceUUID, alice[0].UUID)
	}
	ce.store.Read(func() {
		if c := ce.store.ContactsByUUID[goneUUID]; c == nil || !c.Deleted {
			t.Error("the deleted contact is still in RapidPro")
		}
	})
	creates, updates, deletes := ce.contactWrites()
	t.Logf("%d passes; create statuses %v, update statuses %v, delete statuses %v", passes, creates, updates, deletes)
	if ok := slices.DeleteFunc(slices.Clone(creates), func(s int) bool { return s != 201 }); len(ok) != 2 {
		t.Errorf("%d contacts created in RapidPro, want 2 (none twice): %v", len(ok), creates)
	}
	if ok := slices.DeleteFunc(slices.Clone(updates), func(s int) bool { return s != 200 }); len(ok) != 1 {
		t.Errorf("%d updates applied, want 1: %v", len(ok), updates)
	}
	all := slices.Concat(creates, updates, deletes)
	for _, st := range []int{500, 429, 503} {
		if !slices.Contains(all, st) && !(st == 429 && ce.sawGET429()) {
			t.Errorf("the fault %d never happened: the test proves nothing", st)
		}
	}
	if slices.Index(deletes, 204) < 0 {
		t.Errorf("delete statuses %v", deletes)
	}
}

// sawGET429 reports whether a contacts read was throttled.
func (ce *contactEnv) sawGET429() bool {
	for _, r := range ce.sim.Requests() {
		if r.Method == "GET" && r.Path == "/api/v2/contacts.json" && r.Status == 429 {
			return true
		}
	}
	return false
}

// TestContactPushRefusedThenFixed: RapidPro refuses a create (the URN
// belongs to another contact there): the push fails with RapidPro's
// message; the edit that fixes the URN is sent as a create.
func TestContactPushRefusedThenFixed(t *testing.T) {
	ce := newContactEnv(t, 72)
	ctx := context.Background()
	ce.store.Write(func() { ce.store.AddContact(&fake.Contact{Name: "Owner", URNs: []string{"tel:+250788600009"}}) })
	id, err := ce.db.CreateContact(ctx, ce.org, ce.scope, ce.input("Clash", "+250788600009"))
	if err != nil {
		t.Fatal(err)
	}
	ce.drain()
	var state, msg string
	ce.db.QueryRow(`SELECT state, last_error FROM outbox WHERE kind = 'contact_create'`).Scan(&state, &msg)
	if state != models.OutboxFailed || !strings.Contains(msg, "URN is in use by another contact") {
		t.Fatalf("create = %s %q, want failed with RapidPro's message", state, msg)
	}
	pushes, err := ce.db.ContactPushes(ctx, ce.org.ID, id)
	if err != nil || len(pushes) != 1 || pushes[0].State != "failed" || !strings.Contains(pushes[0].Message, "URN is in use") {
		t.Fatalf("the contact's pushes: %+v %v", pushes, err)
	}
	if err := ce.db.UpdateContact(ctx, ce.org, ce.scope, id, ce.input("Clash fixed", "+250788600010")); err != nil {
		t.Fatal(err)
	}
	ce.drain()
	got := ce.simByURN("tel:+250788600010")
	if len(got) != 1 || got[0].Name != "Clash fixed" {
		t.Fatalf("RapidPro has %v", got)
	}
	var local string
	var localOnly bool
	ce.db.QueryRow(`SELECT uuid, local_only FROM contacts WHERE id = ?`, id).Scan(&local, &localOnly)
	if local != got[0].UUID || localOnly {
		t.Fatalf("local UUID %s (local only %v), RapidPro's %s", local, localOnly, got[0].UUID)
	}
	if owner := ce.simByURN("tel:+250788600009"); len(owner) != 1 || owner[0].Name != "Owner" {
		t.Fatalf("the other RapidPro contact changed: %v", owner)
	}
}

// TestContactCreateInterruptedIsAdopted: the process stopped after the
// create reached RapidPro but before its outcome was recorded (the row is
// still claimed). The next pass reads the contact back by URN and adopts it
// instead of creating it twice.
func TestContactCreateInterruptedIsAdopted(t *testing.T) {
	ce := newContactEnv(t, 73)
	ctx := context.Background()
	id, err := ce.db.CreateContact(ctx, ce.org, ce.scope, ce.input("Dina", "+250 788 600 020"))
	if err != nil {
		t.Fatal(err)
	}
	var row int64
	if err := ce.db.QueryRow(`SELECT id FROM outbox WHERE kind = 'contact_create'`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	// Claimed a minute ago: the stopped process's request is over.
	if ok, err := ce.db.ClaimOutbox(ctx, row, models.NowMs()-60000); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	name, lang := "Dina", "eng"
	created, err := ce.syncer.PushClient(ce.org).CreateContact(ctx, rapidpro.ContactWrite{Name: &name, Language: &lang, URNs: []string{"tel:+250788600020"}})
	if err != nil {
		t.Fatal(err)
	}
	ce.sim.ResetLog()
	ce.drain()
	if got := ce.simByURN("tel:+250788600020"); len(got) != 1 {
		t.Fatalf("%d RapidPro contacts with the URN, want 1", len(got))
	}
	if creates, _, _ := ce.contactWrites(); len(creates) != 0 {
		t.Fatalf("the create was sent again: %v", creates)
	}
	var local string
	ce.db.QueryRow(`SELECT uuid FROM contacts WHERE id = ?`, id).Scan(&local)
	if local != created.UUID {
		t.Fatalf("local UUID %s, RapidPro's %s", local, created.UUID)
	}
}

// TestContactSyncDuringPush: a pull running while a create's outcome is
// uncertain (RapidPro has the contact, TracPro does not know its UUID yet)
// does not import a second copy; a pull while an edit is pending does not
// overwrite it with RapidPro's older state.
func TestContactSyncDuringPush(t *testing.T) {
	ce := newContactEnv(t, 74)
	ctx := context.Background()
	id, err := ce.db.CreateContact(ctx, ce.org, ce.scope, ce.input("Eric", "+250 788 600 030"))
	if err != nil {
		t.Fatal(err)
	}
	ce.sim.Script(fake.Fault{Kind: fake.FaultTruncate, Method: "POST", Path: "contacts"})
	if _, err := ce.syncer.DeliverOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ce.simByURN("tel:+250788600030"); len(got) != 1 {
		t.Fatalf("the truncated create did not reach the simulator: %v", got)
	}
	ce.mustPull(ResContacts)
	if n := ce.count(`SELECT count(*) FROM contacts WHERE urn = 'tel:+250788600030'`); n != 1 {
		t.Fatalf("%d local contacts with the URN after a pull during the uncertain create", n)
	}
	ce.drain()
	ce.mustPull(ResContacts)
	var uuid string
	var n int
	ce.db.QueryRow(`SELECT uuid, (SELECT count(*) FROM contacts WHERE urn = 'tel:+250788600030') FROM contacts WHERE id = ?`, id).Scan(&uuid, &n)
	if sim := ce.simByURN("tel:+250788600030"); n != 1 || len(sim) != 1 || uuid != sim[0].UUID {
		t.Fatalf("%d local contacts; local UUID %s; RapidPro %v", n, uuid, sim)
	}
	// A pending edit survives a pull of RapidPro's (newer-stamped, older) state.
	if err := ce.db.UpdateContact(ctx, ce.org, ce.scope, id, ce.input("Eric Edited", "+250 788 600 030")); err != nil {
		t.Fatal(err)
	}
	ce.store.Write(func() {
		c := ce.store.ContactsByUUID[uuid]
		c.Name, c.ModifiedOn = "Eric in RapidPro", ce.store.Clock.Now()
	})
	ce.mustPull(ResContacts)
	var name string
	ce.db.QueryRow(`SELECT name FROM contacts WHERE id = ?`, id).Scan(&name)
	if name != "Eric Edited" {
		t.Fatalf("the pull overwrote the pending edit with %q", name)
	}
	ce.drain()
	if sim := ce.simByURN("tel:+250788600030"); len(sim) != 1 || sim[0].Name != "Eric Edited" {
		t.Fatalf("RapidPro has %v", sim)
	}
}

// TestContactDeleteAlreadyGone: RapidPro answers 404 to the DELETE of a
// contact deleted there meanwhile: the push is sent (already gone).
func TestContactDeleteAlreadyGone(t *testing.T) {
	ce := newContactEnv(t, 75)
	ctx := context.Background()
	var id int64
	var uuid string
	if err := ce.db.QueryRow(`SELECT id, uuid FROM contacts WHERE is_active = 1 ORDER BY id LIMIT 1`).Scan(&id, &uuid); err != nil {
		t.Fatal(err)
	}
	if err := ce.db.DeleteContact(ctx, ce.org, ce.scope, id, 0); err != nil {
		t.Fatal(err)
	}
	ce.store.Write(func() { ce.store.ContactsByUUID[uuid].Deleted = true })
	ce.sim.ResetLog()
	ce.drain()
	_, _, deletes := ce.contactWrites()
	var state, msg string
	ce.db.QueryRow(`SELECT state, last_error FROM outbox WHERE kind = 'contact_delete'`).Scan(&state, &msg)
	if len(deletes) != 1 || deletes[0] != 404 || state != models.OutboxSent || msg != "already deleted in RapidPro" {
		t.Fatalf("DELETE statuses %v; push %s %q", deletes, state, msg)
	}
	if n := ce.count(`SELECT count(*) FROM contacts WHERE id = ? AND is_active = 0`, id); n != 1 {
		t.Fatal("the contact is not soft-deleted here")
	}
}

// TestContactCreateRetryNeverAdoptsAStranger: a contact saved while
// RapidPro could not be asked whether its URN was free; RapidPro throttles
// the first POST (so the next attempt reads back by URN) and, meanwhile,
// the URN belongs to someone else there. The create fails with that message;
// the other contact is neither adopted nor changed.
func TestContactCreateRetryNeverAdoptsAStranger(t *testing.T) {
	ce := newContactEnv(t, 74)
	ctx := context.Background()
	ce.store.Write(func() { ce.store.AddContact(&fake.Contact{Name: "Someone Else", URNs: []string{"tel:+250788600031"}}) })
	id, err := ce.db.CreateContact(ctx, ce.org, ce.scope, ce.input("Ours", "+250 788 600 031"))
	if err != nil {
		t.Fatal(err)
	}
	ce.sim.Script(fake.Fault{Kind: fake.FaultThrottle, Method: "POST", Path: "contacts", RetryAfter: 1})
	ce.drain()
	var state, msg string
	ce.db.QueryRow(`SELECT state, last_error FROM outbox WHERE kind = 'contact_create'`).Scan(&state, &msg)
	if state != models.OutboxFailed || msg != "This phone number or ID belongs to another contact in RapidPro." {
		t.Fatalf("create = %s %q, want failed: the URN is someone else's", state, msg)
	}
	var localOnly bool
	var local string
	ce.db.QueryRow(`SELECT uuid, local_only FROM contacts WHERE id = ?`, id).Scan(&local, &localOnly)
	other := ce.simByURN("tel:+250788600031")
	if len(other) != 1 || other[0].Name != "Someone Else" || local == other[0].UUID || !localOnly {
		t.Fatalf("RapidPro %v, local UUID %s (local only %v): the stranger was adopted", other, local, localOnly)
	}
}

package jobs

import (
	"context"
	"testing"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// TestInboxTwoOrgsSharingAContactUUID: two orgs hold a contact with the same
// UUID and both pull the same RapidPro inbox. Each org's messages attach to
// its own contact (SPEC §8.10: the original matched by UUID across orgs),
// and each org's inbox lists only its own.
func TestInboxTwoOrgsSharingAContactUUID(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 71, Contacts: 30, Weeks: 1}, fake.Config{}, false)
	ctx := context.Background()
	e.mustPull(ResContacts)
	var uuid string
	var panel int64
	if err := e.db.QueryRow(`SELECT uuid, region_id FROM contacts WHERE org_id = ? AND is_active = 1 ORDER BY id LIMIT 1`, e.org.ID).Scan(&uuid, &panel); err != nil {
		t.Fatal(err)
	}
	twinOrg, err := e.db.CreateOrg(ctx, models.NewOrg{Name: "Twin", Subdomain: "twin", RapidProURL: e.http.URL, Token: e.sim.Token(), Timezone: "Africa/Kigali"})
	if err != nil {
		t.Fatal(err)
	}
	var twinPanel int64
	if err := e.db.QueryRow(`INSERT INTO regions (org_id, uuid, name) VALUES (?, 'g-twin', 'Twin panel') RETURNING id`, twinOrg.ID).Scan(&twinPanel); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO contacts (org_id, uuid, name, region_id, created_on, modified_on) VALUES (?, ?, 'Twin', ?, 0, 0)`, twinOrg.ID, uuid, twinPanel); err != nil {
		t.Fatal(err)
	}
	e.store.Write(func() {
		e.store.AddMessage(&fake.Message{ContactUUID: uuid, Direction: "in", Status: "handled", Text: "The school roof leaks"})
	})
	e.mustPull(ResInbox)
	if r := e.syncer.Pull(ctx, twinOrg, ResInbox); r.Err != nil {
		t.Fatal(r.Err)
	}
	// Each org stored the message once, on its own contact.
	rows, err := e.db.Query(`SELECT m.org_id, c.org_id FROM inbox_messages m JOIN contacts c ON c.id = m.contact_id WHERE m.text = 'The school roof leaks'`)
	if err != nil {
		t.Fatal(err)
	}
	per := map[int64]int{}
	for rows.Next() {
		var mo, co int64
		rows.Scan(&mo, &co)
		if mo != co {
			t.Fatalf("a message of org %d is attached to a contact of org %d", mo, co)
		}
		per[mo]++
	}
	rows.Close()
	if per[e.org.ID] != 1 || per[twinOrg.ID] != 1 {
		t.Fatalf("messages per org %v, want one each", per)
	}
	if n := e.count(`SELECT count(*) FROM inbox_messages m JOIN contacts c ON c.id = m.contact_id WHERE m.org_id = ? AND c.uuid <> ?`, twinOrg.ID, uuid); n != 0 {
		t.Fatalf("the twin org stored %d messages of contacts it does not have", n)
	}
	// The inbox of each org shows its own contact's message.
	for _, o := range []struct {
		org   int64
		panel int64
	}{{e.org.ID, panel}, {twinOrg.ID, twinPanel}} {
		scope, err := e.db.ResolveScope(ctx, o.org, 0, true, 0, true)
		if err != nil {
			t.Fatal(err)
		}
		entries, _, err := e.db.Inbox(ctx, scope, 1, 50)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries {
			var orgOf int64
			e.db.QueryRow(`SELECT org_id FROM contacts WHERE id = ?`, en.ContactID).Scan(&orgOf)
			if orgOf != o.org {
				t.Fatalf("org %d's inbox lists a contact of org %d", o.org, orgOf)
			}
			if en.Text == "The school roof leaks" {
				found = true
			}
		}
		if !found {
			t.Fatalf("org %d's inbox misses its contact's latest message", o.org)
		}
	}
}

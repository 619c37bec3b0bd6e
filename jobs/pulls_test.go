package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

func TestFlowsQuestionsRenamesAndVanishedFlows(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 21, Contacts: 5, Weeks: 1}, fake.Config{}, false)
	ctx := context.Background()
	polls := mustPolls(t, e)
	if len(polls) != len(e.info.Polls) {
		t.Fatalf("tracked %d polls, want %d", len(polls), len(e.info.Polls))
	}
	// Every question type of the generated flows is recognised from the definitions.
	types := map[string]int{}
	for _, p := range polls {
		qs, err := e.db.PollQuestions(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) == 0 {
			t.Fatalf("poll %s has no questions", p.RapidProName)
		}
		for _, q := range qs {
			types[q.Type]++
			if q.ResultKey == "" || q.UUID == "" {
				t.Fatalf("question without key or node: %+v", q)
			}
		}
	}
	if types[models.QuestionNumeric] == 0 || types[models.QuestionChoice] == 0 || types[models.QuestionOpen] == 0 {
		t.Fatalf("question types = %v; want numeric, multiple choice and open", types)
	}
	// Single-message flows are never polls.
	all, _ := e.db.ListPolls(ctx, e.org.ID, false)
	for _, p := range all {
		if strings.HasPrefix(p.RapidProName, "Single Message") {
			t.Fatalf("single-message flow stored as a poll: %s", p.RapidProName)
		}
	}

	// A local name override survives; a RapidPro rename propagates where there is none.
	target, other := polls[0], polls[1]
	if _, err := e.db.Exec(`UPDATE polls SET name = 'Our attendance' WHERE id = ?`, target.ID); err != nil {
		t.Fatal(err)
	}
	e.store.Write(func() {
		e.store.FlowsByUUID[target.FlowUUID].Name = "Renamed in RapidPro"
		e.store.FlowsByUUID[other.FlowUUID].Name = "Other renamed"
	})
	e.mustPull(ResFlows)
	var name, rpName string
	e.db.QueryRow(`SELECT name, rapidpro_name FROM polls WHERE id = ?`, target.ID).Scan(&name, &rpName)
	if name != "Our attendance" || rpName != "Renamed in RapidPro" {
		t.Fatalf("override lost or rename not tracked: %q %q", name, rpName)
	}
	e.db.QueryRow(`SELECT name, rapidpro_name FROM polls WHERE id = ?`, other.ID).Scan(&name, &rpName)
	if name != "" || rpName != "Other renamed" {
		t.Fatalf("rename did not propagate: %q %q", name, rpName)
	}

	// A flow that disappears is deactivated, its history kept.
	e.mustPull(ResContacts)
	e.mustPull(ResRuns)
	before := e.count(`SELECT count(*) FROM responses r JOIN pollruns pr ON pr.id = r.pollrun_id WHERE pr.poll_id = ?`, other.ID)
	if before == 0 {
		t.Fatal("no responses for the poll")
	}
	e.store.Write(func() {
		for i, f := range e.store.Flows {
			if f.UUID == other.FlowUUID {
				e.store.Flows = append(e.store.Flows[:i], e.store.Flows[i+1:]...)
				delete(e.store.FlowsByUUID, f.UUID)
				break
			}
		}
	})
	e.mustPull(ResFlows)
	var active, inRP bool
	e.db.QueryRow(`SELECT is_active, in_rapidpro FROM polls WHERE id = ?`, other.ID).Scan(&active, &inRP)
	if active || inRP {
		t.Fatal("vanished flow still active")
	}
	if after := e.count(`SELECT count(*) FROM responses r JOIN pollruns pr ON pr.id = r.pollrun_id WHERE pr.poll_id = ?`, other.ID); after != before {
		t.Fatalf("history of a vanished flow changed: %d -> %d", before, after)
	}
}

func TestContactsPullDeletionsBlocksAndUnsupportedURNs(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 22, Contacts: 30, Weeks: 1}, fake.Config{PageSize: 4}, false)
	ctx := context.Background()
	first := e.mustPull(ResContacts)
	if first.Created == 0 {
		t.Fatal("no contacts created")
	}
	var panelGroup string
	e.db.QueryRow(`SELECT uuid FROM regions WHERE org_id = ? AND is_active = 1 ORDER BY name LIMIT 1`, e.org.ID).Scan(&panelGroup)
	active := func() []string {
		var out []string
		rows, _ := e.db.Query(`SELECT uuid FROM contacts WHERE is_active = 1 ORDER BY id`)
		for rows.Next() {
			var u string
			rows.Scan(&u)
			out = append(out, u)
		}
		rows.Close()
		return out
	}
	a := active()
	if len(a) < 4 {
		t.Fatalf("only %d active contacts", len(a))
	}
	del, blocked, leaves := a[0], a[1], a[2]
	var extOnly string
	e.store.Write(func() {
		e.store.TouchContact(del, func(c *fake.Contact) { c.Deleted = true })
		e.store.TouchContact(blocked, func(c *fake.Contact) { c.Status = "blocked" })
		e.store.TouchContact(leaves, func(c *fake.Contact) { c.Groups = nil })
		extOnly = e.store.AddContact(&fake.Contact{Name: "Ext only", URNs: []string{"ext:abc123"}, Groups: []string{panelGroup}}).UUID
		e.store.AddContact(&fake.Contact{Name: "New teacher", URNs: []string{"telegram:12345"}, Groups: []string{panelGroup}})
	})
	r := e.mustPull(ResContacts)
	if r.Skipped < 1 || r.Created != 1 {
		t.Fatalf("pull = %+v; want the ext-only contact counted as skipped and the telegram one created", r)
	}
	now := map[string]bool{}
	for _, u := range active() {
		now[u] = true
	}
	for _, u := range []string{del, blocked, leaves, extOnly} {
		if now[u] {
			t.Errorf("contact %s still active", u)
		}
	}
	if e.count(`SELECT count(*) FROM contacts WHERE uuid IN (?, ?, ?)`, del, blocked, leaves) != 3 {
		t.Fatal("deactivated contacts must stay stored (soft delete)")
	}
	if e.count(`SELECT count(*) FROM contacts WHERE urn LIKE 'telegram:%' AND is_active = 1`) != 1 {
		t.Fatal("telegram contact not stored")
	}
	st := e.state(ResContacts)
	if st.Watermark == 0 || st.InWindow() {
		t.Fatalf("contacts state = %+v", st)
	}
	_ = ctx
}

func TestInboxBoundariesAndPanelTree(t *testing.T) {
	e := newEnv(t, fake.GenConfig{Seed: 23, Contacts: 40, Weeks: 1}, fake.Config{PageSize: 10}, false)
	ctx := context.Background()
	e.mustPull(ResContacts)

	// Boundaries: every panel got the boundary of its name and the tree of the boundaries.
	regions, _ := e.db.ListRegions(ctx, e.org.ID, true)
	byID := map[int64]models.Region{}
	for _, r := range regions {
		byID[r.ID] = r
	}
	nodes := fake.Panels(e.store)
	want := map[string]string{}
	for _, n := range nodes {
		want[n.Name] = n.Parent
	}
	for _, r := range regions {
		if r.BoundaryID == 0 {
			t.Errorf("panel %s has no boundary", r.Name)
		}
		parent := ""
		if r.ParentID != 0 {
			parent = byID[r.ParentID].Name
		}
		if parent != want[r.Name] {
			t.Errorf("panel %s parent %q, want %q", r.Name, parent, want[r.Name])
		}
	}
	if n := e.count(`SELECT count(*) FROM boundaries WHERE geometry IS NOT NULL`); n < len(regions) {
		t.Fatalf("%d boundaries with geometry for %d panels", n, len(regions))
	}

	// Inbox: messages of this org's contacts only, matched by UUID within the org.
	var contact string
	e.db.QueryRow(`SELECT uuid FROM contacts WHERE is_active = 1 LIMIT 1`).Scan(&contact)
	other, err := e.db.CreateOrg(ctx, models.NewOrg{Name: "Other", Subdomain: "other", RapidProURL: "http://127.0.0.1:1", Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// The same contact UUID in another org must not capture this org's messages.
	if _, err := e.db.Exec(`INSERT INTO contacts (org_id, uuid, name, created_on, modified_on) VALUES (?, ?, 'twin', 0, 0)`, other.ID, contact); err != nil {
		t.Fatal(err)
	}
	e.store.Write(func() {
		e.store.AddMessage(&fake.Message{ContactUUID: contact, Direction: "in", Status: "handled", Text: "Our borehole is broken"})
	})
	r := e.mustPull(ResInbox)
	if r.Created == 0 {
		t.Fatalf("inbox pull = %+v", r)
	}
	var text string
	var orgID int64
	e.db.QueryRow(`SELECT m.text, m.org_id FROM inbox_messages m JOIN contacts c ON c.id = m.contact_id WHERE c.uuid = ? AND m.text LIKE 'Our borehole%'`, contact).Scan(&text, &orgID)
	if text == "" || orgID != e.org.ID {
		t.Fatalf("inbox message not stored for this org: %q org %d", text, orgID)
	}
	if e.count(`SELECT count(*) FROM inbox_messages WHERE org_id = ?`, other.ID) != 0 {
		t.Fatal("a message was stored for another org's contact")
	}
	// Pulled again: nothing duplicated.
	n := e.count(`SELECT count(*) FROM inbox_messages`)
	e.mustPull(ResInbox)
	if e.count(`SELECT count(*) FROM inbox_messages`) != n {
		t.Fatal("inbox messages duplicated")
	}
}

// TestEveryServerShapeSyncs pulls the same generated org from a simulator in
// each of RAPIDPRO.md §5's shapes and expects the same stored data.
func TestEveryServerShapeSyncs(t *testing.T) {
	counts := map[fake.Profile][3]int{}
	for _, p := range []fake.Profile{fake.ProfileLegacy2017, fake.ProfileOSS2025, fake.ProfileHosted2025} {
		e := newEnv(t, fake.GenConfig{Seed: 24, Contacts: 25, Weeks: 2, End: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}, fake.Config{Profile: p, PageSize: 9}, false)
		results, err := e.syncer.SyncAll(context.Background(), e.org, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil {
				t.Fatalf("%s: %s pull: %v", p, r.Resource, r.Err)
			}
		}
		counts[p] = [3]int{
			e.count(`SELECT count(*) FROM contacts WHERE is_active = 1`),
			e.count(`SELECT count(*) FROM responses`),
			e.count(`SELECT count(*) FROM answers`),
		}
		if counts[p][1] == 0 || counts[p][2] == 0 {
			t.Fatalf("%s: nothing ingested: %v", p, counts[p])
		}
	}
	if counts[fake.ProfileLegacy2017] != counts[fake.ProfileOSS2025] || counts[fake.ProfileOSS2025] != counts[fake.ProfileHosted2025] {
		t.Fatalf("shapes disagree (contacts, responses, answers): %v", counts)
	}
}

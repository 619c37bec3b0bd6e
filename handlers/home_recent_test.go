package handlers

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// TestRecentPollrunsHaveParticipants: a universal poll run made by one late
// answer of a Province B contact does not head supervisor A's "Most recent
// poll runs" (nobody of theirs took part), while supervisor B sees it; in
// supervisor A's poll run list it is marked "No participants".
func TestRecentPollrunsHaveParticipants(t *testing.T) {
	f := newMatrixFixture(t)
	poll := f.matrixPoll()
	f.matrixContact(browserUUID(5, 1), "Alice A", "tel:+250780000101")
	if _, err := f.DB.ApplyContacts(f.Ctx, f.Org1, []models.ContactRow{{UUID: browserUUID(5, 2), Name: "Bob B", URNs: []string{"tel:+250780000102"},
		Groups: []string{"g-org1-District B1"}, Active: true, ModifiedOn: time.Now()}}, nil); err != nil {
		t.Fatal(err)
	}
	ri, err := f.DB.NewRunIngester(f.Ctx, f.Org1)
	if err != nil {
		t.Fatal(err)
	}
	older, late := time.Now().AddDate(0, 0, -2), time.Now()
	if _, err := ri.ApplyPage(f.Ctx, []models.RunRow{
		{UUID: browserUUID(6, 1), FlowUUID: "flow-m", ContactUUID: browserUUID(5, 1), ExitType: "completed", CreatedOn: older, ModifiedOn: older},
		{UUID: browserUUID(6, 2), FlowUUID: "flow-m", ContactUUID: browserUUID(5, 2), ExitType: "completed", CreatedOn: late, ModifiedOn: late},
	}, nil); err != nil {
		t.Fatal(err)
	}
	var olderRun, lateRun string
	if err := f.DB.QueryRow(`SELECT (SELECT id FROM pollruns WHERE poll_id = ?1 AND local_date = ?2), (SELECT id FROM pollruns WHERE poll_id = ?1 AND local_date = ?3)`,
		poll, f.Org1.LocalDate(older), f.Org1.LocalDate(late)).Scan(&olderRun, &lateRun); err != nil {
		t.Fatal(err)
	}
	recent := func(body string) string {
		i := strings.Index(body, `<table id="recent">`)
		if i < 0 {
			return ""
		}
		return body[i : i+strings.Index(body[i:], "</table>")]
	}
	homeA := recent(f.newClient(f.Org1, f.SupA).get("/").Body)
	if !strings.Contains(homeA, "/pollrun/read/"+olderRun+"/") || strings.Contains(homeA, "/pollrun/read/"+lateRun+"/") {
		t.Errorf("supervisor A's most recent poll runs: want %s and not %s (no participant of theirs):\n%s", olderRun, lateRun, homeA)
	}
	if homeB := recent(f.newClient(f.Org1, f.SupB).get("/").Body); !strings.Contains(homeB, "/pollrun/read/"+lateRun+"/") {
		t.Errorf("supervisor B's most recent poll runs lack %s:\n%s", lateRun, homeB)
	}
	list := f.newClient(f.Org1, f.SupA).get("/pollrun/").Body
	row := func(id string) string {
		return regexp.MustCompile(`(?s)<tr>.{0,40}/pollrun/read/` + id + `/.*?</tr>`).FindString(list)
	}
	if r := row(lateRun); !strings.Contains(r, "No participants") {
		t.Errorf("the late answer's poll run is not marked in supervisor A's list: %q", r)
	}
	if r := row(olderRun); r == "" || strings.Contains(r, "No participants") {
		t.Errorf("the poll run with supervisor A's participant: %q", r)
	}
}

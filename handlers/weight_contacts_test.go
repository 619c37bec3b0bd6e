package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// TestContactPagesWeight holds the first-load budget for the contact list (a
// full page of 50 rows with the three poll-run columns) and the contact page,
// and the swap budget for the list's search fragment and the contact page's
// three tabs.
func TestContactPagesWeight(t *testing.T) {
	w := newContactWorld(t)
	var panelUUID string
	if err := w.DB.QueryRow(`SELECT uuid FROM regions WHERE id = ?`, w.panelA).Scan(&panelUUID); err != nil {
		t.Fatal(err)
	}
	rows := make([]models.ContactRow, 60)
	for i := range rows {
		v := "female"
		rows[i] = models.ContactRow{UUID: fmt.Sprintf("weight-%02d", i), Name: fmt.Sprintf("Weighed Contact Number %02d", i),
			URNs: []string{fmt.Sprintf("tel:+2507885%05d", i)}, Groups: []string{panelUUID, w.cohortUUID}, Language: "kin",
			Fields: map[string]*string{"gender": &v}, Active: true, ModifiedOn: time.Now()}
	}
	if _, err := w.DB.ApplyContacts(w.Ctx, w.org, rows, nil); err != nil {
		t.Fatal(err)
	}
	list := w.supA.get("/contact/")
	if got := w.count(`SELECT count(*) FROM contacts WHERE region_id = ? AND is_active = 1`, w.panelA); got < perPage {
		t.Fatalf("only %d contacts in the panel", got)
	}
	if n := countRows(list.Body); n != perPage {
		t.Fatalf("the list shows %d rows, want a full page of %d", n, perPage)
	}
	pageWeight(t, w.supA, "contact list (50 rows)", "/contact/")
	var id int64
	if err := w.DB.QueryRow(`SELECT id FROM contacts WHERE uuid = 'weight-00'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// A contact with pushes on its page.
	r := w.supA.post("/contact/update/"+strconv.FormatInt(id, 10)+"/", w.form("urn", "+250 788 500 000", "name", "Weighed and edited"))
	if r.Code != 303 {
		t.Fatalf("edit: %d", r.Code)
	}
	pageWeight(t, w.supA, "contact page", "/contact/read/"+strconv.FormatInt(id, 10)+"/")
	// The contact page's tabs swap the whole #contact-page.
	sid := strconv.FormatInt(id, 10)
	for _, tab := range []string{"/contact/read/" + sid + "/", "/response/by_contact/" + sid + "/", "/message/by_contact/" + sid + "/"} {
		f := w.supA.get(tab, "HX-Request", "true")
		if size := gzipSize(t, []byte(f.Body)); f.Code != 200 || size > swapBudget {
			t.Errorf("the tab swap %s: %d, %d B gzipped (budget %d B)", tab, f.Code, size, swapBudget)
		} else {
			t.Logf("tab swap %s: %d B raw / %d B gzip", tab, len(f.Body), size)
		}
	}
	f := w.supA.get("/contact/?search=Weighed", "HX-Request", "true")
	if size := gzipSize(t, []byte(f.Body)); size > swapBudget {
		t.Errorf("the search swap weighs %d B gzipped, over %d B", size, swapBudget)
	} else {
		t.Logf("contact search swap: %d B raw / %d B gzip", len(f.Body), size)
	}
}

// countRows counts the body rows of a page's table (every <tr> but the header's).
func countRows(body string) int { return strings.Count(body, "<tr>") - 1 }

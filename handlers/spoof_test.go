package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func (f *indFixture) setShowSpoof(t *testing.T, on bool) {
	t.Helper()
	v := 0
	if on {
		v = 1
	}
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE orgs SET show_spoof_data = ? WHERE id = ?`, v, f.Org.ID); err != nil {
		t.Fatal(err)
	}
}

func (f *indFixture) contact(t *testing.T, uuid string) string {
	t.Helper()
	var id int64
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM contacts WHERE uuid = ?`, uuid).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return sid(id)
}

// TestSpoofPages checks the spoof data pages: 404 while the org does not
// show spoof data; the form (contacts of the supervisor's panels only), its
// 422s; the spoofed poll runs marked in the poll run list, a poll run's page,
// home, the poll's chart and the indicator; clearing them completely with
// exact counters.
func TestSpoofPages(t *testing.T) {
	f := newIndFixture(t)
	a := f.newClient(f.Org, f.SupA)
	for _, r := range []*result{a.get("/indicators/data_spoof/"), a.post("/indicators/data_spoof/", nil), a.post("/indicators/clear_spoof/", url.Values{"confirm": {"1"}})} {
		if r.Code != 404 {
			t.Errorf("spoof route without show_spoof_data = %d, want 404", r.Code)
		}
	}
	f.setShowSpoof(t, true)
	r := a.get("/indicators/")
	mustContain(t, "list with spoof data", r.Body, `href="/indicators/data_spoof/"`)
	mustNotContain(t, "list without spoofed runs", r.Body, "Clear all spoof data")
	r = a.get("/indicators/data_spoof/")
	if r.Code != 200 {
		t.Fatalf("spoof form = %d", r.Code)
	}
	if got := optionsOf(r.Body, "contacts"); !sameStrings(got, []string{"Alice (Province A)", "Bob (Province A)", "Carol (Province A)"}) {
		t.Errorf("supervisor A's contacts = %q", got)
	}
	if got := optionsOf(r.Body, "follow_up_question"); !sameStrings(got, []string{"Choose a question", "Pupils before", "Pupils now"}) {
		t.Errorf("questions = %q (numeric only)", got)
	}

	start := time.Now().AddDate(0, 0, -3)
	form := url.Values{"contacts": {f.contact(t, "c-a1"), f.contact(t, "c-a2")}, "start_date": {f.Org.LocalDate(start)},
		"end_date": {f.Org.LocalDate(start.AddDate(0, 0, 2))}, "baseline_question": {sid(f.QBefore)}, "follow_up_question": {sid(f.QNow)},
		"baseline_min": {"7"}, "baseline_max": {"7"}, "follow_up_min": {"10"}, "follow_up_max": {"20"}}
	// 422s: another panel's contact, a maximum below the minimum.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad["contacts"] = []string{f.contact(t, "c-b1")}
	bad.Set("follow_up_max", "5")
	r = a.post("/indicators/data_spoof/", bad)
	if r.Code != 422 {
		t.Fatalf("invalid spoof = %d", r.Code)
	}
	mustContain(t, "invalid spoof", r.Body, `<p class="field-error">Choose contacts of your panels.</p>`, `<p class="field-error">The maximum must not be below the minimum.</p>`)
	if r := a.post("/indicators/data_spoof/", bad, "HX-Request", "true"); r.Code != 422 || strings.Contains(r.Body, "<html") || !strings.HasPrefix(r.Body, `<section id="spoof-form"`) {
		t.Errorf("invalid spoof through htmx = %d %.60q", r.Code, r.Body)
	}
	if r = a.post("/indicators/data_spoof/", form); r.Code != 303 {
		t.Fatalf("spoof = %d %s", r.Code, r.Body)
	}
	var runs, responses int
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT count(DISTINCT pr.id), count(r.id) FROM pollruns pr JOIN responses r ON r.pollrun_id = pr.id WHERE pr.pollrun_type = 's'`).Scan(&runs, &responses); err != nil {
		t.Fatal(err)
	}
	if runs != 4 || responses != 8 {
		t.Errorf("spoofed %d poll runs with %d responses, want 4 (1 baseline + 3 days) and 8", runs, responses)
	}
	mustContain(t, "flash", a.get("/indicators/").Body, "Spoofed 4 poll runs.", "Clear all spoof data", "This deletes 4 spoofed poll runs")

	// Marked everywhere they appear.
	badge := `<span class="badge spoofed"`
	if n := strings.Count(a.get("/pollrun/").Body, badge); n != 4 {
		t.Errorf("poll run list: %d Spoofed badges, want 4", n)
	}
	var spoofed int64
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM pollruns WHERE pollrun_type = 's' AND poll_id = ? ORDER BY conducted_on DESC LIMIT 1`, f.FUPoll).Scan(&spoofed); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "spoofed poll run", a.get("/pollrun/read/"+sid(spoofed)+"/").Body, badge)
	mustContain(t, "home", a.get("/").Body, badge)
	if n := strings.Count(a.get("/response/by_contact/"+f.contact(t, "c-a1")+"/").Body, badge); n != 4 {
		t.Errorf("Alice's responses: %d Spoofed badges, want 4", n)
	}
	mustContain(t, "poll chart", a.get("/poll/read/"+sid(f.FUPoll)+"/?date_range=30-days").Body, " (Spoofed)</th>")
	ind := a.get("/indicators/read/" + sid(f.Ind.ID) + "/")
	mustContain(t, "indicator", ind.Body, " (Spoofed)</a></th>", "Some poll runs are spoofed")
	// Province A's baseline: a1 and a2 answered 7 on the spoofed start date,
	// but their earliest answers (10 and 20, real) still count: 60.
	wantFacts(t, "indicator with spoof data", ind.Body, map[string]string{"baseline-value": "60"})

	// Hidden while the org does not show spoof data.
	f.setShowSpoof(t, false)
	if n := strings.Count(a.get("/pollrun/").Body, badge); n != 0 {
		t.Errorf("spoof data hidden: %d Spoofed badges in the poll run list", n)
	}
	if r := a.get("/pollrun/read/" + sid(spoofed) + "/"); r.Code != 404 {
		t.Errorf("spoof data hidden: spoofed poll run = %d", r.Code)
	}
	f.setShowSpoof(t, true)

	// Clearing needs the confirmation, then removes everything.
	if r = a.post("/indicators/clear_spoof/", nil); r.Code != 400 {
		t.Errorf("clear without confirm = %d", r.Code)
	}
	if r = a.post("/indicators/clear_spoof/", url.Values{"confirm": {"1"}}); r.Code != 303 {
		t.Fatalf("clear = %d", r.Code)
	}
	var left int
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT (SELECT count(*) FROM pollruns WHERE pollrun_type = 's') + (SELECT count(*) FROM responses WHERE run_uuid LIKE 'spoof-%')
		+ (SELECT count(*) FROM answers WHERE response_id NOT IN (SELECT id FROM responses))`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d rows of spoof data left", left)
	}
	rep, err := f.DB.RecountOrg(f.Ctx, f.Org.ID, false)
	if err != nil || rep.Checked == 0 || rep.Drifted != 0 {
		t.Fatalf("recount after clearing: %+v, %v", rep, err)
	}
	mustNotContain(t, "poll runs after clearing", a.get("/pollrun/").Body, badge)
}

// spoofTwo spoofs, as supervisor A, answers of Alice and Bob: a baseline
// and three follow-up days ending yesterday; it returns the newest spoofed
// follow-up poll run.
func (f *indFixture) spoofTwo(t *testing.T, a *client) int64 {
	t.Helper()
	f.setShowSpoof(t, true)
	start := time.Now().AddDate(0, 0, -3)
	form := url.Values{"contacts": {f.contact(t, "c-a1"), f.contact(t, "c-a2")}, "start_date": {f.Org.LocalDate(start)},
		"end_date": {f.Org.LocalDate(start.AddDate(0, 0, 2))}, "baseline_question": {sid(f.QBefore)}, "follow_up_question": {sid(f.QNow)},
		"baseline_min": {"7"}, "baseline_max": {"7"}, "follow_up_min": {"10"}, "follow_up_max": {"20"}}
	if r := a.post("/indicators/data_spoof/", form); r.Code != 303 {
		t.Fatalf("spoof = %d %s", r.Code, r.Body)
	}
	var spoofed int64
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM pollruns WHERE pollrun_type = 's' AND poll_id = ? ORDER BY conducted_on DESC LIMIT 1`, f.FUPoll).Scan(&spoofed); err != nil {
		t.Fatal(err)
	}
	return spoofed
}

// TestSpoofedMarkedOnEveryPage: besides the pages TestSpoofPages reads, the
// spoofed poll runs are marked in participation across polls (page and CSV),
// the responses CSV (a "Spoofed" column only when the export holds spoofed
// runs), the contact list's poll run columns, the message log and a
// contact's messages.
func TestSpoofedMarkedOnEveryPage(t *testing.T) {
	f := newIndFixture(t)
	a := f.newClient(f.Org, f.SupA)
	spoofed := f.spoofTwo(t, a)
	badge := `<span class="badge spoofed"`

	grid := a.get("/participation/")
	_, head, _ := strings.Cut(grid.Body, "<thead>")
	head, _, _ = strings.Cut(head, "</thead>")
	if n := strings.Count(head, badge); n != 4 {
		t.Errorf("participation grid: %d Spoofed badges in the poll run columns, want 4\n%s", n, head)
	}
	csvHead, _, _ := strings.Cut(a.get("/participation/?_format=csv").Body, "\n")
	if n := strings.Count(csvHead, "(Spoofed)"); n != 4 {
		t.Errorf("participation CSV header marks %d spoofed poll runs, want 4: %s", n, csvHead)
	}

	csv := a.get("/response/by_pollrun/" + sid(spoofed) + "/?_format=csv").Body
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if !strings.HasPrefix(lines[0], "Date,Name,URN,Panel,Cohorts,") || !strings.HasSuffix(lines[0], ",Spoofed") || len(lines) != 3 {
		t.Fatalf("spoofed poll run's CSV:\n%s", csv)
	}
	for _, l := range lines[1:] {
		if !strings.HasSuffix(l, ",yes") {
			t.Errorf("a spoofed row is not marked: %s", l)
		}
	}
	var real int64
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM pollruns WHERE pollrun_type <> 's' AND poll_id = ? ORDER BY conducted_on DESC LIMIT 1`, f.FUPoll).Scan(&real); err != nil {
		t.Fatal(err)
	}
	if head, _, _ := strings.Cut(a.get("/response/by_pollrun/"+sid(real)+"/?_format=csv").Body, "\n"); strings.Contains(head, "Spoofed") {
		t.Errorf("a real poll run's CSV has the Spoofed column: %s", head)
	}

	_, cols, _ := strings.Cut(a.get("/contact/").Body, "<thead>")
	cols, _, _ = strings.Cut(cols, "</thead>")
	if n := strings.Count(cols, badge); n != 3 {
		t.Errorf("contact list: %d of the 3 newest poll runs marked Spoofed, want 3\n%s", n, cols)
	}

	// A message about the spoofed poll run, to Alice.
	var msg int64
	if err := f.DB.QueryRowContext(f.Ctx, `INSERT INTO messages (org_id, sent_on, text, pollrun_id, cohort, region_id) VALUES (?, ?, 'Thanks', ?, 'A', ?) RETURNING id`,
		f.Org.ID, time.Now().UnixMilli(), spoofed, f.PanelA).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.ExecContext(f.Ctx, `INSERT INTO message_recipients (message_id, contact_id) VALUES (?, ?)`, msg, f.contact(t, "c-a1")); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "message log", f.newClient(f.Org, f.Admin).get("/message/").Body, badge)
	mustContain(t, "a contact's messages", a.get("/message/by_contact/"+f.contact(t, "c-a1")+"/").Body, badge)
}

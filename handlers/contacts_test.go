package handlers

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// contactWorld is a simulator-synced org (newStartWorld) with three visible
// data fields (text, number, date), the first cohort of the org, and the
// simulator's store at hand.
type contactWorld struct {
	*startWorld
	cohort     int64
	cohortUUID string
	sim        *fake.Store
}

func newContactWorld(t *testing.T) *contactWorld {
	t.Helper()
	w := &contactWorld{startWorld: newStartWorld(t), sim: nil}
	w.sim = w.orgEnv.sim.Store()
	if _, err := w.DB.Exec(`UPDATE data_fields SET show_on_tracpro = 1 WHERE key IN ('gender', 'birth_year', 'registered_on')`); err != nil {
		t.Fatal(err)
	}
	if err := w.DB.QueryRow(`SELECT id, uuid FROM cohorts WHERE is_active = 1 ORDER BY name LIMIT 1`).Scan(&w.cohort, &w.cohortUUID); err != nil {
		t.Fatal(err)
	}
	return w
}

// form is a valid contact form for panel A; over replaces values.
func (w *contactWorld) form(over ...string) url.Values {
	f := url.Values{"name": {"Amina Uwase"}, "scheme": {"tel"}, "urn": {"+250 788 555 001"},
		"region": {strconv.FormatInt(w.panelA, 10)}, "cohorts": {strconv.FormatInt(w.cohort, 10)}, "language": {"kin"},
		"field_gender": {"female"}, "field_birth_year": {"1990"}, "field_registered_on": {"2024-03-05"}}
	for i := 0; i+1 < len(over); i += 2 {
		f.Set(over[i], over[i+1])
	}
	return f
}

// writes counts what a refused form must not have written.
func (w *contactWorld) writes() [2]int {
	return [2]int{w.count(`SELECT count(*) FROM contacts`), w.count(`SELECT count(*) FROM outbox`)}
}

// simContact returns a copy of the simulator's contact owning urn (nil when none).
func (w *contactWorld) simContact(urn string) *fake.Contact {
	var out *fake.Contact
	w.sim.Read(func() {
		for _, c := range w.sim.Contacts {
			if slices.Contains(c.URNs, urn) {
				cp := *c
				cp.Fields = map[string]string{}
				for k, v := range c.Fields {
					cp.Fields[k] = v
				}
				cp.Groups = slices.Clone(c.Groups)
				out = &cp
			}
		}
	})
	return out
}

var runRe = regexp.MustCompile(`<th data-run="(\d+)"><a href="/pollrun/read/\d+/">([^<]+)</a> <small>([^<]+)</small>`)

// htmlText is s as html/template writes it in text and attributes.
func htmlText(s string) string {
	return strings.NewReplacer("'", "&#39;", "+", "&#43;", `"`, "&#34;").Replace(s)
}

func (w *contactWorld) deliver() {
	w.t.Helper()
	if _, err := w.syncer.DeliverOutbox(w.Ctx); err != nil {
		w.t.Fatal(err)
	}
}

func TestContactFormPhoneErrors(t *testing.T) {
	w := newContactWorld(t)
	before := w.writes()
	for _, tc := range []struct{ urn, msg string }{
		{"not a number", models.MsgPhoneInvalid},
		{"+250 188 123 456", models.MsgPhoneInvalid}, // right length, no such Rwandan number
		{"+999 123 456 789", models.MsgPhoneCountry},
		{"+250 78", models.MsgPhoneShort},
		{"+250 788 123 456 789", models.MsgPhoneLong},
	} {
		r := w.supA.post("/contact/create/", w.form("urn", tc.urn))
		if r.Code != 422 || !strings.Contains(r.Body, `<p class="field-error">`+htmlText(tc.msg)) {
			t.Errorf("%q: %d, want 422 with %q next to the field", tc.urn, r.Code, tc.msg)
		}
		if !strings.Contains(r.Body, `value="`+htmlText(tc.urn)+`"`) {
			t.Errorf("%q: the form lost the typed value", tc.urn)
		}
	}
	if got := w.writes(); got != before {
		t.Fatalf("refused forms wrote contacts/outbox rows: %v → %v", before, got)
	}
}

func TestContactFormSchemes(t *testing.T) {
	w := newContactWorld(t)
	for i, tc := range []struct{ scheme, value, urn string }{
		{"tel", "+250 788 555 101", "tel:+250788555101"},
		{"tel", "070 123 4567", "tel:+93701234567"}, // national: the org's time zone is Asia/Kabul
		{"whatsapp", "+250 788 555 102", "whatsapp:250788555102"},
		{"telegram", "987654321", "telegram:987654321"},
		{"twitter", "@Amina_U", "twitter:amina_u"},
		{"twitterid", "1234567#amina", "twitterid:1234567"},
	} {
		r := w.supA.post("/contact/create/", w.form("name", "Scheme "+strconv.Itoa(i), "scheme", tc.scheme, "urn", tc.value))
		if r.Code != 303 {
			t.Fatalf("%s %q: %d %s", tc.scheme, tc.value, r.Code, r.Body)
		}
		if n := w.count(`SELECT count(*) FROM contacts WHERE urn = ? AND name = ? AND local_only = 1`, tc.urn, "Scheme "+strconv.Itoa(i)); n != 1 {
			t.Errorf("%s %q: not stored as %s", tc.scheme, tc.value, tc.urn)
		}
	}
	before := w.writes()
	for _, tc := range []struct{ scheme, value, msg string }{
		{"whatsapp", "250 78", models.MsgPhoneShort},
		{"telegram", "@amina", "A Telegram ID is a number."},
		{"twitter", "this_handle_is_too_long", "A Twitter handle has 1 to 15 letters, digits or underscores."},
		{"twitterid", "amina", "A Twitter ID is a number, optionally followed by #handle."},
		{"mailto", "a@b.example", "Choose one of the URN types."},
	} {
		r := w.supA.post("/contact/create/", w.form("scheme", tc.scheme, "urn", tc.value))
		if r.Code != 422 || !strings.Contains(r.Body, htmlText(tc.msg)) {
			t.Errorf("%s %q: %d, want 422 with %q", tc.scheme, tc.value, r.Code, tc.msg)
		}
	}
	if got := w.writes(); got != before {
		t.Fatalf("refused forms wrote: %v → %v", before, got)
	}
}

func TestContactFormRefusals(t *testing.T) {
	w := newContactWorld(t)
	var takenURN string
	if err := w.DB.QueryRow(`SELECT urn FROM contacts WHERE is_active = 1 AND urn LIKE 'tel:%' LIMIT 1`).Scan(&takenURN); err != nil {
		t.Fatal(err)
	}
	// A URN only RapidPro knows (a contact of no tracked panel).
	w.sim.Write(func() { w.sim.AddContact(&fake.Contact{Name: "Elsewhere", URNs: []string{"tel:+250788999111"}}) })
	before := w.writes()
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"URN taken here", w.form("urn", strings.TrimPrefix(takenURN, "tel:")), "urn", "Another contact already has this phone number or ID."},
		{"URN taken in RapidPro", w.form("urn", "+250788999111"), "urn", "This phone number or ID belongs to another contact in RapidPro."},
		{"panel of another supervisor", w.form("region", strconv.FormatInt(w.panelB, 10)), "region", "Choose one of your panels."},
		{"no name", w.form("name", " "), "name", "Enter a name."},
		{"unknown language", w.form("language", "Klingon"), "language", "Choose a language from the list."},
		{"number field", w.form("field_birth_year", "nineteen"), "field_birth_year", "Enter a number."},
		{"date field", w.form("field_registered_on", "5 March"), "field_registered_on", "Enter a date."},
		{"cohort of nowhere", w.form("cohorts", "999999"), "cohorts", "Choose cohorts of this organization."},
	} {
		r := w.supA.post("/contact/create/", tc.form)
		if r.Code != 422 || !strings.Contains(r.Body, htmlText(tc.msg)) {
			t.Errorf("%s: %d, want 422 with %q", tc.name, r.Code, tc.msg)
		}
	}
	if got := w.writes(); got != before {
		t.Fatalf("refused forms wrote: %v → %v", before, got)
	}
	// Supervisor B cannot see, edit or delete a contact of panel A: 404, nothing written.
	var id int64
	if err := w.DB.QueryRow(`SELECT id FROM contacts WHERE region_id = ? AND is_active = 1 LIMIT 1`, w.panelA).Scan(&id); err != nil {
		t.Fatal(err)
	}
	sid := strconv.FormatInt(id, 10)
	for _, r := range []*result{w.supB.get("/contact/read/" + sid + "/"), w.supB.get("/contact/update/" + sid + "/"),
		w.supB.post("/contact/update/"+sid+"/", w.form("region", strconv.FormatInt(w.panelB, 10))), w.supB.post("/contact/delete/"+sid+"/", url.Values{"confirm": {"1"}})} {
		if r.Code != 404 {
			t.Errorf("supervisor B on panel A's contact: %d, want 404", r.Code)
		}
	}
	// Supervisor A moving the contact to panel B: refused, nothing written.
	if r := w.supA.post("/contact/update/"+sid+"/", w.form("region", strconv.FormatInt(w.panelB, 10))); r.Code != 422 {
		t.Errorf("moving to a panel outside the scope: %d, want 422", r.Code)
	}
	if got := w.writes(); got != before {
		t.Fatalf("refused requests wrote: %v → %v", before, got)
	}
}

func TestContactRapidProUnreachableSaves(t *testing.T) {
	w := newContactWorld(t)
	w.orgEnv.sim.Script(fake.Fault{Kind: fake.FaultStatus, Method: "GET", Path: "contacts", Status: 503})
	r := w.supA.post("/contact/create/", w.form())
	if r.Code != 303 {
		t.Fatalf("create with RapidPro down: %d %s", r.Code, r.Body)
	}
	page := w.supA.get(r.Header.Get("Location"))
	if !strings.Contains(page.Body, "RapidPro could not be reached") || !strings.Contains(page.Body, `data-state="pending"`) {
		t.Fatalf("the contact page does not say RapidPro was unreachable and the push waits:\n%s", page.Body)
	}
	if n := w.count(`SELECT count(*) FROM outbox WHERE kind = 'contact_create' AND state = 'pending'`); n != 1 {
		t.Fatalf("%d pending creates", n)
	}
}

// TestContactLifecycleReachesRapidPro: a contact created, edited and deleted
// in TracPro appears, changes and disappears in the simulator with the
// right name, URN, language, fields and groups; the contact page shows each
// push pending, then sent; the sync neither duplicates the new contact nor
// overwrites a pending edit.
func TestContactLifecycleReachesRapidPro(t *testing.T) {
	w := newContactWorld(t)
	var panelUUID string
	if err := w.DB.QueryRow(`SELECT uuid FROM regions WHERE id = ?`, w.panelA).Scan(&panelUUID); err != nil {
		t.Fatal(err)
	}
	before := w.syncer.Meter.Used(w.Ctx, w.org.ID)
	r := w.supA.post("/contact/create/", w.form())
	if r.Code != 303 {
		t.Fatalf("create: %d %s", r.Code, r.Body)
	}
	// The form's URN lookup is one request of the org's hourly API budget.
	if after := w.syncer.Meter.Used(w.Ctx, w.org.ID); sumUsed(after) != sumUsed(before)+1 {
		t.Fatalf("API requests counted: %v before the save, %v after; want one more (the URN lookup)", before, after)
	}
	loc := r.Header.Get("Location")
	id, _ := strconv.ParseInt(strings.Trim(strings.TrimPrefix(loc, "/contact/read/"), "/"), 10, 64)
	if page := w.supA.get(loc); !strings.Contains(page.Body, `data-state="pending"`) || !strings.Contains(page.Body, "Amina Uwase") {
		t.Fatalf("new contact page without its pending push")
	}
	if l := w.supA.get("/contact/?search=Amina"); !strings.Contains(l.Body, "Push pending") {
		t.Fatal("the list does not mark the new contact's push pending")
	}
	if c := w.simContact("tel:+250788555001"); c != nil {
		t.Fatal("in RapidPro before delivery")
	}
	w.deliver()
	c := w.simContact("tel:+250788555001")
	if c == nil {
		t.Fatal("not created in RapidPro")
	}
	slices.Sort(c.Groups)
	want := []string{panelUUID, w.cohortUUID}
	slices.Sort(want)
	if c.Name != "Amina Uwase" || c.Language != "kin" || !slices.Equal(c.Groups, want) || c.Fields["gender"] != "female" ||
		c.Fields["birth_year"] != "1990" || !strings.HasPrefix(c.Fields["registered_on"], "2024-03-05T00:00:00") {
		t.Fatalf("RapidPro has %+v", c)
	}
	var localUUID string
	var localOnly bool
	if err := w.DB.QueryRow(`SELECT uuid, local_only FROM contacts WHERE id = ?`, id).Scan(&localUUID, &localOnly); err != nil || localUUID != c.UUID || localOnly {
		t.Fatalf("local uuid %s (local only %v), RapidPro's %s", localUUID, localOnly, c.UUID)
	}
	if page := w.supA.get(loc); !strings.Contains(page.Body, `data-state="sent"`) {
		t.Fatal("the contact page does not show the push sent")
	}
	// The next pull finds it in RapidPro: no duplicate.
	if res := w.syncer.Pull(w.Ctx, w.org, "contacts"); res.Err != nil {
		t.Fatal(res.Err)
	}
	if n := w.count(`SELECT count(*) FROM contacts WHERE urn = 'tel:+250788555001'`); n != 1 {
		t.Fatalf("%d local contacts with the URN after the pull", n)
	}

	// Edit: name, language, a field emptied, another changed, no cohort.
	w.sim.Write(func() { // RapidPro changes meanwhile (newer modified_on)
		for _, sc := range w.sim.Contacts {
			if sc.UUID == c.UUID {
				sc.Name, sc.ModifiedOn = "Changed in RapidPro", w.sim.Clock.Now().Add(time.Minute)
			}
		}
	})
	r = w.supA.post(loc[:len("/contact/")]+"update/"+strconv.FormatInt(id, 10)+"/",
		w.form("name", "Amina U.", "language", "Français", "field_gender", "", "field_birth_year", "1991", "cohorts", ""))
	if r.Code != 303 {
		t.Fatalf("update: %d %s", r.Code, r.Body)
	}
	if res := w.syncer.Pull(w.Ctx, w.org, "contacts"); res.Err != nil {
		t.Fatal(res.Err)
	}
	var name string
	w.DB.QueryRow(`SELECT name FROM contacts WHERE id = ?`, id).Scan(&name)
	if name != "Amina U." {
		t.Fatalf("the pull overwrote the pending edit: %q", name)
	}
	w.deliver()
	c = w.simContact("tel:+250788555001")
	if c.Name != "Amina U." || c.Language != "fra" || !slices.Equal(c.Groups, []string{panelUUID}) || c.Fields["birth_year"] != "1991" {
		t.Fatalf("after the edit RapidPro has %+v", c)
	}
	if _, ok := c.Fields["gender"]; ok {
		t.Fatalf("the emptied field is still set in RapidPro: %+v", c.Fields)
	}

	// Delete (after the confirmation page).
	if page := w.supA.get("/contact/delete/" + strconv.FormatInt(id, 10) + "/"); page.Code != 200 || !strings.Contains(page.Body, "Amina U.") {
		t.Fatalf("confirmation page: %d", page.Code)
	}
	if r := w.supA.post("/contact/delete/"+strconv.FormatInt(id, 10)+"/", nil); r.Code != 422 {
		t.Fatalf("delete without confirmation: %d", r.Code)
	}
	if r := w.supA.post("/contact/delete/"+strconv.FormatInt(id, 10)+"/", url.Values{"confirm": {"1"}}); r.Code != 303 || r.Header.Get("Location") != "/contact/" {
		t.Fatalf("delete: %d %s", r.Code, r.Header.Get("Location"))
	}
	if w.supA.get(loc).Code != 404 {
		t.Fatal("the deleted contact still has a page")
	}
	w.deliver()
	w.sim.Read(func() {
		if sc := w.sim.ContactsByUUID[c.UUID]; sc == nil || !sc.Deleted {
			t.Fatal("not deleted in RapidPro")
		}
	})
	if n := w.count(`SELECT count(*) FROM outbox WHERE ordering_key = ? AND state = 'sent'`, models.ContactOrdering(id)); n != 3 {
		t.Fatalf("%d pushes sent, want 3", n)
	}
	// Administrators see the pushes: nothing left, three sent.
	if page := w.admin.get("/contact/pushes/"); page.Code != 200 || !strings.Contains(page.Body, "3 changes sent to RapidPro.") {
		t.Fatalf("pushes page: %d", page.Code)
	}
}

func TestContactListAndPage(t *testing.T) {
	w := newContactWorld(t)
	r := w.supA.get("/contact/")
	if r.Code != 200 || !strings.Contains(r.Body, "<html") {
		t.Fatalf("list: %d", r.Code)
	}
	inA := w.count(`SELECT count(*) FROM contacts WHERE is_active = 1 AND region_id = ?`, w.panelA)
	if !strings.Contains(r.Body, strconv.Itoa(inA)+" contacts") {
		t.Fatalf("supervisor A's list does not count the %d contacts of %s", inA, w.nameA)
	}
	var nameB string
	w.DB.QueryRow(`SELECT name FROM contacts WHERE is_active = 1 AND region_id = ? ORDER BY id LIMIT 1`, w.panelB).Scan(&nameB)
	if strings.Contains(r.Body, ">"+nameB+"<") {
		t.Fatalf("supervisor A sees %s of panel B", nameB)
	}
	// The three newest poll runs as answered/pending columns: one mark per
	// contact and run; as many answered as complete responses.
	runs := runRe.FindAllStringSubmatch(r.Body, -1)
	if len(runs) != 3 || inA > perPage {
		t.Fatalf("%d poll run columns, %d contacts", len(runs), inA)
	}
	// Each column names its poll (a phone has no hover title) and the run's date.
	for _, run := range runs {
		var poll, date string
		w.DB.QueryRow(`SELECT coalesce(nullif(p.name, ''), p.rapidpro_name), pr.local_date FROM pollruns pr JOIN polls p ON p.id = pr.poll_id WHERE pr.id = ?`, run[1]).Scan(&poll, &date)
		if run[2] != htmlText(poll) || run[3] != enDay(date) {
			t.Errorf("column of run %s reads %q %q, want %q %q", run[1], run[2], run[3], poll, date)
		}
	}
	answered, pending := strings.Count(r.Body, `title="Answered"`), strings.Count(r.Body, `title="Pending"`)
	complete := w.count(`SELECT count(*) FROM responses r JOIN contacts c ON c.id = r.contact_id WHERE r.pollrun_id IN (`+runs[0][1]+`, `+runs[1][1]+`, `+runs[2][1]+`)
		AND r.is_active = 1 AND r.status = 'C' AND c.is_active = 1 AND c.region_id = ?`, w.panelA)
	if answered+pending != 3*inA || answered != complete || complete == 0 {
		t.Fatalf("%d answered + %d pending marks for %d contacts × 3 runs; %d complete responses", answered, pending, inA, complete)
	}
	// Search by name, as a fragment.
	var one string
	w.DB.QueryRow(`SELECT name FROM contacts WHERE is_active = 1 AND region_id = ? ORDER BY id LIMIT 1`, w.panelA).Scan(&one)
	f := w.supA.get("/contact/?search="+url.QueryEscape(one), "HX-Request", "true")
	if f.Code != 200 || strings.Contains(f.Body, "<html") || !strings.Contains(f.Body, `id="contact-list"`) || !strings.Contains(f.Body, ">"+one+"<") {
		t.Fatalf("search fragment: %d", f.Code)
	}
	if b := w.supB.get("/contact/?search=" + url.QueryEscape(one)); strings.Contains(b.Body, ">"+one+"<") {
		t.Fatal("supervisor B finds a contact of panel A")
	}
	// The contact page: facts and tabs.
	var id int64
	w.DB.QueryRow(`SELECT id FROM contacts WHERE name = ?`, one).Scan(&id)
	p := w.supA.get("/contact/read/" + strconv.FormatInt(id, 10) + "/")
	for _, want := range []string{one, w.nameA, "/response/by_contact/" + strconv.FormatInt(id, 10) + "/", "/message/by_contact/" + strconv.FormatInt(id, 10) + "/", "Last response", "Gender"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("contact page lacks %q", want)
		}
	}
	if fr := w.supA.get("/contact/read/"+strconv.FormatInt(id, 10)+"/", "HX-Request", "true"); strings.Contains(fr.Body, "<html") || !strings.Contains(fr.Body, `id="contact-page"`) {
		t.Fatal("contact page fragment")
	}
}

// sumUsed adds up an org's API requests of this hour over every scope.
func sumUsed(used map[string]int) int {
	n := 0
	for _, v := range used {
		n += v
	}
	return n
}

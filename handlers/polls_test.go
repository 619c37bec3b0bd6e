package handlers

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// pollFixture is an org with exact, known responses for the poll pages:
// time zone Africa/Kigali (UTC+2); panels Province A and Province B; cohorts
// Teachers and Heads; a visible data field "gender"; one tracked poll
// "Attendance" with questions Pupils (numeric), Water (multiple choice),
// Comment (open), Voice (recording) and Hidden (not shown on TracPro).
//
// Poll run 1 (universal, 10 days ago): a1 4/Yes, a2 5/No, a3 6/Yes (panel A:
// sum 15, average 5, response rate 100), b1 100/No.
// Poll run 2 (universal, 3 days ago): a1 answered 1 then again 2 (the first
// response becomes inactive), a2 12 with a formula-like comment, a3 empty
// (panel A: sum 14, average 7, response rate 66.7), b2 7.
// Poll run 3 (regional, Province B only, 2 days ago): b1 9.
type pollFixture struct {
	*testEnv
	Org                       *models.Org
	PanelA, PanelB            int64
	Poll                      models.Poll
	QPupils, QWater, QComment int64
	QVoice                    int64
	Runs                      [3]int64 // poll run ids
	Contacts                  map[string]int64
	SupA, SupB, Admin         *models.User
	Day1, Day2                time.Time
}

func cat2(s string) *string { return &s }

func newPollFixture(t *testing.T) *pollFixture {
	t.Helper()
	e := newTestEnv(t)
	ctx := e.Ctx
	f := &pollFixture{testEnv: e, Org: e.createOrg("org1"), Contacts: map[string]int64{}}
	if err := e.DB.SetOrgTimezone(ctx, f.Org.ID, "Africa/Kigali"); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.Org, err = e.DB.OrgByID(ctx, f.Org.ID); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = e.DB.SyncGroups(ctx, f.Org.ID, []models.RapidProGroup{{UUID: "g-a", Name: "Province A"}, {UUID: "g-b", Name: "Province B"},
		{UUID: "g-teachers", Name: "Teachers"}, {UUID: "g-heads", Name: "Heads"}})
	must(err)
	for table, names := range map[string][]string{"regions": {"Province A", "Province B"}, "cohorts": {"Teachers", "Heads"}} {
		gs, err := e.DB.ResolveGroups(ctx, f.Org.ID, names)
		must(err)
		_, err = e.DB.TrackGroups(ctx, f.Org.ID, table, gs)
		must(err)
	}
	regions, err := e.DB.ListRegions(ctx, f.Org.ID, true)
	must(err)
	for _, r := range regions {
		if r.Name == "Province A" {
			f.PanelA = r.ID
		} else {
			f.PanelB = r.ID
		}
	}
	_, _, _, err = e.DB.SyncFields(ctx, f.Org.ID, []models.DataField{{Key: "gender", Label: "Gender", ValueType: "text"}})
	must(err)
	_, err = e.DB.ExecContext(ctx, `UPDATE data_fields SET show_on_tracpro = 1 WHERE org_id = ?`, f.Org.ID)
	must(err)

	_, _, _, err = e.DB.SyncFlows(ctx, f.Org.ID, []models.FlowInfo{{UUID: "flow-1", Name: "Attendance"}})
	must(err)
	_, err = e.DB.TrackPolls(ctx, f.Org.ID, []string{"Attendance"})
	must(err)
	polls, err := e.DB.ListPolls(ctx, f.Org.ID, true)
	must(err)
	f.Poll = polls[0]
	_, _, _, err = e.DB.SyncQuestions(ctx, f.Poll.ID, []models.QuestionDef{
		{UUID: "n-pupils", ResultKey: "pupils", Label: "Pupils", Order: 0, Rules: []models.Rule{{Category: "Any", Test: "between", Args: []string{"0", "1000"}}}},
		{UUID: "n-water", ResultKey: "water", Label: "Water", Order: 1, Rules: []models.Rule{{Category: "Yes", Test: "has_any_word", Args: []string{"yes"}}, {Category: "No", Test: "has_any_word", Args: []string{"no"}}}},
		{UUID: "n-comment", ResultKey: "comment", Label: "Comment", Order: 2},
		{UUID: "n-voice", ResultKey: "voice", Label: "Voice", Order: 3},
		{UUID: "n-hidden", ResultKey: "hidden", Label: "Hidden", Order: 4},
	})
	must(err)
	qs, err := e.DB.PollQuestions(ctx, f.Poll.ID)
	must(err)
	ids := map[string]int64{}
	for _, q := range qs {
		ids[q.ResultKey] = q.ID
	}
	f.QPupils, f.QWater, f.QComment, f.QVoice = ids["pupils"], ids["water"], ids["comment"], ids["voice"]
	_, err = e.DB.ExecContext(ctx, `UPDATE questions SET question_type = 'R', type_set = 1 WHERE id = ?`, f.QVoice)
	must(err)
	_, err = e.DB.ExecContext(ctx, `UPDATE questions SET is_active = 0 WHERE id = ?`, ids["hidden"])
	must(err)

	gender := func(s string) map[string]*string { return map[string]*string{"gender": cat2(s)} }
	now := time.Now()
	_, err = e.DB.ApplyContacts(ctx, f.Org, []models.ContactRow{
		{UUID: "c-a1", Name: "Alice", URNs: []string{"tel:+250780000001"}, Groups: []string{"g-a", "g-teachers", "g-heads"}, Fields: gender("F"), Language: "eng", Active: true, ModifiedOn: now},
		{UUID: "c-a2", Name: "@Bob", URNs: []string{"tel:+250780000002"}, Groups: []string{"g-a", "g-teachers"}, Fields: gender("M"), Language: "fra", Active: true, ModifiedOn: now},
		{UUID: "c-a3", Name: "Carol", URNs: []string{"tel:+250780000003"}, Groups: []string{"g-a", "g-heads"}, Fields: gender("F"), Language: "eng", Active: true, ModifiedOn: now},
		{UUID: "c-b1", Name: "Dan", URNs: []string{"tel:+250780000004"}, Groups: []string{"g-b", "g-teachers"}, Fields: gender("M"), Language: "eng", Active: true, ModifiedOn: now},
		{UUID: "c-b2", Name: "Eve", URNs: []string{"tel:+250780000005"}, Groups: []string{"g-b"}, Fields: gender("F"), Language: "eng", Active: true, ModifiedOn: now},
	}, nil)
	must(err)
	cs, err := e.DB.ListContacts(ctx, f.Org.ID)
	must(err)
	for _, c := range cs {
		f.Contacts[c.UUID] = c.ID
	}

	// A regional poll run for Province B, started by TracPro (its flow start
	// links the run).
	day := func(daysAgo int) time.Time {
		y, m, d := time.Now().UTC().AddDate(0, 0, -daysAgo).Date()
		return time.Date(y, m, d, 8, 0, 0, 0, time.UTC) // 10:00 in Kigali
	}
	f.Day1, f.Day2 = day(10), day(3)
	d3 := day(2)
	must(e.DB.QueryRowContext(ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date) VALUES (?, ?, 'r', ?, ?, ?) RETURNING id`,
		f.Org.ID, f.Poll.ID, f.PanelB, models.Ms(d3), f.Org.LocalDate(d3)).Scan(&f.Runs[2]))
	_, err = e.DB.ExecContext(ctx, `INSERT INTO flow_starts (org_id, pollrun_id, uuid, contacts, status, created_at, updated_at) VALUES (?, ?, 'start-b', 1, 'sent', 0, 0)`, f.Org.ID, f.Runs[2])
	must(err)

	type val struct{ key, value, category string }
	run := func(uuid, contact string, at time.Time, complete bool, vals ...val) models.RunRow {
		r := models.RunRow{UUID: uuid, FlowUUID: "flow-1", ContactUUID: contact, CreatedOn: at, ModifiedOn: at}
		if complete {
			r.ExitType = "completed"
		}
		for _, v := range vals {
			rv := models.RunValueRow{Key: v.key, Node: "n-" + v.key, Value: v.value, Time: at}
			if v.category != "" {
				rv.Category = cat2(v.category)
			}
			r.Values = append(r.Values, rv)
		}
		return r
	}
	d1, d2 := f.Day1, f.Day2
	after := func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Minute) }
	runs := []models.RunRow{
		run("r1-a1", "c-a1", after(d1, 1), true, val{"pupils", "4", "Any"}, val{"water", "yes", "Yes"}, val{"comment", "The school water pump is broken", ""}, val{"voice", "https://example.org/rec/1.m4a", ""}, val{"hidden", "secret", ""}),
		run("r1-a2", "c-a2", after(d1, 2), true, val{"pupils", "5", "Any"}, val{"water", "no", "No"}, val{"comment", "Pump broken again", ""}),
		run("r1-a3", "c-a3", after(d1, 3), true, val{"pupils", "6", "Any"}, val{"water", "yes", "Yes"}),
		run("r1-b1", "c-b1", after(d1, 4), true, val{"pupils", "100", "Any"}, val{"water", "no", "No"}, val{"comment", "Panel B secret words", ""}),
		run("r2-a1-old", "c-a1", after(d2, 1), true, val{"pupils", "1", "Any"}),
		run("r2-a1", "c-a1", after(d2, 5), true, val{"pupils", "2", "Any"}),
		run("r2-a2", "c-a2", after(d2, 6), true, val{"pupils", "12", "Any"}, val{"comment", "=cmd|' /C calc'!A0", ""}),
		run("r2-a3", "c-a3", after(d2, 7), false),
		run("r2-b2", "c-b2", after(d2, 8), true, val{"pupils", "7", "Any"}),
	}
	r3 := run("r3-b1", "c-b1", after(d3, 1), true, val{"pupils", "9", "Any"})
	r3.StartUUID = "start-b"
	runs = append(runs, r3)
	ri, err := e.DB.NewRunIngester(ctx, f.Org)
	must(err)
	_, err = ri.ApplyPage(ctx, runs, nil)
	must(err)
	for i, d := range []time.Time{d1, d2} {
		must(e.DB.QueryRowContext(ctx, `SELECT id FROM pollruns WHERE poll_id = ? AND pollrun_type = 'u' AND local_date = ?`, f.Poll.ID, f.Org.LocalDate(d)).Scan(&f.Runs[i]))
	}
	f.SupA = e.createUser(f.Org, "sup-a@org1.test", models.RoleSupervisor, "", f.PanelA)
	f.SupB = e.createUser(f.Org, "sup-b@org1.test", models.RoleSupervisor, "", f.PanelB)
	f.Admin = e.createUser(f.Org, "admin@org1.test", models.RoleAdmin, "")
	return f
}

// sid formats an id for a path.
func sid(n int64) string { return strconv.FormatInt(n, 10) }

// custom is the query of a custom date range over both universal poll runs.
func (f *pollFixture) custom() string {
	return "date_range=custom&start_date=" + f.Org.LocalDate(f.Day1) + "&end_date=" + f.Org.LocalDate(f.Day2)
}

// mustContain fails unless body holds every one of want.
func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
}

// mustNotContain fails when body holds one of bad.
func mustNotContain(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s: must not contain %q", what, b)
		}
	}
}

// cell is how a chart's data table shows a value.
func cell(v string) string { return "<td>" + v + "</td>" }

func TestPollReadNumericDisplays(t *testing.T) {
	f := newPollFixture(t)
	c := f.newClient(f.Org, f.SupA)
	base := "/poll/read/" + sid(f.Poll.ID) + "/?" + f.custom()
	d1, d2 := f.Org.LocalDate(f.Day1), f.Org.LocalDate(f.Day2)

	// Province A: poll run 1 answers 4, 5, 6 of 3 responses; poll run 2
	// answers 2 and 12 of 3 responses (one empty).
	sum := c.get(base + "&numeric=sum")
	if sum.Code != 200 || !strings.Contains(sum.Body, "<html") {
		t.Fatalf("sum: %d", sum.Code)
	}
	mustContain(t, "sum", sum.Body, enDay(d1), enDay(d2), cell("15"), cell("14"),
		"<dt>Mean</dt><dd>6.0</dd>", "<dt>Standard deviation</dt><dd>1.0</dd>", "<dt>Response rate average</dt><dd>83.3%</dd>",
		`href="/pollrun/read/`+sid(f.Runs[0])+`/"`)
	mustNotContain(t, "sum (panel B's answers)", sum.Body, cell("115"), cell("100"), "secret")
	avg := c.get(base + "&numeric=average")
	mustContain(t, "average", avg.Body, cell("5.0"), cell("7.0"), `aria-current="page">Average`)
	rate := c.get(base + "&numeric=response-rate")
	mustContain(t, "response rate", rate.Body, cell("100.0"), cell("66.7"), `href="/pollrun/participation/`+sid(f.Runs[1])+`/"`)

	// Multiple choice: per poll run counts (Yes 2 / No 1, then no answers);
	// open-ended: words without English/French stop words.
	mustContain(t, "choice and open", sum.Body, "<h2>Water</h2>", "<dt>Response rate average</dt><dd>50.0%</dd>", ">pump<", ">broken<")
	mustNotContain(t, "stop words", sum.Body, ">the<")
	mustContain(t, "recording", sum.Body, "<h2>Voice</h2>\n<p class=\"notice\">No data</p>")

	// Contact-field filter: women of Province A (Alice 4 then 2, Carol 6
	// then empty); chart points carry the filter to the poll run.
	fem := c.get(base + "&numeric=sum&contact_gender=f")
	mustContain(t, "gender filter", fem.Body, cell("10"), cell("2"), `/pollrun/read/`+sid(f.Runs[0])+`/?contact_gender=f`)
	mustNotContain(t, "gender filter", fem.Body, cell("15"))

	// One series per panel (administrator, all panels).
	admin := f.newClient(f.Org, f.Admin)
	split := admin.get(base + "&numeric=sum&split_regions=1")
	mustContain(t, "split", split.Body, "Province A", "Province B", cell("15"), cell("100"), cell("14"), cell("7"),
		"No panel is selected: only poll runs sent to all panels are charted.")
	if strings.Index(split.Body, ">Province A<") > strings.Index(split.Body, ">Province B<") {
		t.Errorf("split series are not sorted by panel name")
	}

	// The fragment: the filters and charts only.
	frag := c.get(base+"&numeric=average", "HX-Request", "true", "HX-Target", "div#poll-body")
	if frag.Code != 200 || strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `id="poll-body"`) || !strings.Contains(frag.Body, cell("7.0")) {
		t.Fatalf("fragment: %d %.300s", frag.Code, frag.Body)
	}
	if frag.Header.Get("Vary") == "" {
		t.Errorf("no Vary header")
	}
	size := gzipSize(t, []byte(frag.Body))
	t.Logf("poll detail fragment: %d B raw, %d B gzip", len(frag.Body), size)
	if size > 4096 {
		t.Errorf("poll detail fragment weighs %d B gzip, over 4 KB", size)
	}
	pageWeight(t, c, "poll detail (supervisor)", base)
}

func TestPollReadDateRanges(t *testing.T) {
	f := newPollFixture(t)
	c := f.newClient(f.Org, f.SupA)
	p := "/poll/read/" + sid(f.Poll.ID) + "/?"
	d1, d2 := f.Org.LocalDate(f.Day1), f.Org.LocalDate(f.Day2)

	// The end date is padded by a day: a one-day range holds that day's run.
	one := c.get(p + "date_range=custom&start_date=" + d1 + "&end_date=" + d1)
	mustContain(t, "one day", one.Body, enDay(d1), cell("15"))
	mustNotContain(t, "one day", one.Body, enDay(d2))
	startOnly := c.get(p + "date_range=custom&start_date=" + d2)
	mustContain(t, "start only", startOnly.Body, enDay(d2), cell("14"))
	mustNotContain(t, "start only", startOnly.Body, enDay(d1))
	last30 := c.get(p + "date_range=30-days")
	mustContain(t, "30 days", last30.Body, enDay(d1), enDay(d2))
	last7 := c.get(p + "date_range=custom&end_date=" + d2 + "&start_date=" + f.Org.LocalDate(f.Day2.AddDate(0, 0, -1)))
	mustNotContain(t, "custom week", last7.Body, enDay(d1))

	for _, bad := range []struct{ q, field, msg string }{
		{"date_range=custom", "f-start", "Enter a start date or an end date."},
		{"date_range=custom&start_date=" + d2 + "&end_date=" + d1, "f-end", "The end date must not be before the start date."},
		{"date_range=custom&start_date=yesterday", "f-start", "Enter a valid date (YYYY-MM-DD)."},
		{"date_range=fortnight", "f-range", "Choose a date range."},
		{"numeric=median", "", "Choose sum, average or response rate."},
	} {
		for _, hx := range []bool{false, true} {
			var r *result
			if hx {
				r = c.get(p+bad.q, "HX-Request", "true")
			} else {
				r = c.get(p + bad.q)
			}
			if r.Code != 422 || !strings.Contains(r.Body, `<p class="field-error">`+bad.msg+`</p>`) || strings.Contains(r.Body, "<svg") {
				t.Errorf("%s (htmx %v): %d, want 422 with %q and no charts", bad.q, hx, r.Code, bad.msg)
			}
			if bad.field != "" {
				if i, j := strings.Index(r.Body, `id="`+bad.field+`"`), strings.Index(r.Body, bad.msg); i < 0 || j < i {
					t.Errorf("%s: the message is not after its field", bad.q)
				}
			}
			if hx == strings.Contains(r.Body, "<html") {
				t.Errorf("%s (htmx %v): wrong representation", bad.q, hx)
			}
		}
	}
}

func TestPollListAndEdit(t *testing.T) {
	f := newPollFixture(t)
	admin := f.newClient(f.Org, f.Admin)
	list := admin.get("/poll/")
	mustContain(t, "poll list", list.Body, "Attendance</a></td>\n<td>4</td>", "Dates (3)</a>")
	// A supervisor of Province A sees the two universal runs only.
	if n, err := f.DB.ListPollSummaries(f.Ctx, f.Org.ID, nil); err != nil || len(n) != 1 || n[0].Pollruns != 3 {
		t.Fatalf("summaries = %+v, %v", n, err)
	}
	pageWeight(t, admin, "poll list (administrator)", "/poll/")

	edit := admin.get("/poll/update/" + sid(f.Poll.ID) + "/")
	mustContain(t, "edit form", edit.Body, `name="name" value="Attendance"`, "In RapidPro: Attendance", `name="type_`+sid(f.QVoice)+`"`)
	form := url.Values{"name": {"  Attendance  "}}
	qs, _ := f.DB.PollQuestions(f.Ctx, f.Poll.ID)
	for _, q := range qs {
		k := sid(q.ID)
		form.Set("name_"+k, q.RapidProName)
		form.Set("type_"+k, q.Type)
		form.Set("order_"+k, strconv.Itoa(q.Order))
		if q.IsActive {
			form.Set("active_"+k, "1")
		}
	}
	form.Set("name_"+sid(f.QWater), "Clean water?")
	form.Set("type_"+sid(f.QWater), "M")
	form.Set("order_"+sid(f.QWater), "9")
	form.Del("active_" + sid(f.QComment))
	r := admin.post("/poll/update/"+sid(f.Poll.ID)+"/", form)
	if r.Code != 303 {
		t.Fatalf("save: %d %.300s", r.Code, r.Body)
	}
	var pollName, qName, qType string
	var active, order, typeSet int
	f.DB.QueryRow(`SELECT name FROM polls WHERE id = ?`, f.Poll.ID).Scan(&pollName)
	f.DB.QueryRow(`SELECT name, question_type, display_order, type_set FROM questions WHERE id = ?`, f.QWater).Scan(&qName, &qType, &order, &typeSet)
	f.DB.QueryRow(`SELECT is_active FROM questions WHERE id = ?`, f.QComment).Scan(&active)
	if pollName != "" || qName != "Clean water?" || qType != "M" || order != 9 || typeSet != 1 || active != 0 {
		t.Fatalf("stored: poll %q, question %q %s order %d type_set %d, comment active %d", pollName, qName, qType, order, typeSet, active)
	}
	var pupilsName string
	f.DB.QueryRow(`SELECT name FROM questions WHERE id = ?`, f.QPupils).Scan(&pupilsName)
	if pupilsName != "" {
		t.Errorf("a name equal to RapidPro's is stored as %q, want ''", pupilsName)
	}
	form.Set("type_"+sid(f.QWater), "X")
	form.Set("order_"+sid(f.QPupils), "first")
	r = admin.post("/poll/update/"+sid(f.Poll.ID)+"/", form, "HX-Request", "true")
	if r.Code != 422 || !strings.Contains(r.Body, "Enter a whole number.") || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="poll-form"`) {
		t.Fatalf("invalid edit: %d %.400s", r.Code, r.Body)
	}
	form.Set("order_"+sid(f.QPupils), "0")
	r = admin.post("/poll/update/"+sid(f.Poll.ID)+"/", form)
	if r.Code != 422 || !strings.Contains(r.Body, "Choose a question type.") {
		t.Fatalf("bad type: %d", r.Code)
	}
	// The poll page now lists the renamed question and leaves out the hidden one.
	page := admin.get("/poll/read/" + sid(f.Poll.ID) + "/?" + f.custom())
	mustContain(t, "after edit", page.Body, "<h2>Clean water?</h2>")
	mustNotContain(t, "after edit", page.Body, "<h2>Comment</h2>")
}

// TestPollPageOpensOnARangeWithData: without a date range in its URL the
// poll page opens on the shortest preset holding the newest poll run —
// never on an empty "this month" early in a month — and an explicit range
// is kept.
func TestPollPageOpensOnARangeWithData(t *testing.T) {
	f := newMatrixFixture(t)
	poll := f.matrixPoll()
	page := "/poll/read/" + sid(poll) + "/"
	admin := f.newClient(f.Org1, f.Admin)
	selected := func(body string) string {
		m := regexp.MustCompile(`<option value="([a-z0-9-]+)" selected>`).FindStringSubmatch(body[strings.Index(body, `id="f-range"`):])
		if m == nil {
			t.Fatal("no date range selected")
		}
		return m[1]
	}
	if r := admin.get(page); selected(r.Body) != "30-days" {
		t.Errorf("no poll run: the page opens on %s, want 30-days", selected(r.Body))
	}
	at := time.Now().AddDate(0, 0, -40)
	if _, err := f.DB.ExecContext(f.Ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, conducted_on, local_date) VALUES (?, ?, 'u', ?, ?)`,
		f.Org1.ID, poll, models.Ms(at), f.Org1.LocalDate(at)); err != nil {
		t.Fatal(err)
	}
	r := admin.get(page)
	if got := selected(r.Body); got != "60-days" || strings.Contains(r.Body, "No poll runs in this date range.") {
		t.Errorf("a poll run 40 days ago: the page opens on %s (empty: %v), want 60-days with it", got, strings.Contains(r.Body, "No poll runs in this date range."))
	}
	if r := admin.get(page + "?date_range=month"); selected(r.Body) != "month" || !strings.Contains(r.Body, "No poll runs in this date range.") {
		t.Errorf("an explicit date range is not kept: %s", selected(r.Body))
	}
}

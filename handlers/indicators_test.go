package handlers

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// indFixture is an org with known answers for the indicator pages: panels
// Province A and Province B; polls "Baseline" (numeric question Pupils
// before) and "Follow up" (numeric Pupils now, multiple choice Water); an
// indicator from Pupils before to Pupils now over the last 20 days.
//
// Baseline (15 days ago): a1 10, a2 20, a3 30 (Province A: 60), b1 1000.
// Follow up (10, 9 and 8 days ago): Province A 12+10+20 = 42, 30+24+30 = 84,
// 63+63 = 126 with a3's last response empty (rate 66.7%); b1 500 each day.
type indFixture struct {
	*testEnv
	Org                   *models.Org
	PanelA, PanelB        int64
	BasePoll, FUPoll      int64
	QBefore, QNow, QWater int64
	Ind                   *models.Indicator
	SupA, SupB, Admin     *models.User
	Start, End            string
}

func newIndFixture(t *testing.T) *indFixture {
	t.Helper()
	e := newTestEnv(t)
	ctx := e.Ctx
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f := &indFixture{testEnv: e, Org: e.createOrg("org1")}
	panels := e.createPanels(f.Org, [2]string{"Province A", ""}, [2]string{"Province B", ""})
	f.PanelA, f.PanelB = panels["Province A"], panels["Province B"]
	_, _, _, err := e.DB.SyncFlows(ctx, f.Org.ID, []models.FlowInfo{{UUID: "flow-b", Name: "Baseline"}, {UUID: "flow-f", Name: "Follow up"}})
	must(err)
	_, err = e.DB.TrackPolls(ctx, f.Org.ID, []string{"Baseline", "Follow up"})
	must(err)
	base, err := e.DB.PollByRef(ctx, f.Org.ID, "Baseline")
	must(err)
	fu, err := e.DB.PollByRef(ctx, f.Org.ID, "Follow up")
	must(err)
	f.BasePoll, f.FUPoll = base.ID, fu.ID
	num := []models.Rule{{Category: "Any", Test: "number"}}
	_, _, _, err = e.DB.SyncQuestions(ctx, base.ID, []models.QuestionDef{{UUID: "n-before", ResultKey: "before", Label: "Pupils before", Rules: num}})
	must(err)
	_, _, _, err = e.DB.SyncQuestions(ctx, fu.ID, []models.QuestionDef{{UUID: "n-now", ResultKey: "now", Label: "Pupils now", Rules: num},
		{UUID: "n-water", ResultKey: "water", Label: "Water", Order: 1, Rules: []models.Rule{{Category: "Yes", Test: "has_any_word", Args: []string{"yes"}}}}})
	must(err)
	for _, pid := range []int64{base.ID, fu.ID} {
		qs, err := e.DB.PollQuestions(ctx, pid)
		must(err)
		for _, q := range qs {
			switch q.ResultKey {
			case "before":
				f.QBefore = q.ID
			case "now":
				f.QNow = q.ID
			case "water":
				f.QWater = q.ID
			}
		}
	}
	_, _, _, err = e.DB.SyncFields(ctx, f.Org.ID, []models.DataField{{Key: "gender", Label: "Gender", ValueType: "text"}})
	must(err)
	_, err = e.DB.ExecContext(ctx, `UPDATE data_fields SET show_on_tracpro = 1 WHERE org_id = ?`, f.Org.ID)
	must(err)
	now := time.Now()
	var rows []models.ContactRow
	for _, c := range [][4]string{{"c-a1", "Alice", "g-org1-Province A", "F"}, {"c-a2", "Bob", "g-org1-Province A", "M"},
		{"c-a3", "Carol", "g-org1-Province A", "F"}, {"c-b1", "Dan", "g-org1-Province B", "M"}} {
		rows = append(rows, models.ContactRow{UUID: c[0], Name: c[1], URNs: []string{"tel:+25078000" + c[0][2:]}, Groups: []string{c[2]},
			Fields: map[string]*string{"gender": cat2(c[3])}, Active: true, ModifiedOn: now})
	}
	_, err = e.DB.ApplyContacts(ctx, f.Org, rows, nil)
	must(err)
	day := func(ago int) time.Time {
		y, m, d := now.UTC().AddDate(0, 0, -ago).Date()
		return time.Date(y, m, d, 8, 0, 0, 0, time.UTC)
	}
	run := func(uuid, flow, key, contact string, at time.Time, value string) models.RunRow {
		r := models.RunRow{UUID: uuid, FlowUUID: flow, ContactUUID: contact, CreatedOn: at, ModifiedOn: at}
		if value != "" {
			r.ExitType = "completed"
			r.Values = []models.RunValueRow{{Key: key, Node: "n-" + key, Value: value, Category: cat2("Any"), Time: at}}
		}
		return r
	}
	b := func(uuid, contact, v string) models.RunRow { return run(uuid, "flow-b", "before", contact, day(15), v) }
	fr := func(uuid, contact string, ago int, v string) models.RunRow {
		return run(uuid, "flow-f", "now", contact, day(ago), v)
	}
	ri, err := e.DB.NewRunIngester(ctx, f.Org)
	must(err)
	_, err = ri.ApplyPage(ctx, []models.RunRow{b("b-a1", "c-a1", "10"), b("b-a2", "c-a2", "20"), b("b-a3", "c-a3", "30"), b("b-b1", "c-b1", "1000"),
		fr("f1-a1", "c-a1", 10, "12"), fr("f1-a2", "c-a2", 10, "10"), fr("f1-a3", "c-a3", 10, "20"), fr("f1-b1", "c-b1", 10, "500"),
		fr("f2-a1", "c-a1", 9, "30"), fr("f2-a2", "c-a2", 9, "24"), fr("f2-a3", "c-a3", 9, "30"), fr("f2-b1", "c-b1", 9, "500"),
		fr("f3-a1", "c-a1", 8, "63"), fr("f3-a2", "c-a2", 8, "63"), fr("f3-a3", "c-a3", 8, ""), fr("f3-b1", "c-b1", 8, "500")}, nil)
	must(err)
	f.Start, f.End = f.Org.LocalDate(day(20)), f.Org.LocalDate(day(0))
	f.Ind, err = e.DB.CreateIndicator(ctx, f.Org, models.IndicatorInput{Name: "Pupils in school", StartDate: f.Start, EndDate: f.End,
		BaselinePollID: f.BasePoll, BaselineQuestionID: f.QBefore, FollowUpPollID: f.FUPoll, FollowUpQuestionID: f.QNow})
	must(err)
	f.SupA = e.createUser(f.Org, "sup-a@org1.test", models.RoleSupervisor, "", f.PanelA)
	f.SupB = e.createUser(f.Org, "sup-b@org1.test", models.RoleSupervisor, "", f.PanelB)
	f.Admin = e.createUser(f.Org, "admin@org1.test", models.RoleAdmin, "")
	return f
}

var factRe = regexp.MustCompile(`<dd id="([a-z-]+)">([^<]*)</dd>`)

// indFacts reads the indicator summary's figures by id.
func indFacts(body string) map[string]string {
	out := map[string]string{}
	for _, m := range factRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func wantFacts(t *testing.T, who, body string, want map[string]string) {
	t.Helper()
	got := indFacts(body)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q", who, k, got[k], v)
		}
	}
}

// TestIndicatorDetail checks SPEC §3.6's figures through the page: the
// verified example in supervisor A's panel, the other supervisor's and the
// administrator's views, the goal override, the panel and date filters, both
// representations and the 422s.
func TestIndicatorDetail(t *testing.T) {
	f := newIndFixture(t)
	path := "/indicators/read/" + sid(f.Ind.ID) + "/"
	a := f.newClient(f.Org, f.SupA)
	r := a.get(path)
	if r.Code != 200 || !strings.Contains(r.Body, "<html") {
		t.Fatalf("supervisor A: %d", r.Code)
	}
	wantFacts(t, "supervisor A", r.Body, map[string]string{"baseline-value": "60", "baseline-rate": "100.0%",
		"follow-up-mean": "84.0", "follow-up-sd": "34.3", "follow-up-rate": "88.9%"})
	mustContain(t, "supervisor A", r.Body, `<details class="chart-data">`, "<svg", "Pupils before", "Pupils now", f.Start+" – "+f.End)
	// The data table: the baseline repeated and the follow-up sums per date.
	for _, v := range []string{"<td>60</td><td>42</td>", "<td>60</td><td>84</td>", "<td>60</td><td>126</td>"} {
		if !strings.Contains(r.Body, v) {
			t.Errorf("supervisor A's data table lacks %s", v)
		}
	}
	// Panel choices: only A's (the panels whose contacts answered).
	if got := optionsOf(r.Body, "f-panel"); !sameStrings(got, []string{"All your panels", "Province A"}) {
		t.Errorf("supervisor A's panel choices = %q", got)
	}
	mustNotContain(t, "supervisor A", r.Body, "1000", "500.0", "Province B")

	wantFacts(t, "supervisor B", f.newClient(f.Org, f.SupB).get(path).Body, map[string]string{"baseline-value": "1,000",
		"follow-up-mean": "500.0", "follow-up-sd": "0.0", "follow-up-rate": "100.0%"})
	ad := f.newClient(f.Org, f.Admin)
	wantFacts(t, "administrator", ad.get(path).Body, map[string]string{"baseline-value": "1,060", "follow-up-mean": "584.0"})
	// The administrator narrows to Province B's contacts.
	wantFacts(t, "administrator, Province B", ad.get(path+"?panel="+sid(f.PanelB)).Body, map[string]string{"baseline-value": "1,000", "follow-up-mean": "500.0"})

	// The goal replaces the baseline; its rate does not apply.
	r = a.get(path + "?goal=150&start_date=" + f.Start + "&end_date=" + f.End)
	wantFacts(t, "goal", r.Body, map[string]string{"baseline-value": "150", "baseline-rate": "n/a", "follow-up-mean": "84.0"})
	if !strings.Contains(r.Body, "<td>150</td><td>42</td>") {
		t.Error("the chart's baseline is not the goal")
	}
	// A stored goal is the default; an emptied goal field shows the baseline.
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE indicators SET goal = 75 WHERE id = ?`, f.Ind.ID); err != nil {
		t.Fatal(err)
	}
	wantFacts(t, "stored goal", a.get(path).Body, map[string]string{"baseline-value": "75"})
	wantFacts(t, "goal cleared", a.get(path+"?goal=").Body, map[string]string{"baseline-value": "60"})

	// A date range with only the last follow-up.
	last := f.Org.LocalDate(time.Now().AddDate(0, 0, -8))
	wantFacts(t, "last day", a.get(path+"?goal=&start_date="+last+"&end_date="+f.End).Body,
		map[string]string{"baseline-value": "0", "follow-up-mean": "126.0", "follow-up-sd": "0.0", "follow-up-rate": "66.7%"})

	// A contact-field filter: Alice and Carol (F) only; Carol's last response is empty.
	r = a.get(path + "?goal=&contact_gender=f")
	wantFacts(t, "gender F", r.Body, map[string]string{"baseline-value": "40", "follow-up-mean": "51.7", "follow-up-rate": "83.3%"})
	mustContain(t, "gender F", r.Body, `name="contact_gender" value="f"`)

	// The htmx fragment: the filters and figures alone.
	fr := a.get(path+"?goal=", "HX-Request", "true")
	if fr.Code != 200 || strings.Contains(fr.Body, "<html") || !strings.HasPrefix(strings.TrimSpace(fr.Body), `<div id="indicator-body">`) {
		t.Errorf("fragment: %d %.80q", fr.Code, fr.Body)
	}
	wantFacts(t, "fragment", fr.Body, map[string]string{"follow-up-sd": "34.3"})

	// 422s with the message next to the field.
	for q, msg := range map[string]string{
		"?start_date=" + f.End + "&end_date=" + f.Start: "The end date must not be before the start date.",
		"?start_date=&end_date=" + f.End:                "Enter a valid date (YYYY-MM-DD).",
		"?goal=lots":                                    "Enter a number.",
		"?panel=" + sid(f.PanelB):                       "Choose one of your panels.", // outside supervisor A's panels
	} {
		r := a.get(path + q)
		if r.Code != 422 || !strings.Contains(r.Body, `<p class="field-error">`+msg+`</p>`) {
			t.Errorf("%s = %d, want 422 with %q", q, r.Code, msg)
		}
		if strings.Contains(r.Body, `id="baseline-value"`) {
			t.Errorf("%s: figures shown for invalid filters", q)
		}
	}
	if r := a.get("/indicators/read/999/"); r.Code != 404 {
		t.Errorf("unknown indicator = %d", r.Code)
	}
}

// TestIndicatorForm walks the create and edit form: the chained question
// picker (htmx fragment and the two-step form without JavaScript), only
// numeric questions offered, the 422s, saving, editing and deleting.
func TestIndicatorForm(t *testing.T) {
	f := newIndFixture(t)
	a := f.newClient(f.Org, f.SupA)
	r := a.get("/indicators/create/")
	if r.Code != 200 || !strings.Contains(r.Body, `hx-get="/indicators/create/?pick=baseline"`) {
		t.Fatalf("create form = %d", r.Code)
	}
	if got := optionsOf(r.Body, "baseline_question"); !sameStrings(got, []string{"Choose a poll first"}) {
		t.Errorf("questions before a poll is chosen = %q", got)
	}
	// htmx: choosing the follow-up poll swaps in its numeric questions only.
	fr := a.get("/indicators/create/?pick=follow_up&follow_up_poll="+sid(f.FUPoll), "HX-Request", "true")
	if fr.Code != 200 || strings.Contains(fr.Body, "<html") || !strings.HasPrefix(fr.Body, `<div id="follow_up-question-field">`) {
		t.Fatalf("chained fragment = %d %.80q", fr.Code, fr.Body)
	}
	if got := optionsOf(fr.Body, "follow_up_question"); !sameStrings(got, []string{"Choose a question", "Pupils now"}) {
		t.Errorf("follow-up questions = %q (Water is not numeric)", got)
	}
	// Without JavaScript: "Next" shows both polls' questions, saving nothing.
	form := url.Values{"name": {"Attendance"}, "start_date": {"2026-02-01"}, "end_date": {"2026-02-28"},
		"baseline_poll": {sid(f.BasePoll)}, "follow_up_poll": {sid(f.FUPoll)}, "step": {"questions"}}
	r = a.post("/indicators/create/", form)
	if r.Code != 200 || !sameStrings(optionsOf(r.Body, "baseline_question"), []string{"Choose a question", "Pupils before"}) ||
		!sameStrings(optionsOf(r.Body, "follow_up_question"), []string{"Choose a question", "Pupils now"}) {
		t.Fatalf("step 2 = %d: %q / %q", r.Code, optionsOf(r.Body, "baseline_question"), optionsOf(r.Body, "follow_up_question"))
	}
	if list, _ := f.DB.ListIndicators(f.Ctx, f.Org.ID, 0); len(list) != 1 {
		t.Errorf("Next saved an indicator")
	}
	// 422: end before start, a question of another poll, the multiple-choice question.
	bad := url.Values{"name": {"Attendance"}, "start_date": {"2026-02-28"}, "end_date": {"2026-02-01"},
		"baseline_poll": {sid(f.BasePoll)}, "baseline_question": {sid(f.QNow)}, "follow_up_poll": {sid(f.FUPoll)}, "follow_up_question": {sid(f.QWater)}}
	r = a.post("/indicators/create/", bad)
	if r.Code != 422 {
		t.Fatalf("invalid create = %d", r.Code)
	}
	mustContain(t, "invalid create", r.Body, `<p class="field-error">The end date must not be before the start date.</p>`,
		`<p class="field-error">Choose a numeric question of the chosen poll.</p>`)
	if n := strings.Count(r.Body, "Choose a numeric question of the chosen poll."); n != 2 {
		t.Errorf("%d question errors, want 2", n)
	}
	// The same through htmx: the form alone comes back, with the errors.
	r = a.post("/indicators/create/", bad, "HX-Request", "true")
	if r.Code != 422 || strings.Contains(r.Body, "<html") || !strings.HasPrefix(r.Body, `<section id="indicator-form"`) {
		t.Errorf("invalid create through htmx = %d %.60q", r.Code, r.Body)
	}
	// Saved: 303 to the new indicator.
	good := url.Values{"name": {"Attendance"}, "start_date": {"2026-02-01"}, "end_date": {"2026-02-28"}, "goal": {"90"},
		"baseline_poll": {sid(f.BasePoll)}, "baseline_question": {sid(f.QBefore)}, "follow_up_poll": {sid(f.FUPoll)}, "follow_up_question": {sid(f.QNow)}}
	r = a.post("/indicators/create/", good)
	if r.Code != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/indicators/read/") {
		t.Fatalf("create = %d %s", r.Code, r.Header.Get("Location"))
	}
	list, _ := f.DB.ListIndicators(f.Ctx, f.Org.ID, 0)
	if len(list) != 2 || list[1].Name != "Attendance" || list[1].Goal == nil || *list[1].Goal != 90 {
		t.Fatalf("indicators = %+v", list)
	}
	id := list[1].ID
	// The list names both with their questions.
	r = a.get("/indicators/")
	mustContain(t, "list", r.Body, "Pupils in school", "Attendance", "Baseline: Pupils before", "Follow up: Pupils now", `<span class="nw">`+enDay("2026-02-01")+`</span> – <span class="nw">`+enDay("2026-02-28")+`</span>`)
	mustNotContain(t, "list without spoof data", r.Body, "/indicators/data_spoof/", "Clear all spoof data")
	for _, p := range []string{"/indicators/", "/indicators/create/", "/indicators/update/" + sid(id) + "/"} {
		full, frag := a.get(p), a.get(p, "HX-Request", "true")
		if !strings.Contains(full.Body, "<html") || frag.Code != 200 || strings.Contains(frag.Body, "<html") || !strings.HasPrefix(frag.Body, "<section id=") {
			t.Errorf("%s: full page %v, fragment %d %.40q", p, strings.Contains(full.Body, "<html"), frag.Code, frag.Body)
		}
	}

	// Edit: the form holds the stored values; a change is saved.
	r = a.get("/indicators/update/" + sid(id) + "/")
	if r.Code != 200 || !strings.Contains(r.Body, `value="Attendance"`) || !strings.Contains(r.Body, `value="90"`) {
		t.Fatalf("edit form = %d", r.Code)
	}
	good.Set("name", "Attendance (Feb)")
	if r = a.post("/indicators/update/"+sid(id)+"/", good); r.Code != 303 {
		t.Fatalf("update = %d", r.Code)
	}
	good.Set("end_date", "bad")
	if r = a.post("/indicators/update/"+sid(id)+"/", good); r.Code != 422 || !strings.Contains(r.Body, "Enter a valid date (YYYY-MM-DD).") {
		t.Errorf("invalid update = %d", r.Code)
	}
	if ind, _ := f.DB.IndicatorByID(f.Ctx, f.Org.ID, id); ind.Name != "Attendance (Feb)" || ind.EndDate != "2026-02-28" {
		t.Errorf("after updates: %+v", ind)
	}
	// Delete needs the confirmation.
	if r = a.post("/indicators/delete/"+sid(id)+"/", nil); r.Code != 400 {
		t.Errorf("delete without confirm = %d", r.Code)
	}
	if r = a.post("/indicators/delete/"+sid(id)+"/", url.Values{"confirm": {"1"}}); r.Code != 303 {
		t.Errorf("delete = %d", r.Code)
	}
	if _, err := f.DB.IndicatorByID(f.Ctx, f.Org.ID, id); models.ErrorCode(err) != models.CodeNotFound {
		t.Errorf("deleted indicator still there: %v", err)
	}
	// Another org's host does not know the indicator.
	other := f.createOrg("org2")
	oa := f.createUser(other, "admin@org2.test", models.RoleAdmin, "")
	if r := f.newClient(other, oa).get("/indicators/read/" + sid(f.Ind.ID) + "/"); r.Code != 404 {
		t.Errorf("org 2 reading org 1's indicator = %d", r.Code)
	}
}

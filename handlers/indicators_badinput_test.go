package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// TestIndicatorBadInput tries every form and route of issue #7 with bad
// input — long strings, unknown ids, ids of another org, a question of
// another poll, reversed or invalid dates, a goal "abc", spoof ranges upside
// down or too large, malformed map ids, negative page numbers — as a
// supervisor: each is a 404 or a 422 with its message, never a 500, and
// nothing is saved.
func TestIndicatorBadInput(t *testing.T) {
	f := newIndFixture(t)
	f.setShowSpoof(t, true)
	a := f.newClient(f.Org, f.SupA)

	// Another org with its own poll, question and indicator.
	org2 := f.createOrg("org2")
	p2 := f.createPanels(org2, [2]string{"Elsewhere", ""})["Elsewhere"]
	if _, _, _, err := f.DB.SyncFlows(f.Ctx, org2.ID, []models.FlowInfo{{UUID: "flow-x", Name: "Other"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.TrackPolls(f.Ctx, org2.ID, []string{"Other"}); err != nil {
		t.Fatal(err)
	}
	otherPoll, err := f.DB.PollByRef(f.Ctx, org2.ID, "Other")
	if err != nil {
		t.Fatal(err)
	}
	num := []models.Rule{{Category: "Any", Test: "number"}}
	if _, _, _, err := f.DB.SyncQuestions(f.Ctx, otherPoll.ID, []models.QuestionDef{{UUID: "x-1", ResultKey: "x1", Label: "X1", Rules: num},
		{UUID: "x-2", ResultKey: "x2", Label: "X2", Rules: num}}); err != nil {
		t.Fatal(err)
	}
	qs, err := f.DB.PollQuestions(f.Ctx, otherPoll.ID)
	if err != nil || len(qs) != 2 {
		t.Fatalf("org2 questions: %v %v", qs, err)
	}
	ind2, err := f.DB.CreateIndicator(f.Ctx, org2, models.IndicatorInput{Name: "Theirs", StartDate: f.Start, EndDate: f.End,
		BaselinePollID: otherPoll.ID, BaselineQuestionID: qs[0].ID, FollowUpPollID: otherPoll.ID, FollowUpQuestionID: qs[1].ID})
	if err != nil {
		t.Fatal(err)
	}

	long := strings.Repeat("x", 5000)
	longQ := long[:2000] // a query string within the server's 4 KB header buffer
	ind := "/indicators/read/" + sid(f.Ind.ID) + "/"
	good := url.Values{"name": {"Fine"}, "start_date": {f.Start}, "end_date": {f.End}, "baseline_poll": {sid(f.BasePoll)},
		"baseline_question": {sid(f.QBefore)}, "follow_up_poll": {sid(f.FUPoll)}, "follow_up_question": {sid(f.QNow)}}
	with := func(base url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, v := range base {
			out[k] = append([]string(nil), v...)
		}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	spoof := url.Values{"contacts": {f.contact(t, "c-a1")}, "start_date": {f.Start}, "end_date": {f.Start},
		"baseline_question": {sid(f.QBefore)}, "follow_up_question": {sid(f.QNow)},
		"baseline_min": {"1"}, "baseline_max": {"5"}, "follow_up_min": {"1"}, "follow_up_max": {"5"}}
	today := f.Org.LocalDate(time.Now())

	for _, tc := range []struct {
		name   string
		method string
		path   string
		form   url.Values
		code   int
		msg    string // shown on the page (422) — "" for a 404
	}{
		// Indicator page and its filters.
		{"unknown indicator", "GET", "/indicators/read/999999/", nil, 404, ""},
		{"indicator id not a number", "GET", "/indicators/read/abc/", nil, 404, ""},
		{"negative indicator id", "GET", "/indicators/read/-3/", nil, 404, ""},
		{"huge indicator id", "GET", "/indicators/read/99999999999999999999999/", nil, 404, ""},
		{"another org's indicator", "GET", "/indicators/read/" + sid(ind2.ID) + "/", nil, 404, ""},
		{"goal abc", "GET", ind + "?goal=abc", nil, 422, "Enter a number."},
		{"goal overflow", "GET", ind + "?goal=1e999", nil, 422, "Enter a number."},
		{"goal NaN", "GET", ind + "?goal=NaN", nil, 422, "Enter a number."},
		{"dates reversed", "GET", ind + "?start_date=" + f.End + "&end_date=" + f.Start, nil, 422, "The end date must not be before the start date."},
		{"date invalid", "GET", ind + "?start_date=2026-02-30", nil, 422, "Enter a valid date (YYYY-MM-DD)."},
		{"date empty", "GET", ind + "?end_date=", nil, 422, "Enter a valid date (YYYY-MM-DD)."},
		{"date long", "GET", ind + "?start_date=" + longQ, nil, 422, "Enter a valid date (YYYY-MM-DD)."},
		{"another panel", "GET", ind + "?panel=" + sid(f.PanelB), nil, 422, "Choose one of your panels."},
		{"another org's panel", "GET", ind + "?panel=" + sid(p2), nil, 422, "Choose one of your panels."},
		{"panel not a number", "GET", ind + "?panel=abc", nil, 422, "Choose one of your panels."},
		{"negative panel", "GET", ind + "?panel=-1", nil, 422, "Choose one of your panels."},
		{"long field filter", "GET", ind + "?contact_gender=" + longQ, nil, 200, `id="follow-up-mean">0.0<`},

		// The form.
		{"create: long name", "POST", "/indicators/create/", with(good, "name", long), 422, "Use at most 255 characters."},
		{"create: long y-axis title", "POST", "/indicators/create/", with(good, "y_axis_title", long), 422, "Use at most 255 characters."},
		{"create: goal abc", "POST", "/indicators/create/", with(good, "goal", "abc"), 422, "Enter a number."},
		{"create: dates reversed", "POST", "/indicators/create/", with(good, "start_date", f.End, "end_date", f.Start), 422, "The end date must not be before the start date."},
		{"create: date invalid", "POST", "/indicators/create/", with(good, "start_date", "27/11/2026"), 422, "Enter a valid date (YYYY-MM-DD)."},
		{"create: question of another poll", "POST", "/indicators/create/", with(good, "baseline_question", sid(f.QNow), "follow_up_question", sid(f.QBefore)), 422, "Choose a numeric question of the chosen poll."},
		{"create: non-numeric question", "POST", "/indicators/create/", with(good, "follow_up_question", sid(f.QWater)), 422, "Choose a numeric question of the chosen poll."},
		{"create: same question twice", "POST", "/indicators/create/", with(good, "follow_up_poll", sid(f.BasePoll), "follow_up_question", sid(f.QBefore)), 422, "The follow-up question must differ from the baseline question."},
		{"create: another org's poll", "POST", "/indicators/create/", with(good, "baseline_poll", sid(otherPoll.ID), "baseline_question", sid(qs[0].ID)), 422, "Choose a poll with a numeric question."},
		{"create: another org's question", "POST", "/indicators/create/", with(good, "follow_up_question", sid(qs[1].ID)), 422, "Choose a numeric question of the chosen poll."},
		{"create: unknown poll", "POST", "/indicators/create/", with(good, "baseline_poll", "999999"), 422, "Choose a poll with a numeric question."},
		{"create: ids not numbers", "POST", "/indicators/create/", with(good, "baseline_poll", "x", "follow_up_question", "-7"), 422, "Choose a question."},
		{"create: nothing", "POST", "/indicators/create/", url.Values{}, 422, "Enter a name."},
		{"picker: another org's poll", "GET", "/indicators/create/?pick=baseline&baseline_poll=" + sid(otherPoll.ID), nil, 200, "Choose a poll first"},
		{"picker: long poll", "GET", "/indicators/create/?pick=follow_up&follow_up_poll=" + longQ, nil, 200, "Choose a poll first"},
		{"update: unknown", "POST", "/indicators/update/999999/", good, 404, ""},
		{"update: another org's", "POST", "/indicators/update/" + sid(ind2.ID) + "/", good, 404, ""},
		{"update: another org's form", "GET", "/indicators/update/" + sid(ind2.ID) + "/", nil, 404, ""},
		{"update: goal abc", "POST", "/indicators/update/" + sid(f.Ind.ID) + "/", with(good, "goal", "abc"), 422, "Enter a number."},
		{"delete: another org's", "POST", "/indicators/delete/" + sid(ind2.ID) + "/", url.Values{"confirm": {"1"}}, 404, ""},
		{"delete: unknown", "POST", "/indicators/delete/0/", url.Values{"confirm": {"1"}}, 404, ""},

		// Spoof data.
		{"spoof: min > max", "POST", "/indicators/data_spoof/", with(spoof, "baseline_min", "9", "baseline_max", "2"), 422, "The maximum must not be below the minimum."},
		{"spoof: not a number", "POST", "/indicators/data_spoof/", with(spoof, "follow_up_min", "abc"), 422, "Enter a whole number."},
		{"spoof: overflow", "POST", "/indicators/data_spoof/", with(spoof, "follow_up_max", "99999999999999999999999"), 422, "Enter a whole number."},
		{"spoof: huge range", "POST", "/indicators/data_spoof/", with(spoof, "baseline_min", "-9000000000000000000", "baseline_max", "9000000000000000000"), 422, "Enter a whole number from -1000000000 to 1000000000."},
		{"spoof: dates reversed", "POST", "/indicators/data_spoof/", with(spoof, "start_date", today, "end_date", f.Start), 422, "The end date must not be before the start date."},
		{"spoof: too many days", "POST", "/indicators/data_spoof/", with(spoof, "start_date", "2020-01-01", "end_date", "2026-01-01"), 422, "Spoof at most 366 days at once."},
		{"spoof: date invalid", "POST", "/indicators/data_spoof/", with(spoof, "start_date", long), 422, "Enter a valid date (YYYY-MM-DD)."},
		{"spoof: another org's question", "POST", "/indicators/data_spoof/", with(spoof, "baseline_question", sid(qs[0].ID)), 422, "Choose a numeric question."},
		{"spoof: another panel's contact", "POST", "/indicators/data_spoof/", with(spoof, "contacts", f.contact(t, "c-b1")), 422, "Choose contacts of your panels."},
		{"spoof: unknown contact", "POST", "/indicators/data_spoof/", with(spoof, "contacts", "abc"), 422, "Choose contacts of your panels."},
		{"spoof: no contact", "POST", "/indicators/data_spoof/", with(spoof, "contacts", ""), 422, "Choose contacts of your panels."},

		// Maps and pages.
		{"map: malformed area", "GET", "/poll/read/" + sid(f.FUPoll) + "/?view=map&map_area=x", nil, 200, ""},
		{"map: another org's poll", "GET", "/poll/read/" + sid(otherPoll.ID) + "/?view=map", nil, 404, ""},
		{"poll run map: unknown", "GET", "/pollrun/map/999999/", nil, 404, ""},
		{"poll run map: not a number", "GET", "/pollrun/map/x/", nil, 404, ""},
		{"participation: negative page", "GET", "/participation/?page=-4", nil, 200, ""},
		{"poll runs: negative page", "GET", "/pollrun/?page=-4", nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *result
			if tc.method == "GET" {
				r = a.get(tc.path)
			} else {
				r = a.post(tc.path, tc.form)
			}
			if r.Code != tc.code {
				t.Fatalf("%s %s = %d, want %d\n%.600s", tc.method, tc.path[:min(len(tc.path), 120)], r.Code, tc.code, r.Body)
			}
			if tc.msg != "" && !strings.Contains(r.Body, tc.msg) {
				t.Errorf("the page does not say %q\n%.2000s", tc.msg, r.Body)
			}
			if tc.code == 422 && !strings.Contains(r.Body, `class="field-error"`) {
				t.Errorf("422 without a message next to a field")
			}
		})
	}
	var n, spoofed int
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT (SELECT count(*) FROM indicators), (SELECT count(*) FROM pollruns WHERE pollrun_type = 's')`).Scan(&n, &spoofed); err != nil {
		t.Fatal(err)
	}
	if n != 2 || spoofed != 0 {
		t.Errorf("bad input saved something: %d indicators (want 2), %d spoofed poll runs", n, spoofed)
	}
}

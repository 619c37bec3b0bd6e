package handlers

import (
	"regexp"
	"strings"
	"testing"

	"tracpro/models"
)

var recentIndRe = regexp.MustCompile(`<li><a href="/indicators/read/\d+/">([^<]+)</a>`)

// TestHomeIndicators checks the home page's recent indicators (SPEC §3.6):
// the five latest by end date, featuring the first with follow-up answers in
// the viewer's panels; the 60 s live fragment leaves them out.
func TestHomeIndicators(t *testing.T) {
	f := newIndFixture(t)
	mk := func(name, end string, fuPoll, fu int64) {
		t.Helper()
		if _, err := f.DB.CreateIndicator(f.Ctx, f.Org, models.IndicatorInput{Name: name, StartDate: "2020-01-01", EndDate: end,
			BaselinePollID: f.BasePoll, BaselineQuestionID: f.QBefore, FollowUpPollID: fuPoll, FollowUpQuestionID: fu}); err != nil {
			t.Fatal(err)
		}
	}
	// The fixture's indicator ends today. Two end later but follow a numeric
	// question nobody answered; three end earlier.
	if _, _, _, err := f.DB.SyncQuestions(f.Ctx, f.BasePoll, []models.QuestionDef{
		{UUID: "n-before", ResultKey: "before", Label: "Pupils before", Rules: []models.Rule{{Category: "Any", Test: "number"}}},
		{UUID: "n-unused", ResultKey: "unused", Label: "Unused", Order: 1, Rules: []models.Rule{{Category: "Any", Test: "number"}}}}); err != nil {
		t.Fatal(err)
	}
	var unused int64
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM questions WHERE result_key = 'unused'`).Scan(&unused); err != nil {
		t.Fatal(err)
	}
	mk("Future, no answers", "2099-12-31", f.BasePoll, unused)
	mk("Later, no answers", "2098-12-31", f.BasePoll, unused)
	mk("Old 1", "2021-01-01", f.FUPoll, f.QNow)
	mk("Old 2", "2022-01-01", f.FUPoll, f.QNow)
	mk("Old 3", "2023-01-01", f.FUPoll, f.QNow)

	r := f.newClient(f.Org, f.SupA).get("/")
	var names []string
	for _, m := range recentIndRe.FindAllStringSubmatch(r.Body[strings.Index(r.Body, `id="recent-indicators"`):], -1) {
		names = append(names, m[1])
	}
	if want := []string{"Future, no answers", "Later, no answers", "Pupils in school", "Old 3", "Old 2"}; !sameStrings(names, want) {
		t.Errorf("recent indicators = %q, want %q", names, want)
	}
	// Featured: the first with follow-up answers, with its chart.
	i := strings.Index(r.Body, `<section id="home-indicators">`)
	if i < 0 || !strings.Contains(r.Body[i:], `<h2><a href="/indicators/read/`+sid(f.Ind.ID)+`/">Pupils in school</a></h2>`) ||
		!strings.Contains(r.Body[i:], "<td>60</td><td>126</td>") {
		t.Errorf("featured indicator missing or wrong")
	}
	// Supervisor B's panel has answers too: its own figures.
	if b := f.newClient(f.Org, f.SupB).get("/"); !strings.Contains(b.Body, "<td>1,000</td><td>500</td>") || strings.Contains(b.Body, "<td>60</td>") {
		t.Errorf("supervisor B's featured indicator is not scoped to Province B")
	}
	// The live fragment (refreshed every 60 s) carries no indicator.
	live := f.newClient(f.Org, f.SupA).get("/", "HX-Request", "true")
	if live.Code != 200 || strings.Contains(live.Body, "home-indicators") || strings.Contains(live.Body, "<svg") {
		t.Errorf("live fragment = %d, with indicators: %v", live.Code, strings.Contains(live.Body, "home-indicators"))
	}
}

// TestIndicatorPageWeight keeps the indicator page and home with a featured
// indicator within DESIGN.md §4's first-load budget, and their swaps small.
func TestIndicatorPageWeight(t *testing.T) {
	f := newIndFixture(t)
	a := f.newClient(f.Org, f.SupA)
	pageWeight(t, a, "indicator detail (supervisor)", "/indicators/read/"+sid(f.Ind.ID)+"/")
	pageWeight(t, a, "home with a featured indicator", "/")
	pageWeight(t, a, "indicators list", "/indicators/")
	pageWeight(t, a, "indicator form", "/indicators/update/"+sid(f.Ind.ID)+"/")
	for name, path := range map[string]string{
		"indicator filter swap": "/indicators/read/" + sid(f.Ind.ID) + "/?goal=&panel=" + sid(f.PanelA),
		"question picker swap":  "/indicators/create/?pick=follow_up&follow_up_poll=" + sid(f.FUPoll),
		"home live refresh":     "/",
	} {
		r := a.get(path, "HX-Request", "true")
		n := gzipSize(t, []byte(r.Body))
		t.Logf("%s: %d B raw / %d B gzip", name, len(r.Body), n)
		if r.Code != 200 || n > 4*1024 {
			t.Errorf("%s = %d, %d B gzipped (budget 4096 B)", name, r.Code, n)
		}
	}
}

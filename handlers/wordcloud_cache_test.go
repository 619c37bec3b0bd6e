package handlers

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

var cloudRow = regexp.MustCompile(`<tr><th scope="row">([^<]*)</th><td>([^<]*)</td></tr>`)

// cloudTable returns the words and counts of the word cloud captioned title
// in a page, from its data table ("" when there is no such cloud).
func cloudTable(body, title string) string {
	i := strings.Index(body, "<caption>"+title+"</caption>")
	if i < 0 {
		return ""
	}
	body = body[i:]
	body = body[:strings.Index(body, "</table>")]
	var out []string
	for _, m := range cloudRow.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1])+"="+m[2])
	}
	return strings.Join(out, " ")
}

// rawCloud is the word cloud's table worked out from the raw rows, without
// the cache: the same words, in the same order, as a page must show.
func rawCloud(t *testing.T, f *pollFixture, scope *models.Scope, prs []models.PollrunRef, fields map[string]string) string {
	t.Helper()
	vals, err := f.DB.AnswerValues(f.Ctx, f.QComment, prs, models.ChartFilter{Scope: scope, Fields: fields}, wordCloudAnswers)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range answerWords(vals) {
		out = append(out, w.Word+"="+itoa(w.Count))
	}
	return strings.Join(out, " ")
}

func itoa(n int) string { return sid(int64(n)) }

// TestWordCloudCacheNeverStale: word clouds (and the counters' figures, and
// the message form's recipient counts) are kept between requests while
// the database is unchanged, and every change that alters them — a new answer,
// an answer re-valued, a contact deactivated, a contact's field value changed
// under a field filter — shows on the next request, in the poll page and the
// poll run summary, for an administrator and a supervisor; each time the
// words equal those the raw rows give.
func TestWordCloudCacheNeverStale(t *testing.T) {
	f := newPollFixture(t)
	admin := f.newClient(f.Org, f.Admin)
	supA := f.newClient(f.Org, f.SupA)
	poll := "/poll/read/" + sid(f.Poll.ID) + "/?" + f.custom()
	summary := "/pollrun/read/" + sid(f.Runs[0]) + "/"
	prs, err := f.DB.ChartPollruns(f.Ctx, f.Poll.ID, models.ChartFilter{Scope: f.adminScope(t), From: f.Day1.AddDate(0, 0, -1)}, true)
	if err != nil || len(prs) != 2 {
		t.Fatalf("poll runs: %v %v", prs, err)
	}
	run1 := []models.PollrunRef{prs[0]}

	type view struct {
		name   string
		c      *client
		path   string
		scope  func(*testing.T) *models.Scope
		prs    []models.PollrunRef
		fields map[string]string
	}
	male := map[string]string{"gender": "m"}
	views := []view{
		{"poll, admin", admin, poll, f.adminScope, prs, nil},
		{"poll, supervisor A", supA, poll, f.supAScope, prs, nil},
		{"poll, admin, men", admin, poll + "&contact_gender=m", f.adminScope, prs, male},
		{"poll, supervisor A, men", supA, poll + "&contact_gender=m", f.supAScope, prs, male},
		{"summary, admin", admin, summary, f.adminScope, run1, nil},
		{"summary, supervisor A, men", supA, summary + "?contact_gender=m", f.supAScope, run1, male},
	}
	// uncached renders a page through an app on a new handle of the same
	// file: its cache is empty, every figure comes from the rows.
	uncached := func(c *client, path string) string {
		t.Helper()
		db, err := models.Open(f.DB.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		h := &Handlers{DB: db, Domain: testDomain}
		app, err := New(h)
		if err != nil {
			t.Fatal(err)
		}
		fresh := &client{e: &testEnv{t: t, Ctx: f.Ctx, DB: db, H: h, App: app}, Host: c.Host, Token: c.Token, CSRF: c.CSRF, SessionID: c.SessionID}
		return fresh.get(path).Body
	}
	pages := []struct {
		c    *client
		path string
	}{
		{admin, poll + "&numeric=sum"}, {admin, poll + "&numeric=average&split_regions=1"}, {supA, poll + "&contact_gender=m"},
		{admin, summary}, {supA, summary}, {admin, summary + "?contact_gender=m"},
		{admin, "/pollrun/participation/" + sid(f.Runs[0]) + "/"}, {supA, "/pollrun/participation/" + sid(f.Runs[1]) + "/?group-by=region"},
	}
	check := func(step string, want map[string]string) {
		t.Helper()
		// Whole pages (charts, tables, histograms, recipient counts): served
		// twice by the app, equal to a page computed without the cache.
		for _, pg := range pages {
			first, second := pg.c.get(pg.path).Body, pg.c.get(pg.path).Body
			if fresh := uncached(pg.c, pg.path); first != fresh || second != fresh {
				t.Errorf("%s, %s: the page differs from one computed without the cache", step, pg.path)
			}
		}
		for _, v := range views {
			for i := 0; i < 2; i++ { // the second request is served from the cache
				r := v.c.get(v.path)
				if r.Code != 200 {
					t.Fatalf("%s, %s: %d", step, v.name, r.Code)
				}
				got := cloudTable(r.Body, "Comment")
				if raw := rawCloud(t, f, v.scope(t), v.prs, v.fields); got != raw {
					t.Errorf("%s, %s (request %d): page words %q, raw rows %q", step, v.name, i+1, got, raw)
				}
				if w, ok := want[v.name]; ok && got != w {
					t.Errorf("%s, %s (request %d): words %q, want %q", step, v.name, i+1, got, w)
				}
			}
		}
	}
	for i := 0; i < 2; i++ {
		if r := supA.get(poll + "&numeric=sum"); !strings.Contains(r.Body, cell("15")) {
			t.Fatalf("fixture: the sum of poll run 1 is not 15 for Province A")
		}
	}
	participation := "/pollrun/participation/" + sid(f.Runs[0]) + "/"
	reach := radioCounts(supA.get(participation).Body)
	if again := radioCounts(supA.get(participation).Body); reach["A"] != 3 || reach["R"] != 3 || again["A"] != 3 {
		t.Fatalf("fixture: message recipients %v then %v, want 3 contacts, 3 respondents", reach, again)
	}
	check("fixture", map[string]string{
		"poll, supervisor A":      "broken=2 pump=2 a0=1 again=1 calc=1 cmd=1 school=1 water=1",
		"poll, supervisor A, men": "a0=1 again=1 broken=1 calc=1 cmd=1 pump=1",
		"summary, admin":          "broken=2 pump=2 again=1 panel=1 school=1 secret=1 water=1 words=1",
	})

	// A new answer in poll run 1 (Carol, Province A).
	ri, err := f.DB.NewRunIngester(f.Ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	at := f.Day1.Add(20 * time.Minute)
	comment := func(text string, modified time.Time) models.RunRow {
		return models.RunRow{UUID: "r1-a3-late", FlowUUID: "flow-1", ContactUUID: "c-a3", CreatedOn: at, ModifiedOn: modified, ExitType: "completed",
			Values: []models.RunValueRow{{Key: "comment", Node: "n-comment", Value: text, Time: modified}}}
	}
	if _, err := ri.ApplyPage(f.Ctx, []models.RunRow{comment("Generator generator fuel", at)}, nil); err != nil {
		t.Fatal(err)
	}
	// Carol's later run of the same day replaces her first (pupils 6): the
	// numbers read from the counters, cached before, change too.
	if r := supA.get(poll + "&numeric=sum"); !strings.Contains(r.Body, cell("9")) || strings.Contains(r.Body, cell("15")) {
		t.Errorf("a new answer: the sum of poll run 1 is not 9.0 (4 + 5) for Province A")
	}
	check("a new answer", map[string]string{
		"poll, supervisor A": "broken=2 generator=2 pump=2 a0=1 again=1 calc=1 cmd=1 fuel=1 school=1 water=1",
		"summary, admin":     "broken=2 generator=2 pump=2 again=1 fuel=1 panel=1 school=1 secret=1 water=1 words=1",
	})

	// The same answer re-valued by a later sync of its run.
	if _, err := ri.ApplyPage(f.Ctx, []models.RunRow{comment("Solar panel", at.Add(time.Minute))}, nil); err != nil {
		t.Fatal(err)
	}
	check("an answer re-valued", map[string]string{
		"poll, supervisor A": "broken=2 pump=2 a0=1 again=1 calc=1 cmd=1 panel=1 school=1 solar=1 water=1",
	})

	// Bob (Province A) is now a woman: he leaves the "men" clouds.
	now := time.Now()
	gender := func(s string) map[string]*string { return map[string]*string{"gender": cat2(s)} }
	if _, err := f.DB.ApplyContacts(f.Ctx, f.Org, []models.ContactRow{{UUID: "c-a2", Name: "@Bob", URNs: []string{"tel:+250780000002"},
		Groups: []string{"g-a", "g-teachers"}, Fields: gender("F"), Language: "fra", Active: true, ModifiedOn: now}}, nil); err != nil {
		t.Fatal(err)
	}
	check("a field value changed", map[string]string{"poll, supervisor A, men": ""})

	// Alice deactivated: her answers no longer count.
	if _, err := f.DB.ApplyContacts(f.Ctx, f.Org, []models.ContactRow{{UUID: "c-a1", Name: "Alice", URNs: []string{"tel:+250780000001"},
		Groups: []string{"g-a", "g-teachers", "g-heads"}, Fields: gender("F"), Language: "eng", Active: false, ModifiedOn: now.Add(time.Second)}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := radioCounts(supA.get(participation).Body); got["A"] != 2 || got["R"] != 2 || got["N"] != 0 {
		t.Errorf("a contact deactivated: message recipients %v, want 2 contacts, 2 respondents", got)
	}
	check("a contact deactivated", map[string]string{
		"poll, supervisor A": "a0=1 again=1 broken=1 calc=1 cmd=1 panel=1 pump=1 solar=1",
	})
}

// adminScope is the administrator's "All panels" scope of the fixture.
func (f *pollFixture) adminScope(t *testing.T) *models.Scope {
	t.Helper()
	s, err := f.DB.ResolveScope(f.Ctx, f.Org.ID, f.Admin.ID, true, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// supAScope is supervisor A's scope (Province A).
func (f *pollFixture) supAScope(t *testing.T) *models.Scope {
	t.Helper()
	s, err := f.DB.ResolveScope(f.Ctx, f.Org.ID, f.SupA.ID, false, f.PanelA, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

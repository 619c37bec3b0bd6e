package handlers

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserEveryPage opens every HTML page of the route table — each GET
// route of the authorization matrix — on a 360×640 phone, as every role the
// matrix lets in (signed out, supervisor, administrator; superuser on the
// pages an administrator may not open), in
// English (left to right) and in Persian (right to left), over the matrix
// fixture with data (fillForBrowser), and runs the phone checks on each
// (browser.phoneProblems). A new route is checked without a test of its own.
// Every problem of every page is reported, with the page's screenshot in
// screenshots/. TRACPRO_PAGES=<regexp> checks only the routes it matches, and
// TRACPRO_PAGE_SHOTS=1 keeps a screenshot of every page (for review).
// Mandatory when TRACPRO_E2E=1.
func TestBrowserEveryPage(t *testing.T) {
	f := newMatrixFixture(t)
	fillForBrowser(f)
	b := openBrowser(t, f.App, browserConfig{Timeout: 10 * time.Minute, Host: testDomain})
	b.phone()
	b.withAxe()
	port := b.base[strings.LastIndexByte(b.base, ':'):]
	origin := "http://" + hostOf(f.Org1) + port
	roles := []int{0, 1, 3, 5} // signed out, supervisor A, administrator, superuser
	only := regexp.MustCompile(os.Getenv("TRACPRO_PAGES"))
	allShots := os.Getenv("TRACPRO_PAGE_SHOTS") == "1"
	start, pages := time.Now(), 0
	var checkTime time.Duration
	for _, lang := range []string{"en", "fa"} {
		// The org's language: every persona's pages are in it (no user or
		// session chose another).
		if _, err := f.DB.ExecContext(f.Ctx, `UPDATE orgs SET language = ? WHERE id = ?`, lang, f.Org1.ID); err != nil {
			t.Fatal(err)
		}
		for _, k := range appRoutes(f.testEnv) {
			method, route, _ := strings.Cut(k, " ")
			a, ok := matrix[k]
			if method != "GET" || !ok || !only.MatchString(route) {
				continue
			}
			// Set up again for each language: a page may be single-use (an enrolment link).
			path, err := f.path(route, a)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			for _, i := range roles {
				// A superuser sees an org's pages as its administrators do,
				// plus two menu links: they are checked on the pages only a
				// superuser opens (a third fewer page loads).
				if a.expected()[i] != 200 || i == 5 && a.Admin == 200 {
					continue
				}
				where := fmt.Sprintf("%s as %s (%s)", path, personas[i], lang)
				b.setCookie(origin, sessionCookie, f.personaClient(i).Token)
				resp, err := chromedp.Run(b.tab, chromedp.NavigateResponse(origin+path))
				if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				if resp.Status != 200 {
					t.Errorf("%s: status %d", where, resp.Status)
					continue
				}
				if !strings.HasPrefix(resp.MimeType, "text/html") {
					continue // an export
				}
				pages++
				if dir := b.eval(`document.documentElement.dir`); dir != map[string]string{"en": "ltr", "fa": "rtl"}[lang] {
					t.Errorf("%s: dir=%q", where, dir)
				}
				t0 := time.Now()
				problems := b.phoneProblems()
				checkTime += time.Since(t0)
				if len(problems) > 0 {
					t.Errorf("%s:\n%s", where, strings.Join(problems, "\n"))
				}
				if len(problems) > 0 || allShots {
					b.shot(pageShotName(lang, i, route))
				}
			}
		}
	}
	t.Logf("%d pages checked in %s (%s in the checks)", pages, time.Since(start).Round(time.Millisecond), checkTime.Round(time.Millisecond))
	if pages < 120 && only.String() == "" {
		t.Errorf("checked %d pages; the route table has more", pages)
	}
}

// pageShotName is the screenshot file of a page of TestBrowserEveryPage.
func pageShotName(lang string, persona int, route string) string {
	r := strings.NewReplacer("/", "_", ":", "")
	return fmt.Sprintf("pages-%s-%s%s.png", lang, strings.ReplaceAll(personas[persona], " ", "-"), r.Replace(strings.TrimSuffix(route, "/")))
}

// setCookie sets a cookie of origin in the browser (HttpOnly, as the app
// sets the session cookie).
func (b *browser) setCookie(origin, name, value string) {
	b.t.Helper()
	b.run("cookie "+name, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		httpOnly := true
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: origin, HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax})
		return err
	}))
}

// fillForBrowser gives the matrix fixture's org 1 what its pages show when
// in use: two cohorts, a data field, 24 contacts with long names spread over
// the four districts, the matrix poll's three questions (numeric, multiple
// choice, open) and four weekly poll runs of answers over the last 30 days,
// stored through the run ingester as a pull stores them, and an inbox message.
func fillForBrowser(f *matrixFixture) {
	ctx, org := f.Ctx, f.Org1
	var groups []models.RapidProGroup
	for _, n := range []string{"Country", "Province A", "Province B", "District A1", "District A2", "District B1", "District B2", "Head Teachers", "Grade 5 Teachers"} {
		groups = append(groups, models.RapidProGroup{UUID: "g-org1-" + n, Name: n})
	}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	_, _, err := f.DB.SyncGroups(ctx, org.ID, groups)
	must(err)
	cohorts, err := f.DB.ResolveGroups(ctx, org.ID, []string{"Head Teachers", "Grade 5 Teachers"})
	must(err)
	_, err = f.DB.TrackGroups(ctx, org.ID, "cohorts", cohorts)
	must(err)
	_, _, _, err = f.DB.SyncFields(ctx, org.ID, []models.DataField{{Key: "school", Label: "School", ValueType: "T"}})
	must(err)
	_, err = f.DB.ExecContext(ctx, `UPDATE data_fields SET show_on_tracpro = 1 WHERE org_id = ?`, org.ID)
	must(err)

	first := []string{"Marie-Claire", "Jean-Baptiste", "Immaculée", "Théoneste", "Espérance", "Emmanuel"}
	last := []string{"Uwimana Nyirahabimana", "Habyarimana", "Mukamana", "Niyonzima"}
	districts := []string{"District A1", "District A2", "District B1", "District B2"}
	var contacts []models.ContactRow
	for i := range 24 {
		school := fmt.Sprintf("École primaire de Kigali %d", i)
		contacts = append(contacts, models.ContactRow{UUID: browserUUID(1, i), Name: first[i%len(first)] + " " + last[i%len(last)],
			Language: "kin", URNs: []string{fmt.Sprintf("tel:+2507881%05d", i)}, Active: true, ModifiedOn: time.Now(),
			Groups: []string{"g-org1-" + districts[i%len(districts)], "g-org1-" + []string{"Head Teachers", "Grade 5 Teachers"}[i%2]},
			Fields: map[string]*string{"school": &school}})
	}
	_, err = f.DB.ApplyContacts(ctx, org, contacts, nil)
	must(err)

	poll := f.matrixPoll()
	num := []models.Rule{{Category: "0-10", Test: "between", Args: []string{"0", "10"}}, {Category: "11-50", Test: "between", Args: []string{"11", "50"}}}
	choice := []models.Rule{{Category: "Good", Test: "has_any_word", Args: []string{"good"}}, {Category: "Bad", Test: "has_any_word", Args: []string{"bad"}}}
	_, _, _, err = f.DB.SyncQuestions(ctx, poll, []models.QuestionDef{
		{UUID: "node-n", ResultKey: "pupils", Label: "How many pupils came today?", Rules: num, Type: models.QuestionNumeric},
		{UUID: "node-c", ResultKey: "books", Label: "Did the books arrive in good condition?", Order: 1, Rules: choice, Type: models.QuestionChoice},
		{UUID: "node-o", ResultKey: "comment", Label: "Anything else?", Order: 2, Type: models.QuestionOpen}})
	must(err)
	ri, err := f.DB.NewRunIngester(ctx, org)
	must(err)
	comments := []string{"The roof of the classroom leaks when it rains", "Books arrived late", "Teachers need training on the new curriculum", "Water point is broken"}
	var runs []models.RunRow
	for w := range 4 {
		day := time.Now().AddDate(0, 0, -7*w-1)
		for i, c := range contacts {
			if (i+w)%5 == 0 {
				continue // did not answer that week
			}
			cat := func(s string) *string { return &s }
			vals := []models.RunValueRow{{Key: "pupils", Node: "node-n", Value: fmt.Sprint(3 + (i*7+w*5)%40), Category: cat(map[bool]string{true: "0-10", false: "11-50"}[(3+(i*7+w*5)%40) <= 10]), Time: day}}
			exit := "completed"
			if (i+w)%4 == 0 {
				exit = "" // partial: stopped after the first question
			} else {
				good := (i+w)%3 != 0
				vals = append(vals, models.RunValueRow{Key: "books", Node: "node-c", Value: map[bool]string{true: "good", false: "bad"}[good], Category: cat(map[bool]string{true: "Good", false: "Bad"}[good]), Time: day},
					models.RunValueRow{Key: "comment", Node: "node-o", Value: comments[(i+w)%len(comments)], Time: day})
			}
			runs = append(runs, models.RunRow{UUID: browserUUID(2, w*100+i), FlowUUID: "flow-m", ContactUUID: c.UUID, ExitType: exit,
				Values: vals, CreatedOn: day, ModifiedOn: day})
		}
	}
	_, err = ri.ApplyPage(ctx, runs, nil)
	must(err)
}

// browserUUID is a canonical UUID made of a kind and a number.
func browserUUID(kind, n int) string {
	return fmt.Sprintf("00000000-0000-4000-%04d-%012d", 8000+kind, n)
}

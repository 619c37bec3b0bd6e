package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"tracpro/models"
)

// pageBudget is DESIGN.md §4's first-load budget: HTML + CSS, gzipped.
const pageBudget = 14 * 1024

var (
	attrRe       = regexp.MustCompile(`(?i)\s(src|href|action|formaction|poster|srcset|data|hx-get|hx-post)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))`)
	stylesheetRe = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)"`)
	cssURLRe     = regexp.MustCompile(`(?i)url\(|@import`)
)

// foreignRefs returns the attribute values of body that leave the origin.
func foreignRefs(body string) []string {
	var out []string
	for _, m := range attrRe.FindAllStringSubmatch(body, -1) {
		v := m[3] + m[4] + m[5]
		for _, part := range strings.Split(v, ",") { // srcset lists
			part = strings.TrimSpace(strings.Fields(part + " x")[0])
			u, err := url.Parse(part)
			if err != nil || u.Host != "" || u.Scheme != "" && u.Scheme != "data" || strings.HasPrefix(part, "//") {
				out = append(out, m[1]+"="+part)
			}
		}
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		out = append(out, "an absolute URL in the page")
	}
	return out
}

// pageWeight measures a page: gzipped HTML plus its stylesheet, fetched at
// its hashed URL; and checks that nothing is fetched from another origin.
func pageWeight(t *testing.T, c *client, name, path string) {
	t.Helper()
	r := c.get(path)
	if r.Code != 200 || !strings.Contains(r.Body, "<html") {
		t.Fatalf("%s: %s = %d", name, path, r.Code)
	}
	weigh(t, c, name, r, true)
}

// weigh is pageWeight for a page already fetched; origins = false skips the
// other-origins check (pages whose content is absolute URLs).
func weigh(t *testing.T, c *client, name string, r *result, origins bool) {
	t.Helper()
	m := stylesheetRe.FindStringSubmatch(r.Body)
	if m == nil || !strings.HasPrefix(m[1], "/static/app.") {
		t.Fatalf("%s: no hashed stylesheet link", name)
	}
	css := c.get(m[1])
	if css.Code != 200 || !strings.Contains(css.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("%s: stylesheet %s = %d %q", name, m[1], css.Code, css.Header.Get("Cache-Control"))
	}
	if cssURLRe.MatchString(css.Body) {
		t.Errorf("the stylesheet loads other files (url()/@import)")
	}
	html, sheet := gzipSize(t, []byte(r.Body)), gzipSize(t, []byte(css.Body))
	t.Logf("%s: HTML %d B raw / %d B gzip; CSS %d B raw / %d B gzip; total %d B gzip (budget %d B)",
		name, len(r.Body), html, len(css.Body), sheet, html+sheet, pageBudget)
	if html+sheet > pageBudget {
		t.Errorf("%s weighs %d B gzipped (HTML %d + CSS %d), over the %d B budget", name, html+sheet, html, sheet, pageBudget)
	}
	if bad := foreignRefs(r.Body); origins && len(bad) > 0 {
		t.Errorf("%s refers to other origins: %q", name, bad)
	}
}

func TestPageWeight(t *testing.T) {
	f := newMatrixFixture(t)
	pageWeight(t, f.noSessionClient(f.Org1), "sign-in page", "/users/login/")
	pageWeight(t, f.newClient(f.Org1, f.SupA), "home (supervisor)", "/")
	pageWeight(t, f.newClient(f.Org1, f.Admin), "supervisors (administrator)", "/user/")
}

func TestForeignRefsDetects(t *testing.T) {
	for _, bad := range []string{`<img src="https://cdn.example/x.png">`, `<a href="//evil.example/">`, `<form action=http://x.example/>`} {
		if len(foreignRefs(bad)) == 0 {
			t.Errorf("not caught: %s", bad)
		}
	}
	if got := foreignRefs(`<a href="/user/">x</a><img src="data:image/png;base64,AA"><link href="/static/app.1.css">`); len(got) != 0 {
		t.Errorf("false alarm: %q", got)
	}
}

// swapBudget is the issue #4 budget of an htmx swap (fragment), gzipped.
const swapBudget = 4 * 1024

// TestSwapWeightsOnBenchShape asserts the gzip size of every htmx swap that
// BenchmarkDashboardPages measures, on a small org of the benchmark's shape
// (models.GenerateBenchOrg: 200 panels, 4 polls of a numeric, a multiple
// choice and an open question, 50 weekly poll runs; fewer contacts): an
// administrator on "All panels" and a supervisor of a province with 21
// sub-panels. Chart sizes depend on the poll runs, panels and categories, not
// on the number of responses, so the bytes match the benchmark's within a
// few per cent.
func TestSwapWeightsOnBenchShape(t *testing.T) {
	e := newTestEnv(t)
	bo, err := e.DB.GenerateBenchOrg(e.Ctx, models.BenchOrgConfig{Contacts: 3000, PerPollrun: 400})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.RecountOrg(e.Ctx, bo.Org.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.ExecContext(e.Ctx, `UPDATE orgs SET admin_passkeys = 0 WHERE id = ?`, bo.Org.ID); err != nil {
		t.Fatal(err)
	}
	org, err := e.DB.OrgByID(e.Ctx, bo.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var runs []int64
	rows, err := e.DB.Query(`SELECT id FROM pollruns WHERE org_id = ? AND pollrun_type = 'u' ORDER BY conducted_on DESC LIMIT 12`, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		runs = append(runs, id)
	}
	rows.Close()
	var paths []string
	for i, poll := range bo.Polls {
		p, run := sid(poll), sid(runs[i])
		paths = append(paths, "/",
			"/poll/read/"+p+"/?date_range=12-months",
			"/poll/read/"+p+"/?date_range=12-months&numeric=average&split_regions=1",
			"/poll/read/"+p+"/?date_range=12-months&contact_"+bo.FieldKey+"=3",
			"/pollrun/read/"+run+"/",
			"/pollrun/participation/"+run+"/",
			"/pollrun/participation/"+run+"/?group-by=region",
			"/response/by_pollrun/"+run+"/")
	}
	admin := e.createUser(org, "admin@bench.example", models.RoleAdmin, "a long password 1")
	sup := e.createUser(org, "sup@bench.example", models.RoleSupervisor, "a long password 2", bo.Province)
	for _, who := range []struct {
		name string
		c    *client
	}{{"admin", e.newClient(org, admin)}, {"province", e.newClient(org, sup)}} {
		for _, p := range paths {
			// The bytes as sent: the app's own gzip level, as the benchmark counts them.
			r := who.c.get(p, "HX-Request", "true", "Accept-Encoding", "gzip")
			n := len(r.Body)
			zr, err := gzip.NewReader(strings.NewReader(r.Body))
			if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("%s %s: %d, not gzipped (%v)", who.name, p, r.Code, err)
			}
			body, err := io.ReadAll(zr)
			if err != nil || r.Code != 200 || bytes.Contains(body, []byte("<html")) || !utf8.Valid(body) || !bytes.Contains(body, []byte("</")) {
				t.Fatalf("%s %s: %d %.200s (%v)", who.name, p, r.Code, body, err)
			}
			if n > swapBudget {
				t.Errorf("%s swap %s: %d B gzip (%d raw), over the %d B budget", who.name, p, n, len(body), swapBudget)
			} else if testing.Verbose() {
				t.Logf("%s swap %s: %d B gzip", who.name, p, n)
			}
		}
	}
}

// TestEveryPageWithinBudget measures the first load of every HTML page of the
// route table, as the first persona of the authorization matrix that may open
// it (administrator, supervisor A, superuser, or the signed-out visitor), so
// a new page is held to the budget without a test of its own. The fixture's
// org is small: the area tests measure full pages of data.
func TestEveryPageWithinBudget(t *testing.T) {
	f := newMatrixFixture(t)
	measured := 0
	f.eachGetPage(t, func(k string, a Access, path string) {
		route := strings.TrimPrefix(k, "GET ")
		for _, i := range []int{3, 1, 5, 0} { // administrator, supervisor A, superuser, anonymous
			if a.expected()[i] != 200 {
				continue
			}
			c := f.personaClient(i)
			r := c.get(path)
			if r.Code == 200 && strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") && strings.Contains(r.Body, "<html") {
				// Site management shows orgs' addresses and RapidPro URLs.
				weigh(t, c, k+" as "+personas[i], r, !strings.HasPrefix(route, "/manage/org/"))
				measured++
			}
			break
		}
	})
	if measured < 40 {
		t.Errorf("measured %d pages; the route table has more", measured)
	}
}

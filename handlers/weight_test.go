package handlers

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
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
	if bad := foreignRefs(r.Body); len(bad) > 0 {
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

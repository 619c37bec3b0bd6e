package handlers

import (
	"strings"
	"testing"
)

func TestPollrunListScope(t *testing.T) {
	f := newPollFixture(t)
	a := f.newClient(f.Org, f.SupA).get("/pollrun/")
	// Province A: run 2 has Alice, Bob (complete) and Carol (empty); run 1
	// three complete responses. Province B's regional run is not listed.
	mustContain(t, "supervisor A", a.Body, `<a href="/pollrun/read/`+sid(f.Runs[1])+`/">`, "<td>3</td>\n<td>2 (0)</td>", "<td>3</td>\n<td>3 (0)</td>")
	mustNotContain(t, "supervisor A", a.Body, `/pollrun/read/`+sid(f.Runs[2])+`/`)
	b := f.newClient(f.Org, f.SupB).get("/pollrun/by_poll/" + sid(f.Poll.ID) + "/")
	mustContain(t, "supervisor B", b.Body, `/pollrun/read/`+sid(f.Runs[2])+`/`, "<td>Province B</td>\n<td>1</td>\n<td>1 (0)</td>")
	frag := f.newClient(f.Org, f.SupA).get("/pollrun/", "HX-Request", "true")
	if strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `id="pollruns"`) {
		t.Fatalf("list fragment: %.200s", frag.Body)
	}
	t.Logf("poll run list fragment: %d B gzip", gzipSize(t, []byte(frag.Body)))
	if r := f.newClient(f.Org, f.SupA).get("/pollrun/by_poll/999/"); r.Code != 404 {
		t.Errorf("unknown poll: %d", r.Code)
	}
}

func TestPollrunSummaryFigures(t *testing.T) {
	f := newPollFixture(t)
	p := "/pollrun/read/" + sid(f.Runs[0]) + "/"
	a := f.newClient(f.Org, f.SupA)
	// Province A: 4, 5, 6 → mean 5.0, population SD 0.8, all answered; whole
	// numbers, so whole-number bins.
	r := a.get(p)
	mustContain(t, "summary A", r.Body, "<dt>Mean</dt><dd>5.0</dd><dt>Standard deviation</dt><dd>0.8</dd><dt>Response rate</dt><dd>100.0%</dd>",
		"<title>4–5: 2</title>", "<title>6: 1</title>", "<title>No: 1</title>", "<title>Yes: 2</title>", ">pump<")
	mustNotContain(t, "summary A", r.Body, ">secret<", "100-")
	// All panels: 4, 5, 6, 100 → mean 28.8, SD 41.1.
	all := f.newClient(f.Org, f.Admin).get(p)
	mustContain(t, "summary all", all.Body, "<dt>Mean</dt><dd>28.8</dd><dt>Standard deviation</dt><dd>41.1</dd>", "<title>No: 2</title>")
	// A contact-field filter (men of Province A: Bob, 5).
	men := a.get(p + "?contact_gender=m")
	mustContain(t, "summary men", men.Body, "<dt>Mean</dt><dd>5.0</dd><dt>Standard deviation</dt><dd>0.0</dd>", `value="m"`,
		`href="/pollrun/participation/`+sid(f.Runs[0])+`/?contact_gender=m"`)
	// Tabs: the fragment carries the tab's id, not the page.
	frag := a.get(p, "HX-Request", "true")
	if strings.Contains(frag.Body, "<html") || strings.Contains(frag.Body, "<h1>") || !strings.HasPrefix(frag.Body, `<div id="pollrun-tab">`) {
		t.Fatalf("summary fragment: %.200s", frag.Body)
	}
	size := gzipSize(t, []byte(frag.Body))
	t.Logf("poll run summary fragment: %d B gzip", size)
	if size > 4096 {
		t.Errorf("summary fragment %d B gzip, over 4 KB", size)
	}
	pageWeight(t, a, "poll run detail (supervisor)", p)
}

func TestPollrunParticipation(t *testing.T) {
	f := newPollFixture(t)
	a := f.newClient(f.Org, f.SupA)
	p := "/pollrun/participation/" + sid(f.Runs[1]) + "/"
	// Run 2 in Province A: Alice (Teachers, Heads) complete, Bob (Teachers)
	// complete, Carol (Heads) empty. Alice counts in both cohorts, once in
	// the total.
	r := a.get(p)
	mustContain(t, "by cohort", r.Body,
		`<th scope="row">Heads</th><td>50%</td><td>1</td><td>0</td><td>1</td>`,
		`<th scope="row">Teachers</th><td>100%</td><td>2</td><td>0</td><td>0</td>`,
		`<th scope="row">Total</th><td>66%</td><td>2</td><td>0</td><td>1</td>`)
	byPanel := a.get(p + "?group-by=region")
	mustContain(t, "by panel", byPanel.Body, `<th scope="row">Province A</th><td>66%</td><td>2</td><td>0</td><td>1</td>`)
	mustNotContain(t, "by panel", byPanel.Body, "Province B</th>")
	all := f.newClient(f.Org, f.Admin).get(p + "?group-by=region")
	mustContain(t, "by panel (all)", all.Body, `<th scope="row">Province B</th><td>100%</td><td>1</td><td>0</td><td>0</td>`,
		`<th scope="row">Total</th><td>75%</td><td>3</td><td>0</td><td>1</td>`)
	frag := a.get(p+"?group-by=region", "HX-Request", "true")
	if strings.Contains(frag.Body, "<html") || !strings.HasPrefix(frag.Body, `<div id="pollrun-tab">`) {
		t.Fatalf("participation fragment: %.200s", frag.Body)
	}
	t.Logf("participation fragment: %d B gzip", gzipSize(t, []byte(frag.Body)))
}

func TestPollrunOutOfScope(t *testing.T) {
	f := newPollFixture(t)
	a := f.newClient(f.Org, f.SupA)
	b := f.newClient(f.Org, f.SupB)
	regional := sid(f.Runs[2])
	for _, p := range []string{"/pollrun/read/" + regional + "/", "/pollrun/participation/" + regional + "/",
		"/response/by_pollrun/" + regional + "/", "/response/by_pollrun/" + regional + "/?_format=csv", "/pollrun/read/99999/", "/pollrun/read/x/"} {
		if r := a.get(p); r.Code != 404 {
			t.Errorf("supervisor A %s: %d, want 404", p, r.Code)
		}
		if r := a.get(p, "HX-Request", "true"); r.Code != 404 {
			t.Errorf("supervisor A %s (htmx): %d, want 404", p, r.Code)
		}
	}
	if r := b.get("/pollrun/read/" + regional + "/"); r.Code != 200 || !strings.Contains(r.Body, "Panel: Province B") {
		t.Errorf("supervisor B on their regional run: %d", r.Code)
	}
}

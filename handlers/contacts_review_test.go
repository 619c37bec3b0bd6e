package handlers

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tracpro/rapidpro/fake"
)

var currentTabRe = regexp.MustCompile(`<a href="([^"]+)"[^>]*aria-current="page"`)

// TestContactTabs: the contact page's three tabs (Summary, Responses,
// Messages) are pages of their own in both representations; each marks
// itself as the current tab on the server (no script needed, the CSP allows
// none inline), the htmx swap replaces the whole #contact-page and pushes
// the tab's URL, and a contact of another panel is not found on any tab.
func TestContactTabs(t *testing.T) {
	w := newContactWorld(t)
	var id int64
	var name string
	if err := w.DB.QueryRow(`SELECT id, name FROM contacts WHERE region_id = ? AND is_active = 1 AND name <> '' ORDER BY id LIMIT 1`, w.panelA).Scan(&id, &name); err != nil {
		t.Fatal(err)
	}
	sid := strconv.FormatInt(id, 10)
	tabs := []struct{ url, inner string }{
		{"/contact/read/" + sid + "/", `id="contact-tab"`},
		{"/response/by_contact/" + sid + "/", `id="contact-responses"`},
		{"/message/by_contact/" + sid + "/", `id="contact-messages"`},
	}
	for _, tab := range tabs {
		for _, frag := range []bool{false, true} {
			var r *result
			if frag {
				r = w.supA.get(tab.url, "HX-Request", "true")
			} else {
				r = w.supA.get(tab.url)
			}
			if r.Code != 200 || strings.Contains(r.Body, "<html") == frag || !strings.Contains(r.Body, tab.inner) ||
				!strings.Contains(r.Body, "<h1>"+htmlText(name)+"</h1>") {
				t.Fatalf("%s (fragment %v): %d", tab.url, frag, r.Code)
			}
			if frag && !strings.HasPrefix(r.Body, `<section id="contact-page">`) {
				t.Errorf("%s: the fragment is not the whole contact page section: %.80s", tab.url, r.Body)
			}
			nav, _, _ := strings.Cut(r.Body[strings.Index(r.Body, `<nav class="tabs"`)+1:], "</nav>")
			cur := currentTabRe.FindAllStringSubmatch(nav, -1)
			if len(cur) != 1 || cur[0][1] != tab.url {
				t.Errorf("%s (fragment %v): current tabs %v", tab.url, frag, cur)
			}
			for _, other := range tabs {
				if !strings.Contains(r.Body, `hx-get="`+other.url+`" hx-target="#contact-page" hx-push-url="true"`) {
					t.Errorf("%s: the tab %s does not swap the contact page", tab.url, other.url)
				}
			}
		}
		if r := w.supB.get(tab.url); r.Code != 404 {
			t.Errorf("supervisor B on %s: %d, want 404", tab.url, r.Code)
		}
	}
}

// TestContactSearchByLocalNumber: in a Rwandan org, a contact created with
// the local number 0788 555 001 (stored as tel:+250788555001) is found by
// searching the number as typed locally, with or without spaces, as well as
// by its international form — and not by supervisor B.
func TestContactSearchByLocalNumber(t *testing.T) {
	w := newContactWorld(t)
	if _, err := w.DB.Exec(`UPDATE orgs SET timezone = 'Africa/Kigali' WHERE id = ?`, w.org.ID); err != nil {
		t.Fatal(err)
	}
	if r := w.supA.post("/contact/create/", w.form("urn", "0788 555 001", "name", "Local Number Person")); r.Code != 303 {
		t.Fatalf("create with a local number: %d", r.Code)
	}
	if n := w.count(`SELECT count(*) FROM contacts WHERE urn = 'tel:+250788555001' AND name = 'Local Number Person'`); n != 1 {
		t.Fatalf("%d contacts stored with the E.164 number", n)
	}
	for _, q := range []string{"0788 555 001", "0788555001", "+250788555001", "788555001"} {
		r := w.supA.get("/contact/?search=" + url.QueryEscape(q))
		if r.Code != 200 || !strings.Contains(r.Body, ">Local Number Person<") {
			t.Errorf("search %q: %d, the contact is not found", q, r.Code)
		}
	}
	// A contact without any URN is not found by a search that is no number.
	if _, err := w.DB.Exec(`INSERT INTO contacts (org_id, uuid, name, urn, region_id, is_active, created_on, modified_on)
		VALUES (?, 'c-no-urn', 'Nobody Reachable', '', ?, 1, 0, 0)`, w.org.ID, w.panelA); err != nil {
		t.Fatal(err)
	}
	if r := w.supA.get("/contact/?search=Local+Number"); !strings.Contains(r.Body, ">Local Number Person<") || strings.Contains(r.Body, "Nobody Reachable") {
		t.Error("a search by name finds the wrong contacts")
	}
	if r := w.supB.get("/contact/?search=0788555001"); strings.Contains(r.Body, "Local Number Person") {
		t.Error("supervisor B finds the contact of panel A")
	}
}

// TestContactPushFailureShown: RapidPro refuses a create (the URN was taken
// there after the form's check): the contact page shows the push failed
// with RapidPro's message, and so does the administrators' push page.
func TestContactPushFailureShown(t *testing.T) {
	w := newContactWorld(t)
	r := w.supA.post("/contact/create/", w.form("urn", "+250 788 555 077", "name", "Refused Person"))
	if r.Code != 303 {
		t.Fatalf("create: %d", r.Code)
	}
	page := r.Header.Get("Location")
	w.sim.Write(func() { w.sim.AddContact(&fake.Contact{Name: "Owner", URNs: []string{"tel:+250788555077"}}) })
	w.deliver()
	const refusal = "URN is in use by another contact"
	c := w.supA.get(page)
	if _, pushes, _ := strings.Cut(c.Body, `<ul id="pushes">`); !strings.Contains(pushes, `<li data-state="failed">Creation`) || !strings.Contains(pushes, refusal) {
		t.Fatalf("the contact page does not show the refused create: %.400s", pushes)
	}
	a := w.admin.get("/contact/pushes/")
	if _, row, _ := strings.Cut(a.Body, `<tr data-state="failed">`); !strings.Contains(row, "Refused Person") || !strings.Contains(row, refusal) {
		t.Fatalf("the push page does not list the refused create: %d", a.Code)
	}
}

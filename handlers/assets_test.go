package handlers

import (
	"regexp"
	"strings"
	"testing"
)

var iconLinkRe = regexp.MustCompile(`<link rel="icon" href="(/static/favicon\.[0-9a-f]+\.ico)">`)

// TestFavicon: /favicon.ico, which a browser asks for on its first visit, is
// a small icon cached for a year, not a 404; every page links the same icon
// at its hashed URL from its head, so browsers that read the link never ask
// for /favicon.ico at all.
func TestFavicon(t *testing.T) {
	f := newMatrixFixture(t)
	c := f.noSessionClient(f.Org1)
	r := c.get("/favicon.ico")
	if r.Code != 200 || !strings.HasPrefix(r.Body, "\x00\x00\x01\x00") || len(r.Body) > 1024 {
		t.Fatalf("/favicon.ico = %d, %d bytes %q", r.Code, len(r.Body), r.Body[:min(8, len(r.Body))])
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("/favicon.ico Cache-Control = %q", cc)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
		t.Errorf("/favicon.ico Content-Type = %q", ct)
	}
	if r.Header.Get("Set-Cookie") != "" {
		t.Error("/favicon.ico starts a session")
	}
	for _, p := range []struct {
		c    *client
		path string
	}{{c, "/users/login/"}, {f.newClient(f.Org1, f.SupA), "/"}} {
		page := p.c.get(p.path)
		m := iconLinkRe.FindStringSubmatch(page.Body[:strings.Index(page.Body, "</head>")])
		if m == nil {
			t.Fatalf("%s links no icon from its head", p.path)
		}
		if linked := c.get(m[1]); linked.Code != 200 || linked.Body != r.Body {
			t.Errorf("%s links %s: %d, not the icon", p.path, m[1], linked.Code)
		}
	}
}

package handlers

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestSecurityHeadersOnEveryError: every response carries the CSP, nosniff,
// frame denial and Referrer-Policy, including the errors Fiber raises before
// any middleware runs (413 body, 431 headers), an unknown page, a method the
// route does not take, a handler's error and a handler's panic. Over a real
// connection: app.Test returns the server's own errors instead of answering.
func TestSecurityHeadersOnEveryError(t *testing.T) {
	e := newTestEnv(t)
	e.createOrg("org1")
	// A failing and a panicking handler behind the real middleware.
	e.App.Get("/test/fails/", func(c *fiber.Ctx) error { return errors.New("disk on fire") })
	e.App.Get("/test/panics/", func(c *fiber.Ctx) error { panic("boom") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go e.App.Listener(ln)

	big := strings.Repeat("x", 1<<20+1)
	cases := []struct {
		name, method, path string
		body               string
		header             [2]string
		status             int
		text               string
	}{
		{"413 body too large", "POST", "/users/login/", big, [2]string{}, 413, "The request is too large."},
		{"431 headers too large", "GET", "/users/login/", "", [2]string{"X-Filler", strings.Repeat("y", 20<<10)}, 431, "The request is too large."},
		{"404", "GET", "/no/such/page/", "", [2]string{}, 404, "There is no such page."},
		{"405", "PUT", "/users/login/", "", [2]string{}, 405, "This page cannot be used that way."},
		{"500", "GET", "/test/fails/", "", [2]string{}, 500, "Something went wrong."},
		{"panic", "GET", "/test/panics/", "", [2]string{}, 500, "Something went wrong."},
	}
	want := map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	}
	for _, tc := range cases {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, err := http.NewRequest(tc.method, "http://"+ln.Addr().String()+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "org1." + testDomain
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tc.header[0] != "" {
			req.Header.Set(tc.header[0], tc.header[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.text) {
			t.Errorf("%s: %d %.200q, want %d with %q", tc.name, resp.StatusCode, b, tc.status, tc.text)
		}
		for h, v := range want {
			if got := resp.Header.Get(h); !strings.Contains(got, v) {
				t.Errorf("%s: %s = %q, want %q", tc.name, h, got, v)
			}
		}
	}
}

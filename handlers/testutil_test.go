package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Shared test helpers: a migrated database and the real app (CSRF on), orgs,
// panel trees, users, signed-in clients and the gzip size of a body. They are
// generic on purpose; every area's tests may use them.

// testDomain is the TRACPRO_DOMAIN of test apps: org "x" is served at
// x.tracpro.test, so several orgs can live in one test database.
const testDomain = "tracpro.test"

// testEnv is one test's database and app.
type testEnv struct {
	t   *testing.T
	Ctx context.Context
	DB  *models.DB
	H   *Handlers
	App *fiber.App
}

// newTestEnv opens a migrated SQLite file in t.TempDir() and builds the app.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	db, err := models.OpenMigrated(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &Handlers{DB: db, Domain: testDomain}
	app, err := New(h)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, Ctx: ctx, DB: db, H: h, App: app}
}

// createOrg makes an org served at <sub>.tracpro.test. Its passkey policy
// for administrators is off, so password-only administrators reach every page
// (passkey tests switch it on).
func (e *testEnv) createOrg(sub string) *models.Org {
	e.t.Helper()
	o, err := e.DB.CreateOrg(e.Ctx, models.NewOrg{Name: "Org " + sub, Subdomain: sub, RapidProURL: "http://127.0.0.1:1", Token: "token"})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.DB.ExecContext(e.Ctx, `UPDATE orgs SET admin_passkeys = 0 WHERE id = ?`, o.ID); err != nil {
		e.t.Fatal(err)
	}
	if o, err = e.DB.OrgByID(e.Ctx, o.ID); err != nil {
		e.t.Fatal(err)
	}
	return o
}

// createPanels makes the org's panels from {name, parent name} pairs (parent
// "" = top level; parents first) and returns their ids by name.
func (e *testEnv) createPanels(org *models.Org, tree ...[2]string) map[string]int64 {
	e.t.Helper()
	var groups []models.RapidProGroup
	var names []string
	for _, p := range tree {
		groups = append(groups, models.RapidProGroup{UUID: "g-" + org.Subdomain + "-" + p[0], Name: p[0]})
		names = append(names, p[0])
	}
	if _, _, err := e.DB.SyncGroups(e.Ctx, org.ID, groups); err != nil {
		e.t.Fatal(err)
	}
	gs, err := e.DB.ResolveGroups(e.Ctx, org.ID, names)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.DB.TrackGroups(e.Ctx, org.ID, "regions", gs); err != nil {
		e.t.Fatal(err)
	}
	ids := map[string]int64{}
	regions, err := e.DB.ListRegions(e.Ctx, org.ID, true)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range regions {
		ids[r.Name] = r.ID
	}
	for _, p := range tree {
		if p[1] == "" {
			continue
		}
		if _, err := e.DB.ExecContext(e.Ctx, `UPDATE regions SET parent_id = ? WHERE id = ?`, ids[p[1]], ids[p[0]]); err != nil {
			e.t.Fatal(err)
		}
	}
	return ids
}

// createUser makes a user; with an org it also gets role there and the
// panels. An empty password makes a passkey-only user (no slow hashing).
func (e *testEnv) createUser(org *models.Org, email, role, password string, panels ...int64) *models.User {
	e.t.Helper()
	u, err := e.DB.CreateUser(e.Ctx, models.NewUser{Email: email, FullName: "User " + strings.SplitN(email, "@", 2)[0], Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	if org != nil {
		if err := e.DB.SetMembership(e.Ctx, org.ID, u.ID, role); err != nil {
			e.t.Fatal(err)
		}
		if err := e.DB.SetUserPanels(e.Ctx, org.ID, u.ID, panels); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

// createSuperuser makes a superuser who is a member of no org.
func (e *testEnv) createSuperuser(email string) *models.User {
	e.t.Helper()
	u, err := e.DB.CreateUser(e.Ctx, models.NewUser{Email: email, FullName: "Super User", Superuser: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// client is a browser: a host (the org's subdomain) and a session cookie. It
// follows the session cookie the app sets (rotation at sign-in), keeps the
// other cookies (anonymous CSRF, messages, language) and takes the CSRF token
// of the pages it gets.
type client struct {
	e         *testEnv
	Host      string
	Token     string // cookie value
	CSRF      string
	SessionID string
	Cookies   map[string]string // the other cookies
}

// hostOf is the host that serves org (any host when org is nil).
func hostOf(org *models.Org) string {
	if org == nil {
		return "www." + testDomain
	}
	return org.Subdomain + "." + testDomain
}

// newClient starts a session for u (nil = anonymous) on org's host: a
// password session, as a sign-in there would make it.
func (e *testEnv) newClient(org *models.Org, u *models.User) *client {
	e.t.Helper()
	return e.newClientBy(org, u, models.AuthPassword)
}

// newClientBy starts a session for u on org's host authenticated by method
// (models.AuthPassword, models.AuthPasskey …).
func (e *testEnv) newClientBy(org *models.Org, u *models.User, method string) *client {
	e.t.Helper()
	var uid int64
	if u != nil {
		uid = u.ID
	}
	host := hostOf(org)
	served, err := e.H.hostOrg(e.Ctx, host)
	if err != nil {
		e.t.Fatal(err)
	}
	s := &models.Session{UserID: uid, Host: host, OrgID: orgID(served)}
	if uid != 0 {
		s.Method = method
	}
	token, err := e.DB.NewSession(e.Ctx, s)
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{e: e, Host: host, Token: token, CSRF: s.CSRF, SessionID: s.ID}
}

// noSessionClient is a browser without any cookie.
func (e *testEnv) noSessionClient(org *models.Org) *client {
	return &client{e: e, Host: hostOf(org)}
}

// result is a response with its body read.
type result struct {
	Code   int
	Body   string
	Header http.Header
}

// get requests path; headers are name, value pairs.
func (c *client) get(path string, headers ...string) *result {
	return c.do("GET", path, nil, headers)
}

// post sends form with the session's CSRF token added.
func (c *client) post(path string, form url.Values, headers ...string) *result {
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("_csrf", c.CSRF)
	return c.do("POST", path, f, headers)
}

// postRaw sends form as is (for CSRF tests).
func (c *client) postRaw(path string, form url.Values, headers ...string) *result {
	return c.do("POST", path, form, headers)
}

func (c *client) do(method, path string, form url.Values, headers []string) *result {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://"+c.Host+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.Token != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.Token})
	}
	for k, v := range c.Cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.e.App.Test(req, -1)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.CSRF = string(m[1])
	}
	for _, ck := range resp.Cookies() {
		if ck.Name != sessionCookie {
			if c.Cookies == nil {
				c.Cookies = map[string]string{}
			}
			c.Cookies[ck.Name] = ck.Value
			if ck.Value == "" || ck.MaxAge < 0 {
				delete(c.Cookies, ck.Name)
			}
			continue
		}
		c.Token, c.CSRF, c.SessionID = ck.Value, "", ""
		if ck.Value == "" || ck.MaxAge < 0 {
			c.Token = ""
			continue
		}
		if s, err := c.e.DB.SessionByToken(c.e.Ctx, ck.Value); err == nil && s != nil {
			c.CSRF, c.SessionID = s.CSRF, s.ID
		}
	}
	return &result{Code: resp.StatusCode, Body: string(b), Header: resp.Header}
}

// sessionExists reports whether a session id is in the database.
func (e *testEnv) sessionExists(id string) bool {
	e.t.Helper()
	var n int
	if err := e.DB.QueryRowContext(e.Ctx, `SELECT count(*) FROM sessions WHERE id = ?`, id).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n > 0
}

// gzipSize is the size of b compressed with gzip at best compression.
func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

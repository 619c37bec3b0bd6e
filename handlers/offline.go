package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/assets"
	"tracpro/locale"
)

// Offline reading (issue #16, README "Offline reading and lighter pages"): a first-party
// service worker (assets/sw.js, served at /sw.js so its scope is the whole
// site) keeps the dashboard pages a signed-in user opened and shows them when a
// navigation fails for lack of network. What may be kept is decided here, on
// the server, by one response header on every page of the app:
//
//	TracPro-Offline: none                                  (no signed-in member: the worker wipes every copy)
//	TracPro-Offline: exp=…&key=…&lang=fr                   (a member's page that is not kept)
//	TracPro-Offline: asof=…&exp=…&keep=1&key=…&lang=fr&panel=…&title=…   (a dashboard page: keep it)
//	TracPro-Offline: exp=…&key=…&lang=fr&shell=1           (the Offline page, which the worker keeps to answer for pages not kept)
//
// key names the copies of one session of one user in one org (a hash of the
// session id, itself the hash of the secret cookie): the worker keeps the
// copies of the current key only, so a second user, a new sign-in or another
// org never sees them. exp is the session's expiry (unix ms): past it the
// worker serves nothing. keep is given only to a whole-page GET answered 200
// of a route marked h.keepable (home, poll, poll run summary, participation
// and map, indicator); never to fragments, POSTs, CSV, or pages with
// personal data.

// offlineHeader is the response header the worker reads.
const offlineHeader = "TracPro-Offline"

// The worker's limits: a copy is kept keptDays days at most, and only the
// keptPages newest copies (the oldest go first).
const (
	keptDays  = 7
	keptPages = 40
)

// keepable marks a dashboard route whose pages the worker may keep.
func (h *Handlers) keepable(c *fiber.Ctx) error {
	getRC(c).keep = true
	return c.Next()
}

// offlineHeaders reads Save-Data and, after the handler, tells the worker
// what it may do with the answer.
func (h *Handlers) offlineHeaders(c *fiber.Ctx) error {
	rc := getRC(c)
	rc.saveData = strings.EqualFold(c.Get("Save-Data"), "on") && c.Query("full") != "1"
	c.Vary("Save-Data")
	err := c.Next()
	if rc.user == nil || rc.org == nil || rc.role == "" || rc.sess == nil {
		c.Set(offlineHeader, "none")
		return err
	}
	v := url.Values{}
	v.Set("key", offlineKey(rc))
	v.Set("exp", strconv.FormatInt(rc.sess.ExpiresAt, 10))
	v.Set("lang", rc.cat.Lang)
	if c.Path() == "/offline/" {
		v.Set("shell", "1")
	}
	if err == nil && rc.keep && c.Method() == fiber.MethodGet && c.Response().StatusCode() == fiber.StatusOK && !isFragment(c) &&
		strings.HasPrefix(string(c.Response().Header.ContentType()), "text/html") {
		v.Set("keep", "1")
		v.Set("title", pageTitle(c.Response().Body()))
		v.Set("panel", scopeName(rc))
		v.Set("asof", rc.asOf())
	}
	c.Set(offlineHeader, v.Encode())
	return err
}

// offlineKey names the kept copies of the request's session, user and org:
// not guessable from another session (the session id is the hash of the
// secret cookie token).
func offlineKey(rc *reqCtx) string {
	sum := sha256.Sum256([]byte("tracpro offline\x00" + rc.sess.ID + "\x00" + strconv.FormatInt(rc.user.ID, 10) + "\x00" + strconv.FormatInt(rc.org.ID, 10)))
	return hex.EncodeToString(sum[:16])
}

var titleRe = regexp.MustCompile(`<title>([^<]*)</title>`)

// pageTitle is the page's own title, without the site name the layout adds.
func pageTitle(body []byte) string {
	m := titleRe.FindSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSuffix(html.UnescapeString(string(m[1])), " · TracPro")
}

// scopeName is the panel the page shows: the selected one or all panels.
func scopeName(rc *reqCtx) string {
	if rc.scope != nil {
		if p := rc.scope.SelectedPanel(); p != nil {
			return p.Name
		}
	}
	return rc.cat.T("All panels")
}

// asOf formats when a copy is made, "14:05, Dec 3", in t's zone, in the
// user's language (its digits, month names and date order).
func asOf(cat *locale.Catalog, t time.Time) string {
	d := dateFormat{cat: cat, nf: numbersOf(cat.Lang), loc: t.Location(), now: t}
	return d.Time(t) + ", " + d.Short(t)
}

// OfflineBanner is the text of the banner of a kept copy, made now: it stays
// hidden until the worker serves the copy offline. "" when the page is not kept.
func (p *Page) OfflineBanner() string {
	rc := p.rc
	if !rc.keep || rc.org == nil {
		return ""
	}
	return rc.cat.T("Offline — as of %s", rc.asOf())
}

// asOf is when the request's copy is made (computed once, so the banner and
// the header agree).
func (rc *reqCtx) asOf() string {
	if rc.offlineAsOf == "" {
		rc.offlineAsOf = asOf(rc.cat, time.Now().In(rc.org.Location()))
	}
	return rc.offlineAsOf
}

// light reports a request for lighter pages (Save-Data: on) on a dashboard
// page, unless the full page was asked for (?full=1).
func (rc *reqCtx) light() bool { return rc.saveData && rc.keep }

// SaveData reports that the page is lighter for a browser saving data (and
// says so, with a link to the full page).
func (p *Page) SaveData() bool { return p.rc.light() }

// FullPage is the page's URL with ?full=1: the full page despite Save-Data.
func (p *Page) FullPage() string {
	q, _ := url.ParseQuery(p.Query)
	q.Set("full", "1")
	return p.Path + "?" + q.Encode()
}

// ServiceWorker reports whether the page registers the worker: signed-in
// members of an org only (nothing is kept for anyone else).
func (p *Page) ServiceWorker() bool { return p.rc.user != nil && p.rc.org != nil && p.rc.role != "" }

// offlineIndex is the Offline page: the worker fills its list with the pages
// kept on this device and serves it when a page that is not kept cannot be
// fetched. Served by the network it explains what is kept.
func (h *Handlers) offlineIndex(c *fiber.Ctx) error {
	rc := getRC(c)
	return h.render(c, fiber.StatusOK, "offline/index", h.page(c, rc.cat.T("Offline"), struct{ Days, Pages int }{keptDays, keptPages}))
}

// workerScript is /sw.js: assets/sw.js after a first line naming its version
// and the hashed assets it keeps, so every deploy that changes an asset or the
// worker changes its bytes and browsers install the new one.
type workerScript struct {
	body    []byte
	etag    string
	version string
}

func newWorkerScript(a *assetSet, src []byte) *workerScript {
	var urls []string
	for _, name := range []string{"app.css", "app.js", "vendor/htmx.min.js"} {
		urls = append(urls, a.url(name))
	}
	list, _ := json.Marshal(urls)
	consts := "ASSETS = " + string(list) + ", MAX_AGE = " + strconv.Itoa(keptDays*24*3600*1000) + ", MAX_PAGES = " + strconv.Itoa(keptPages) + ";\n"
	sum := sha256.Sum256(append([]byte(consts), src...))
	version := hex.EncodeToString(sum[:6])
	body := append([]byte("const VERSION = \""+version+"\", "+consts), src...)
	return &workerScript{body: body, etag: `"` + version + `"`, version: version}
}

// loadWorker builds /sw.js from the embedded worker.
func (h *Handlers) loadWorker() error {
	src, err := assets.FS.ReadFile("sw.js")
	if err != nil {
		return err
	}
	h.worker.Store(newWorkerScript(h.assets, src))
	return nil
}

// serviceWorker serves /sw.js: revalidated on every update check (no-cache,
// a 304 when unchanged), never cached as immutable.
func (h *Handlers) serviceWorker(c *fiber.Ctx) error {
	w := h.worker.Load()
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, w.etag)
	if c.Get(fiber.HeaderIfNoneMatch) == w.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	return c.Send(w.body)
}

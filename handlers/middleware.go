package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/locale"
	"tracpro/models"
)

// sessionCookie names the session cookie.
const sessionCookie = "tracpro_session"

// reqCtx is the per-request state the middleware builds.
type reqCtx struct {
	sess  *models.Session
	token string // cookie token of sess
	dirty bool   // session data changed: save after the handler
	csrf  string // the token forms must send back (setCSRF)
	anon  string // anonymous visitor's tracpro_csrf cookie value
	// flashes are the one-time messages to show (flash cookie); hadFlashes:
	// the cookie holds some, to be rewritten or deleted.
	flashes    []models.Flash
	hadFlashes bool
	lang       string // language chosen while signed out (cookie)
	user       *models.User
	org        *models.Org
	// hostOrg is the org the host serves (resolveOrg), before a superuser's
	// choice in the chooser: sessions are bound to it and to host.
	hostOrg *models.Org
	host    string
	// enrolOnly: a password session of an account the passkey policy covers
	// and that has no passkey yet may only register one.
	enrolOnly bool
	role      string // in org; superusers count as administrators
	cat       *locale.Catalog
	scope     *models.Scope
	status    *models.SyncStatus
	// Offline reading and Save-Data (offline.go).
	keep        bool   // a dashboard route: its page may be kept offline
	saveData    bool   // Save-Data: on (and not ?full=1)
	offlineAsOf string // when the kept copy is made
}

var roleRank = map[string]int{models.RoleViewer: 1, models.RoleSupervisor: 2, models.RoleAdmin: 3}

// atLeast reports whether the user holds role (or a higher one) in the org.
func (rc *reqCtx) atLeast(role string) bool {
	if rc.user == nil || rc.org == nil {
		return false
	}
	return roleRank[rc.role] >= roleRank[role]
}

// ctx is a background context for calls outside a handler's own.
func (rc *reqCtx) ctx() context.Context { return context.Background() }

func getRC(c *fiber.Ctx) *reqCtx {
	if rc, ok := c.Locals("rc").(*reqCtx); ok {
		return rc
	}
	rc := &reqCtx{cat: locale.Get("en")}
	c.Locals("rc", rc)
	return rc
}

func asAppError(err error, target **models.Error) bool { return errors.As(err, target) }

// securityHeaders is the middleware that sets the security headers of every
// response the routes produce (setSecurityHeaders).
func securityHeaders(c *fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders sets the headers every response carries, whatever
// produced it (the middleware, or the error handler for errors raised before
// any middleware ran: 413, 431, 400 from the server itself): a
// Content-Security-Policy allowing no other origin, Referrer-Policy
// same-origin (DESIGN.md §4), no framing, no sniffing.
func setSecurityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "+
		"font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
	if c.Protocol() == "https" {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// resolveOrg finds the org of the request from the host's subdomain under
// TRACPRO_DOMAIN; when the domain is unset or only one org exists, every host
// serves that org. Superusers without an org pick one in the chooser.
func (h *Handlers) resolveOrg(c *fiber.Ctx) error {
	rc := getRC(c)
	rc.host = requestHost(c)
	var err error
	if rc.org, err = h.hostOrg(c.UserContext(), rc.host); err != nil {
		return err
	}
	rc.hostOrg = rc.org
	return c.Next()
}

// hostOrg is the org a host name serves (nil when none).
func (h *Handlers) hostOrg(ctx context.Context, host string) (*models.Org, error) {
	orgs, err := h.DB.ListOrgs(ctx, true)
	if err != nil {
		return nil, err
	}
	if len(orgs) == 1 {
		return orgs[0], nil
	}
	if h.Domain != "" {
		if sub, ok := strings.CutSuffix(host, "."+strings.ToLower(h.Domain)); ok && sub != "www" {
			for _, o := range orgs {
				if strings.EqualFold(o.Subdomain, sub) {
					return o, nil
				}
			}
		}
	}
	return nil, nil
}

// requestHost is the request's host name, lower case, without the port.
func requestHost(c *fiber.Ctx) string {
	host := strings.ToLower(c.Hostname())
	if hn, _, err := net.SplitHostPort(host); err == nil {
		return hn
	}
	return strings.Trim(host, "[]")
}

// orgID is the id of o, 0 for none.
func orgID(o *models.Org) int64 {
	if o == nil {
		return 0
	}
	return o.ID
}

// loadSession reads the session cookie, the user and their role in the org,
// the language, the panel scope, the sync status, the CSRF token and the
// one-time messages; it saves changed session data (POSTs only change it)
// and the messages after the handler. Reading a page does not write, but to
// push a session's expiry back once an hour if the write lock is free.
func (h *Handlers) loadSession(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	h.readFlashes(c)
	rc.lang = cookieLanguage(c)
	token := c.Cookies(sessionCookie)
	sess, err := h.DB.SessionByToken(ctx, token)
	if err != nil {
		return err
	}
	// A session is good only on the host it was made on (a cookie carried to
	// another host means nothing there), and not once that host serves
	// another org than the one it was made for (a subdomain given to another
	// org). A host that served the only org and serves none once a second
	// org exists keeps its sessions: the org is then chosen, not implied.
	if sess != nil && (sess.Host != rc.host || (sess.OrgID != 0 && rc.hostOrg != nil && sess.OrgID != rc.hostOrg.ID)) {
		sess = nil
	}
	if sess != nil {
		rc.sess, rc.token = sess, token
		if sess.NeedsTouch() {
			if err := h.DB.TouchSession(ctx, sess); err != nil {
				h.Log.Debug("session expiry not pushed back", "err", err)
			}
		}
		if sess.UserID != 0 {
			u, err := h.DB.UserByID(ctx, sess.UserID)
			if err == nil && u.IsActive {
				rc.user = u
			}
		}
	}
	if rc.user != nil {
		if err := h.enforcePasskeyPolicy(c); err != nil {
			return err
		}
		sess = rc.sess
	}
	h.setCSRF(c)
	// Without a domain and with several orgs, a superuser's choice in the
	// chooser picks the org.
	if rc.org == nil && h.Domain == "" && rc.user != nil && rc.user.IsSuperuser && sess.Data.Org != 0 {
		if o, err := h.DB.OrgByID(ctx, sess.Data.Org); err == nil && o.IsActive {
			rc.org = o
		}
	}
	if rc.user != nil && rc.org != nil {
		if rc.user.IsSuperuser {
			rc.role = models.RoleAdmin
		} else if rc.role, err = h.DB.RoleIn(ctx, rc.org.ID, rc.user.ID); err != nil {
			return err
		}
	}
	rc.cat = locale.Get(h.language(rc))
	if rc.org != nil {
		if rc.status, err = h.DB.OrgSyncStatus(ctx, rc.org.ID); err != nil {
			return err
		}
		if rc.role != "" {
			key := strconv.FormatInt(rc.org.ID, 10)
			var selected int64
			includeSub := true
			if sess != nil {
				selected = sess.Data.Panels[key]
				includeSub = !sess.Data.NoSubPanel[key]
			}
			if rc.scope, err = h.DB.ResolveScope(ctx, rc.org.ID, rc.user.ID, rc.atLeast(models.RoleAdmin), selected, includeSub); err != nil {
				return err
			}
		}
	}
	err = c.Next()
	if rc.sess != nil && rc.dirty {
		if serr := h.DB.SaveSession(ctx, rc.sess); serr != nil && err == nil {
			err = serr
		}
	}
	h.saveFlashes(c)
	return err
}

// language picks the UI language: the user's choice (or the one made while
// signed out), else the org's default, else English.
func (h *Handlers) language(rc *reqCtx) string {
	if rc.user != nil && locale.Supported(rc.user.Language) {
		return rc.user.Language
	}
	if rc.lang != "" {
		return rc.lang
	}
	if rc.org != nil && locale.Supported(rc.org.Language) {
		return rc.org.Language
	}
	return "en"
}

// ensureSession gives an anonymous visitor a session row (an enrolment
// link's admission must be kept server-side) and sets its cookie.
func (h *Handlers) ensureSession(c *fiber.Ctx) error {
	rc := getRC(c)
	if rc.sess != nil {
		return nil
	}
	sess := &models.Session{Host: rc.host, OrgID: orgID(rc.hostOrg)}
	token, err := h.DB.NewSession(c.UserContext(), sess)
	if err != nil {
		return err
	}
	rc.sess, rc.token, rc.csrf = sess, token, sess.CSRF
	h.setSessionCookie(c, token)
	return nil
}

// startSession rotates the session at sign-in: a new id and CSRF token,
// keeping the panel choices, and deletes the old session. The
// new session records how u proved who they are (models.AuthPassword …) and
// the host and org it is made on.
func (h *Handlers) startSession(c *fiber.Ctx, u *models.User, method string) error {
	rc := getRC(c)
	ctx := c.UserContext()
	sess := &models.Session{UserID: u.ID, Method: method, Host: rc.host, OrgID: orgID(rc.hostOrg)}
	if rc.sess != nil {
		sess.Data = rc.sess.Data
		sess.Data.EnrolUser = 0
		if err := h.DB.DeleteSession(ctx, rc.sess.ID); err != nil {
			return err
		}
	}
	token, err := h.DB.NewSession(ctx, sess)
	if err != nil {
		return err
	}
	rc.sess, rc.token, rc.user, rc.dirty, rc.enrolOnly, rc.csrf = sess, token, u, false, false, sess.CSRF
	h.setSessionCookie(c, token)
	return h.DB.TouchLogin(ctx, u.ID)
}

func (h *Handlers) setSessionCookie(c *fiber.Ctx, token string) {
	h.setCookie(c, sessionCookie, token, int(models.SessionLifetime.Seconds()))
}

// csrf checks every POST: the token from the form field _csrf or the
// X-CSRF-Token header (htmx sends it through hx-headers) must match the
// session's (or an anonymous visitor's signed one, setCSRF), and a
// cross-origin Origin is refused. An htmx request gets HX-Redirect to the
// sign-in page, never a bare redirect.
func (h *Handlers) csrf(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	rc := getRC(c)
	sent := c.Get("X-CSRF-Token")
	if sent == "" {
		sent = c.FormValue("_csrf")
	}
	ok := rc.csrf != "" && sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(rc.csrf)) == 1
	if origin := c.Get("Origin"); ok && origin != "" && origin != "null" {
		if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Host, c.Hostname()) {
			ok = false
		}
	}
	if ok {
		return c.Next()
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", "/users/login/")
	}
	return fiber.NewError(fiber.StatusForbidden, "csrf")
}

// Route guards.

// requireLogin lets signed-in users through; others go to the sign-in page
// (HX-Redirect for htmx). A password session the passkey policy confines to
// enrolment gets the passkeys page only; a user whose password must change is
// sent to change it first.
func (h *Handlers) requireLogin(c *fiber.Ctx) error {
	rc := getRC(c)
	if rc.user == nil {
		next := c.OriginalURL()
		to := "/users/login/?next=" + url.QueryEscape(next)
		if c.Get("HX-Request") == "true" {
			c.Set("HX-Redirect", to)
			return c.SendStatus(fiber.StatusUnauthorized)
		}
		return c.Redirect(to, fiber.StatusSeeOther)
	}
	path := c.Path()
	if rc.enrolOnly {
		if path == "/passkeys/" && c.Method() == fiber.MethodGet {
			return c.Next()
		}
		flash(c, "info", rc.cat.T("Your account signs in with a passkey. Register one to continue."))
		return redirect(c, "/passkeys/")
	}
	if rc.user.ChangePassword && path != "/profile/self/" && path != "/users/logout/" {
		flash(c, "info", rc.cat.T("Please choose a new password."))
		return redirect(c, "/profile/self/")
	}
	return c.Next()
}

// requireOrg needs an org for the request (superusers without one choose it).
func (h *Handlers) requireOrg(c *fiber.Ctx) error {
	rc := getRC(c)
	if rc.org == nil {
		if rc.user != nil && rc.user.IsSuperuser {
			return redirect(c, "/manage/org/chooser/")
		}
		return fiber.ErrNotFound
	}
	if rc.role == "" {
		return fiber.ErrForbidden
	}
	return c.Next()
}

// requireRole lets users with at least role in the org through.
func (h *Handlers) requireRole(role string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !getRC(c).atLeast(role) {
			return fiber.ErrForbidden
		}
		return c.Next()
	}
}

// requireSuperuser lets superusers through.
func (h *Handlers) requireSuperuser(c *fiber.Ctx) error {
	if rc := getRC(c); rc.user == nil || !rc.user.IsSuperuser {
		return fiber.ErrForbidden
	}
	return c.Next()
}

// safeNext returns a local path to go to after a form, else "/".
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

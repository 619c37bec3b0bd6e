package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
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
	sess   *models.Session
	token  string // cookie token of sess
	dirty  bool   // session data changed: save after the handler
	user   *models.User
	org    *models.Org
	role   string // in org; superusers count as administrators
	cat    *locale.Catalog
	scope  *models.Scope
	status *models.SyncStatus
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

// securityHeaders sets the headers of every response: a Content-Security-Policy
// allowing no other origin, Referrer-Policy same-origin (DESIGN.md §4), no
// framing, no sniffing.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "+
		"font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
	if c.Protocol() == "https" {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

// resolveOrg finds the org of the request from the host's subdomain under
// TRACPRO_DOMAIN; when the domain is unset or only one org exists, every host
// serves that org. Superusers without an org pick one in the chooser.
func (h *Handlers) resolveOrg(c *fiber.Ctx) error {
	rc := getRC(c)
	orgs, err := h.DB.ListOrgs(c.UserContext(), true)
	if err != nil {
		return err
	}
	if len(orgs) == 1 {
		rc.org = orgs[0]
		return c.Next()
	}
	if h.Domain != "" {
		host := strings.ToLower(c.Hostname())
		if i := strings.LastIndexByte(host, ':'); i > 0 {
			host = host[:i]
		}
		if sub, ok := strings.CutSuffix(host, "."+strings.ToLower(h.Domain)); ok && sub != "www" {
			for _, o := range orgs {
				if strings.EqualFold(o.Subdomain, sub) {
					rc.org = o
					break
				}
			}
		}
	}
	return c.Next()
}

// loadSession reads the session cookie, the user and their role in the org,
// the language, the panel scope and the sync status; it saves changed
// session data after the handler.
func (h *Handlers) loadSession(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	token := c.Cookies(sessionCookie)
	sess, err := h.DB.SessionByToken(ctx, token)
	if err != nil {
		return err
	}
	if sess != nil {
		rc.sess, rc.token = sess, token
		if sess.UserID != 0 {
			u, err := h.DB.UserByID(ctx, sess.UserID)
			if err == nil && u.IsActive {
				rc.user = u
			}
		}
	}
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
	return err
}

// language picks the UI language: the user's choice (or the anonymous
// session's), else the org's default, else English.
func (h *Handlers) language(rc *reqCtx) string {
	if rc.user != nil && locale.Supported(rc.user.Language) {
		return rc.user.Language
	}
	if rc.sess != nil && locale.Supported(rc.sess.Data.Language) {
		return rc.sess.Data.Language
	}
	if rc.org != nil && locale.Supported(rc.org.Language) {
		return rc.org.Language
	}
	return "en"
}

// ensureSession gives an anonymous visitor a session (for the CSRF token of
// the sign-in form) and sets its cookie.
func (h *Handlers) ensureSession(c *fiber.Ctx) error {
	rc := getRC(c)
	if rc.sess != nil {
		return nil
	}
	sess, token, err := h.DB.NewSession(c.UserContext(), 0, models.SessionData{})
	if err != nil {
		return err
	}
	rc.sess, rc.token = sess, token
	h.setSessionCookie(c, token)
	return nil
}

// startSession rotates the session at sign-in: a new id and CSRF token,
// keeping the language and panel choices, and deletes the old session.
func (h *Handlers) startSession(c *fiber.Ctx, u *models.User) error {
	rc := getRC(c)
	ctx := c.UserContext()
	var data models.SessionData
	if rc.sess != nil {
		data = rc.sess.Data
		data.Ceremony, data.EnrolUser = "", 0
		if err := h.DB.DeleteSession(ctx, rc.sess.ID); err != nil {
			return err
		}
	}
	sess, token, err := h.DB.NewSession(ctx, u.ID, data)
	if err != nil {
		return err
	}
	rc.sess, rc.token, rc.user, rc.dirty = sess, token, u, false
	h.setSessionCookie(c, token)
	return h.DB.TouchLogin(ctx, u.ID)
}

func (h *Handlers) setSessionCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(models.SessionLifetime.Seconds()),
		HTTPOnly: true,
		Secure:   h.Secure || c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// csrf checks every POST: the token from the form field _csrf or the
// X-CSRF-Token header (htmx sends it through hx-headers) must match the
// session's, and a cross-origin Origin is refused. An htmx request gets
// HX-Redirect to the sign-in page, never a bare redirect.
func (h *Handlers) csrf(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	rc := getRC(c)
	sent := c.Get("X-CSRF-Token")
	if sent == "" {
		sent = c.FormValue("_csrf")
	}
	ok := rc.sess != nil && sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(rc.sess.CSRF)) == 1
	if origin := c.Get("Origin"); ok && origin != "" && origin != "null" {
		if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Host, string(c.Request().Host())) {
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
// (HX-Redirect for htmx). A user whose password must change, or an
// administrator the passkey policy requires to enrol, is sent there first.
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
	if rc.user.ChangePassword && path != "/profile/self/" && path != "/users/logout/" {
		flash(c, "info", rc.cat.T("Please choose a new password."))
		return redirect(c, "/profile/self/")
	}
	// An administrator the passkey policy covers enrols one before any other page.
	if !strings.HasPrefix(path, "/passkeys/") && path != "/users/logout/" && h.passkeyPolicyApplies(rc, rc.user) {
		n, err := h.DB.CountPasskeys(c.UserContext(), rc.user.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			flash(c, "info", rc.cat.T("Administrators of this organization sign in with a passkey. Register one to continue."))
			return redirect(c, "/passkeys/")
		}
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

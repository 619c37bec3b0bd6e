package handlers

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/locale"
	"tracpro/models"
)

// loginForm is the sign-in form.
type loginForm struct {
	Email string
	Next  string
}

// authLoginForm shows the sign-in page (email + password, and passkeys with
// browser autofill).
func (h *Handlers) authLoginForm(c *fiber.Ctx) error {
	rc := getRC(c)
	next := safeNext(c.Query("next"))
	if rc.user != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	if err := h.ensureSession(c); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "auth/login", h.page(c, rc.cat.T("Sign in"), loginForm{Next: next}))
}

// passkeyPolicyApplies reports whether the org requires this user to sign in
// with a passkey: the policy is on and the user administers the org.
func (h *Handlers) passkeyPolicyApplies(rc *reqCtx, u *models.User) bool {
	if rc.org == nil || !rc.org.AdminPasskeys {
		return false
	}
	if u.IsSuperuser {
		return true
	}
	role, _ := h.DB.RoleIn(rc.ctx(), rc.org.ID, u.ID)
	return role == models.RoleAdmin
}

// authLogin signs in with email and password. An unknown email and a wrong
// password get the same answer; failures per account and per address grow
// the delay before the next attempt.
func (h *Handlers) authLogin(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	form := loginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: safeNext(c.FormValue("next"))}
	keys := []string{"email:" + strings.ToLower(form.Email), "ip:" + c.IP()}
	fail := func(status int, msg string) error {
		p := h.page(c, rc.cat.T("Sign in"), form)
		p.Errors = map[string]string{"_form": msg}
		return h.render(c, status, "auth/login", p)
	}
	for _, k := range keys {
		wait, err := h.DB.LoginWait(ctx, k)
		if err != nil {
			return err
		}
		if wait > 0 {
			return fail(fiber.StatusTooManyRequests, rc.cat.T("Too many attempts. Try again in %s.", roundWait(rc.cat, wait)))
		}
	}
	u, err := h.DB.UserByEmail(ctx, form.Email)
	if err != nil && models.ErrorCode(err) != models.CodeNotFound {
		return err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok := models.VerifyPassword(hash, c.FormValue("password")) && u != nil && u.IsActive && u.HasPassword()
	if !ok {
		for _, k := range keys {
			if _, err := h.DB.RecordLoginFailure(ctx, k); err != nil {
				return err
			}
		}
		return fail(fiber.StatusUnprocessableEntity, rc.cat.T("The email address or password is not correct."))
	}
	if h.passkeyPolicyApplies(rc, u) {
		n, err := h.DB.CountPasskeys(ctx, u.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return fail(fiber.StatusUnprocessableEntity, rc.cat.T("Administrators of this organization sign in with a passkey."))
		}
	}
	for _, k := range keys {
		if err := h.DB.ClearLoginFailures(ctx, k); err != nil {
			return err
		}
	}
	if err := h.startSession(c, u); err != nil {
		return err
	}
	return redirect(c, form.Next)
}

// roundWait says how long to wait, rounded up, in the request's language.
func roundWait(cat *locale.Catalog, d time.Duration) string {
	if d < time.Minute {
		return cat.N("%d second", "%d seconds", int(d.Seconds()+0.999))
	}
	return cat.N("%d minute", "%d minutes", int(d.Minutes()+0.999))
}

// authLogout ends the session.
func (h *Handlers) authLogout(c *fiber.Ctx) error {
	rc := getRC(c)
	if rc.sess != nil {
		if err := h.DB.DeleteSession(c.UserContext(), rc.sess.ID); err != nil {
			return err
		}
		rc.sess = nil
	}
	c.ClearCookie(sessionCookie)
	// The pages kept for offline reading go with the session (offline.go): the
	// browser deletes the worker's store (and the worker), and the worker
	// itself wipes it on the next page, which has no session.
	c.Set("Clear-Site-Data", `"storage"`)
	return redirect(c, "/users/login/")
}

// authSetLanguage stores the language choice of the footer switcher.
func (h *Handlers) authSetLanguage(c *fiber.Ctx) error {
	rc := getRC(c)
	lang := c.FormValue("language")
	if !locale.Supported(lang) {
		return fiber.ErrBadRequest
	}
	if rc.user != nil {
		if err := h.DB.SetUserLanguage(c.UserContext(), rc.user.ID, lang); err != nil {
			return err
		}
	} else if rc.sess != nil {
		rc.sess.Data.Language = lang
		rc.dirty = true
	}
	return redirect(c, safeNext(c.FormValue("next")))
}

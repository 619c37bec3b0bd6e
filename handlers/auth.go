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
	return h.render(c, fiber.StatusOK, "auth/login", h.page(c, rc.cat.T("Sign in"), loginForm{Next: next}))
}

// enforcePasskeyPolicy applies the passkey policy to the signed-in user's
// session, whatever the host: the policy covers administrators of any org
// that has it on, and superusers as soon as one org has it on. A password
// session of a covered account may only enrol a first passkey (enrolOnly);
// once the account has a passkey, a password session is ended on sight.
func (h *Handlers) enforcePasskeyPolicy(c *fiber.Ctx) error {
	rc := getRC(c)
	if rc.sess.Strong() {
		return nil
	}
	ctx := c.UserContext()
	covered, err := h.DB.PasskeyPolicyCovers(ctx, rc.user)
	if err != nil || !covered {
		return err
	}
	n, err := h.DB.CountPasskeys(ctx, rc.user.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		rc.enrolOnly = true
		return nil
	}
	// Signed out: the cookie goes, and the row with it if the write lock is
	// free (a reading page does not wait; the session is refused anyway).
	if err := h.DB.ForgetSession(ctx, rc.sess.ID); err != nil {
		h.Log.Debug("ended password session kept until purged", "err", err)
	}
	flash(c, "info", locale.Get(h.language(rc)).T("This account signs in with a passkey."))
	h.setCookie(c, sessionCookie, "", -1)
	rc.sess, rc.token, rc.user = nil, "", nil
	return nil
}

// authLogin signs in with email and password. An unknown email and a wrong
// password get the same answer; failures per account and per address grow
// the delay before the next attempt.
func (h *Handlers) authLogin(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	form := loginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: safeNext(c.FormValue("next"))}
	keys := []string{"email:" + strings.ToLower(form.Email), "ip:" + h.clientIP(c)}
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
	// Wherever the policy covers the account, its password is refused once it
	// has a passkey (on every host: sessions are per host, the policy is not).
	covered, err := h.DB.PasskeyPolicyCovers(ctx, u)
	if err != nil {
		return err
	}
	if covered {
		n, err := h.DB.CountPasskeys(ctx, u.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return fail(fiber.StatusUnprocessableEntity, rc.cat.T("This account signs in with a passkey."))
		}
	}
	for _, k := range keys {
		if err := h.DB.ClearLoginFailures(ctx, k); err != nil {
			return err
		}
	}
	if err := h.startSession(c, u, models.AuthPassword); err != nil {
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
	} else {
		h.setLanguageCookie(c, lang)
	}
	return redirect(c, safeNext(c.FormValue("next")))
}

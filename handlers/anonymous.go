package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/locale"
	"tracpro/models"
)

// State kept in cookies, so that neither an anonymous visit nor reading a
// page writes to the database (issue 12): the sign-in form's CSRF token, the
// one-time messages of the next page and the language chosen before signing
// in. A session row is made only at sign-in (and by an enrolment link).
const (
	csrfCookie  = "tracpro_csrf"  // anonymous visitor's random value
	flashCookie = "tracpro_flash" // signed one-time messages
	langCookie  = "tracpro_lang"  // language chosen while signed out
)

// maxFlashes bounds the messages a flash cookie carries (the newest kept).
const maxFlashes = 4

var b64 = base64.RawURLEncoding

// sign is the HMAC-SHA-256, keyed with the database's cookie key, of purpose
// and parts.
func (h *Handlers) sign(purpose string, parts ...string) string {
	mac := hmac.New(sha256.New, h.cookieKey)
	mac.Write([]byte(purpose))
	for _, p := range parts {
		mac.Write([]byte{0})
		mac.Write([]byte(p))
	}
	return b64.EncodeToString(mac.Sum(nil))
}

// setCookie sets a cookie with the attributes every TracPro cookie has;
// maxAge 0 makes a browser-session cookie, < 0 deletes it.
func (h *Handlers) setCookie(c *fiber.Ctx, name, value string, maxAge int) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HTTPOnly: true,
		Secure:   h.Secure || c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// setCSRF gives the request its CSRF token: the session's, or for a visitor
// without a session a signed double-submit token — a random value in the
// tracpro_csrf cookie (set when missing) and, in the page, its HMAC bound to
// the host. A cookie planted from a sibling host does not come with a valid
// token, and nothing is stored.
func (h *Handlers) setCSRF(c *fiber.Ctx) {
	rc := getRC(c)
	if rc.sess != nil {
		rc.csrf = rc.sess.CSRF
		return
	}
	v := c.Cookies(csrfCookie)
	if raw, err := b64.DecodeString(v); err != nil || len(raw) != 32 {
		raw = make([]byte, 32)
		rand.Read(raw)
		v = b64.EncodeToString(raw)
		h.setCookie(c, csrfCookie, v, 0)
	}
	rc.anon = v
	rc.csrf = h.sign("csrf", rc.host, v)
}

// ceremonyOwner is who a WebAuthn ceremony belongs to: the session, or the
// anonymous visitor's cookie.
func ceremonyOwner(rc *reqCtx) string {
	if rc.sess != nil {
		return rc.sess.ID
	}
	return "anon:" + models.HashToken(rc.anon)
}

// readFlashes loads the one-time messages of the flash cookie, if its
// signature holds.
func (h *Handlers) readFlashes(c *fiber.Ctx) {
	payload, sig, ok := strings.Cut(c.Cookies(flashCookie), ".")
	if !ok {
		return
	}
	if !hmac.Equal([]byte(sig), []byte(h.sign("flash", payload))) {
		return
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return
	}
	rc := getRC(c)
	if json.Unmarshal(raw, &rc.flashes) == nil && len(rc.flashes) > 0 {
		rc.hadFlashes = true
	}
}

// saveFlashes writes the messages still to show into the flash cookie, or
// deletes it once they are shown.
func (h *Handlers) saveFlashes(c *fiber.Ctx) {
	rc := getRC(c)
	switch {
	case len(rc.flashes) > 0:
		if len(rc.flashes) > maxFlashes {
			rc.flashes = rc.flashes[len(rc.flashes)-maxFlashes:]
		}
		raw, _ := json.Marshal(rc.flashes)
		payload := b64.EncodeToString(raw)
		h.setCookie(c, flashCookie, payload+"."+h.sign("flash", payload), 0)
		rc.hadFlashes = true
	case rc.hadFlashes:
		h.setCookie(c, flashCookie, "", -1)
		rc.hadFlashes = false
	}
}

// setLanguageCookie keeps a signed-out visitor's language choice.
func (h *Handlers) setLanguageCookie(c *fiber.Ctx, lang string) {
	h.setCookie(c, langCookie, lang, 365*24*3600)
}

// cookieLanguage is the language chosen while signed out ("" when none).
func cookieLanguage(c *fiber.Ctx) string {
	if l := c.Cookies(langCookie); locale.Supported(l) {
		return l
	}
	return ""
}

package handlers

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/locale"
	"tracpro/models"
)

// Page is what every template receives: the request's user, org, language and
// helpers, plus the view's own Data.
type Page struct {
	rc      *reqCtx
	h       *Handlers
	Title   string
	Data    any
	Errors  map[string]string // field -> message, for 422 forms
	Flashes []models.Flash
	Path    string
	Query   string
}

// T translates a string into the request's language.
func (p *Page) T(msgid string, args ...any) string { return p.rc.cat.T(msgid, args...) }

// N translates a singular/plural pair.
func (p *Page) N(singular, plural string, n int, args ...any) string {
	return p.rc.cat.N(singular, plural, n, args...)
}

// Lang is the page language; Dir its writing direction.
func (p *Page) Lang() string { return p.rc.cat.Lang }

// Dir is "rtl" for right-to-left languages, else "ltr".
func (p *Page) Dir() string {
	if locale.RTL(p.rc.cat.Lang) {
		return "rtl"
	}
	return "ltr"
}

// Asset returns the content-hashed URL of a static file.
func (p *Page) Asset(name string) string { return p.h.assets.url(name) }

// CSRF is the request's CSRF token (the session's, or an anonymous visitor's).
func (p *Page) CSRF() string { return p.rc.csrf }

// CSRFField is the hidden input every form carries.
func (p *Page) CSRFField() template.HTML {
	return template.HTML(`<input type="hidden" name="_csrf" value="` + template.HTMLEscapeString(p.CSRF()) + `">`)
}

// HXHeaders is the hx-headers value carrying the CSRF token for htmx requests.
func (p *Page) HXHeaders() string { return `{"X-CSRF-Token":"` + p.CSRF() + `"}` }

// User is the signed-in user (nil when anonymous).
func (p *Page) User() *models.User { return p.rc.user }

// Org is the request's org (nil when none).
func (p *Page) Org() *models.Org { return p.rc.org }

// Role is the user's role in the org.
func (p *Page) Role() string { return p.rc.role }

// IsAdmin reports administrator (or superuser) rights in the org.
func (p *Page) IsAdmin() bool { return p.rc.atLeast(models.RoleAdmin) }

// IsSupervisor reports supervisor rights or more.
func (p *Page) IsSupervisor() bool { return p.rc.atLeast(models.RoleSupervisor) }

// IsSuperuser reports site-wide rights.
func (p *Page) IsSuperuser() bool { return p.rc.user != nil && p.rc.user.IsSuperuser }

// Languages are the choices of the footer switcher: the org's languages.
func (p *Page) Languages() []LangChoice {
	langs := locale.Languages
	if p.rc.org != nil && len(p.rc.org.Languages) > 0 {
		langs = p.rc.org.Languages
	}
	out := make([]LangChoice, 0, len(langs))
	for _, l := range langs {
		out = append(out, LangChoice{Code: l, Name: locale.Names[l], Current: l == p.rc.cat.Lang})
	}
	return out
}

// LangChoice is one entry of the language switcher.
type LangChoice struct {
	Code, Name string
	Current    bool
}

// Scope is the request's panel scope (nil without an org or a signed-in member).
func (p *Page) Scope() *models.Scope { return p.rc.scope }

// Status is the org's sync status (for the banners and the "data as of" badge).
func (p *Page) Status() *models.SyncStatus { return p.rc.status }

// Error returns the message of a field error ("" when none).
func (p *Page) Error(field string) string { return p.Errors[field] }

// Active reports whether the nav item for prefix is the current page.
func (p *Page) Active(prefix string) bool {
	if prefix == "/" {
		return p.Path == "/"
	}
	return strings.HasPrefix(p.Path, prefix)
}

// page builds the template data of a request.
func (h *Handlers) page(c *fiber.Ctx, title string, data any) *Page {
	rc := getRC(c)
	p := &Page{rc: rc, h: h, Title: title, Data: data, Path: c.Path(), Query: string(c.Request().URI().QueryString())}
	p.Flashes, rc.flashes = rc.flashes, nil
	return p
}

// isFragment applies DESIGN.md §4: a fragment only for an htmx request that is
// not boosted, not a history restore, and not of type "full".
func isFragment(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true" &&
		c.Get("HX-History-Restore-Request") != "true" && c.Get("HX-Request-Type") != "full"
}

// render serves the view as a full page or, for htmx, as the fragment alone.
// It is the one place that makes that choice.
func (h *Handlers) render(c *fiber.Ctx, status int, view string, p *Page) error {
	c.Vary("HX-Request")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(status)
	if isFragment(c) {
		return c.Render(view, p)
	}
	return c.Render(view, p, "layouts/base")
}

// flash queues a one-time message for the next page (a signed cookie:
// anonymous.go), once: a message queued again before a page showed it (each
// request redirected to the same page, e.g. to register a passkey, queues
// it) is not repeated.
func flash(c *fiber.Ctx, kind, message string) {
	rc := getRC(c)
	for _, f := range rc.flashes {
		if f.Kind == kind && f.Message == message {
			return
		}
	}
	rc.flashes = append(rc.flashes, models.Flash{Kind: kind, Message: message})
}

// redirect answers a successful plain POST with 303 to a GET page, and an
// htmx one with HX-Redirect (htmx follows it with a full load).
func redirect(c *fiber.Ctx, to string) error {
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// fieldErrors turns an application error into per-field messages, translated.
func fieldErrors(rc *reqCtx, err error) map[string]string {
	out := map[string]string{}
	var e *models.Error
	if ok := asAppError(err, &e); ok {
		field := e.Field
		if field == "" {
			field = "_form"
		}
		out[field] = rc.cat.T(e.Message)
		return out
	}
	out["_form"] = rc.cat.T("Something went wrong. Please try again.")
	return out
}

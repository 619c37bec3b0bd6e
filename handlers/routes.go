// Package handlers is TracPro's HTTP layer (Fiber). routes.go is the route
// table: every URL the app serves is listed here, grouped by area, with the
// middleware order.
package handlers

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/template/html/v2"

	"tracpro/assets"
	"tracpro/jobs"
	"tracpro/models"
	"tracpro/templates"
)

// Handlers holds the dependencies of every handler.
type Handlers struct {
	DB      *models.DB
	Syncer  *jobs.Syncer // for "sync now" and background tasks; nil in tests that need none
	Log     *slog.Logger
	Domain  string // TRACPRO_DOMAIN: orgs are <subdomain>.<Domain>
	Secure  bool   // cookies only over HTTPS
	BaseURL string // public URL, for links printed by the CLI
	Started time.Time

	assets *assetSet
}

// Route is one entry of the route table (for the authorization matrix test).
type Route struct {
	Method, Path string
}

// New builds the Fiber app with its middleware and routes.
func New(h *Handlers) (*fiber.App, error) {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.Started.IsZero() {
		h.Started = time.Now()
	}
	var err error
	if h.assets, err = newAssetSet(assets.FS); err != nil {
		return nil, err
	}
	engine := html.NewFileSystem(http.FS(templates.FS), ".html")
	engine.AddFunc("indent", func(depth int) string { return strings.Repeat("\u00a0\u00a0", depth) })
	app := fiber.New(fiber.Config{
		AppName:               "tracpro",
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		BodyLimit:             1 << 20,
		Views:                 engine,
		ErrorHandler:          h.errorHandler,
	})

	// Middleware, in order: panics become 500s; security headers on every
	// response; compression; static files (no session needed); then the org
	// of the host, the session (user, role, language, panel scope) and the
	// CSRF check of every POST.
	app.Use(recover.New())
	app.Use(securityHeaders)
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	app.Get("/static/*", h.assets.serve)

	// Health (no authentication; orchestrators and `tracpro healthcheck`).
	app.Get("/livez", h.healthLive)
	app.Get("/readyz", h.healthReady)

	app.Use(h.resolveOrg, h.loadSession, h.csrf)

	// Sign-in and language (public).
	app.Get("/users/login/", h.authLoginForm)
	app.Post("/users/login/", h.authLogin)
	app.Post("/users/logout/", h.authLogout)
	app.Post("/i18n/setlang/", h.authSetLanguage)

	// Route guards, composed per route (never a path-less group, which
	// would apply to every later route).
	member := func(hs ...fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{h.requireLogin, h.requireOrg}, hs...)
	}
	supervisor := func(hs ...fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{h.requireLogin, h.requireOrg, h.requireRole(models.RoleSupervisor)}, hs...)
	}
	admin := func(hs ...fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{h.requireLogin, h.requireOrg, h.requireRole(models.RoleAdmin)}, hs...)
	}
	signedIn := func(hs ...fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{h.requireLogin}, hs...)
	}
	superuser := func(hs ...fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{h.requireLogin, h.requireSuperuser}, hs...)
	}
	_, _, _, _ = supervisor, admin, signedIn, superuser

	// Home and panel scope (signed-in members of the org).
	app.Get("/", member(h.homeIndex)...)
	app.Post("/set-region/", member(h.panelSet)...)
	app.Post("/toggle-subregions/", member(h.panelToggleSub)...)

	// Passkeys (sign-in ceremonies are public; management needs a sign-in).

	// Profile and supervisors.

	// Orgs: site management (superusers), My organization and setup (administrators).

	// Panel tree (administrators).

	return app, nil
}

// Package handlers is TracPro's HTTP layer (Fiber). routes.go is the route
// table: every URL the app serves is listed here, grouped by area, with the
// middleware order.
package handlers

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/template/html/v2"

	"tracpro/assets"
	"tracpro/charts"
	"tracpro/jobs"
	"tracpro/metrics"
	"tracpro/models"
	"tracpro/templates"
)

// Handlers holds the dependencies of every handler.
type Handlers struct {
	DB     *models.DB
	Syncer *jobs.Syncer // for "sync now" and background tasks; nil in tests that need none
	Log    *slog.Logger
	Domain string // TRACPRO_DOMAIN: orgs are <subdomain>.<Domain>
	Secure bool   // cookies only over HTTPS
	// TrustedProxies (TRACPRO_TRUSTED_PROXIES, see ParseTrustedProxies): the
	// peers whose X-Forwarded-* headers count (proxy.go); none when empty.
	TrustedProxies []string
	BaseURL        string // public URL, for links printed by the CLI
	Started        time.Time
	// Operations: request metrics (nil: none) and the System page's view of
	// Litestream (its Prometheus URL, TRACPRO_LITESTREAM_METRICS; "" = not replicated).
	Metrics           *metrics.Metrics
	LitestreamMetrics string

	assets    *assetSet
	cookieKey []byte                       // signs the cookies of anonymous.go
	worker    atomic.Pointer[workerScript] // /sw.js (offline.go)
	geo       charts.GeoCache              // simplified boundary shapes of the maps (maps.go)
	trusted   []*net.IPNet                 // TrustedProxies as networks
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
	if h.trusted, err = trustedNets(h.TrustedProxies); err != nil {
		return nil, err
	}
	if h.cookieKey, err = h.DB.CookieKey(context.Background()); err != nil {
		// A database whose schema is behind (/readyz says so): sign with a
		// key of this process instead, never with none.
		h.Log.Warn("no cookie key in the database; using one for this run", "err", err)
		h.cookieKey = make([]byte, 32)
		if _, err := rand.Read(h.cookieKey); err != nil {
			return nil, err
		}
	}
	if err = h.loadWorker(); err != nil {
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
		// The send-message confirmation is a GET carrying the text: 640
		// characters of 4-byte UTF-8, percent-encoded, are 7.5 KB (the
		// default 4 KB buffer answered 431).
		ReadBufferSize: 16 << 10,
		Views:          engine,
		ErrorHandler:   h.errorHandler,
		// X-Forwarded-* only from the configured proxies (proxy.go); c.IP()
		// stays the peer (no ProxyHeader): clientIP reads X-Forwarded-For.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          h.TrustedProxies,
	})

	// Middleware, in order: request metrics; panics become 500s; security headers on every
	// response; compression; static files (no session needed); then the org
	// of the host, the session (user, role, language, panel scope) and the
	// CSRF check of every POST.
	app.Use(h.observeHTTP)
	app.Use(recover.New())
	app.Use(securityHeaders)
	// Pages and fragments at the default level (≈ 15 % fewer bytes than the
	// fastest for ≈ 0.3 ms of CPU on a 16 KB fragment: issue #4's 4 KB swap
	// budget); streamed CSV exports at the fastest.
	csvExport := func(c *fiber.Ctx) bool { return c.Query("_format") == "csv" }
	app.Use(compress.New(compress.Config{Level: compress.LevelDefault, Next: csvExport}))
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed, Next: func(c *fiber.Ctx) bool { return !csvExport(c) }}))
	app.Get("/static/*", h.assets.serve)
	app.Get("/favicon.ico", h.assets.favicon)
	// The service worker, at the root so its scope covers every page (offline.go).
	app.Get("/sw.js", h.serviceWorker)

	// Health (no authentication; orchestrators and `tracpro healthcheck`).
	app.Get("/livez", h.healthLive)
	app.Get("/readyz", h.healthReady)

	app.Use(h.resolveOrg, h.loadSession, h.offlineHeaders, h.csrf)

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

	// Offline reading (offline.go): the dashboard pages a signed-in member
	// opened may be kept by the service worker (h.keepable, never on a page
	// with personal data or of administration); the Offline page lists them.
	app.Get("/offline/", member(h.offlineIndex)...)

	// Home, start poll and restart. Home and the panel scope: signed-in
	// members of the org; starting polls: supervisors and up.
	app.Get("/", member(h.keepable, h.homeIndex)...)
	app.Post("/set-region/", member(h.panelSet)...)
	app.Post("/toggle-subregions/", member(h.panelToggleSub)...)
	app.Post("/pollrun/create/", supervisor(h.pollrunStart)...)
	app.Post("/pollrun/restart/", supervisor(h.pollrunRestart)...)
	app.Get("/pollrun/start/:id/", supervisor(h.pollrunStartProgress)...)

	// Passkeys (sign-in ceremonies are public; management needs a sign-in).
	// Registering is public at the route: the handler needs the signed-in
	// user or the user an enrolment link admitted in this session.
	app.Get("/passkeys/", signedIn(h.passkeyIndex)...)
	app.Post("/passkeys/:id/rename", signedIn(h.passkeyRename)...)
	app.Post("/passkeys/:id/delete", signedIn(h.passkeyDelete)...)
	app.Get("/passkeys/enrol/:token", h.passkeyEnrol)
	app.Post("/passkeys/register/begin", h.passkeyRegisterBegin)
	app.Post("/passkeys/register/finish", h.passkeyRegisterFinish)
	app.Post("/passkeys/login/begin", h.passkeyLoginBegin)
	app.Post("/passkeys/login/finish", h.passkeyLoginFinish)

	// Profile and supervisors.
	app.Get("/profile/self/", signedIn(h.profileSelfForm)...)
	app.Post("/profile/self/", signedIn(h.profileSelf)...)
	app.Get("/user/", admin(h.userList)...)
	app.Get("/user/create/", admin(h.userCreateForm)...)
	app.Post("/user/create/", admin(h.userCreate)...)
	app.Get("/user/read/:id/", supervisor(h.userRead)...)
	app.Get("/user/update/:id/", admin(h.userUpdateForm)...)
	app.Post("/user/update/:id/", admin(h.userUpdate)...)

	// Orgs: site management (superusers), My organization and setup (administrators).
	app.Get("/manage/org/", superuser(h.orgList)...)
	app.Get("/manage/org/create/", superuser(h.orgFormShow)...)
	app.Post("/manage/org/create/", superuser(h.orgSave)...)
	app.Get("/manage/org/update/:id/", superuser(h.orgFormShow)...)
	app.Post("/manage/org/update/:id/", superuser(h.orgSave)...)
	app.Get("/manage/org/chooser/", superuser(h.orgChooser)...)
	app.Post("/manage/org/choose/", superuser(h.orgChoose)...)

	// System (superusers): storage, schema, replication, pull health, outbox.
	app.Get("/manage/system/", superuser(h.systemShow)...)

	app.Get("/manage/org/home/", admin(h.orgHome)...)
	app.Post("/manage/org/sync/", admin(h.orgSyncNow)...)
	app.Get("/manage/org/edit/", admin(h.orgEditForm)...)
	app.Post("/manage/org/edit/", admin(h.orgEdit)...)
	app.Get("/region/select/", admin(h.wizardForm("regions"))...)
	app.Post("/region/select/", admin(h.wizardSave("regions"))...)
	app.Get("/group/select/", admin(h.wizardForm("cohorts"))...)
	app.Post("/group/select/", admin(h.wizardSave("cohorts"))...)
	app.Get("/poll/select/", admin(h.wizardForm("polls"))...)
	app.Post("/poll/select/", admin(h.wizardSave("polls"))...)
	app.Get("/manage/org/fetchruns/", admin(h.orgFetchRunsForm)...)
	app.Post("/manage/org/fetchruns/", admin(h.orgFetchRuns)...)
	app.Get("/tasks/:id/", admin(h.taskShow)...)
	if h.Syncer != nil {
		// Background tasks stop with the server.
		app.Hooks().OnShutdown(func() error { jobs.Tasks(h.Syncer).Shutdown(8 * time.Second); return nil })
	}

	// Panel tree (administrators).
	app.Get("/region/", admin(h.panelTree)...)
	app.Post("/region/:id/update/", admin(h.panelUpdate)...)

	// Polls, poll runs and responses.
	app.Get("/poll/", admin(h.pollList)...)
	app.Get("/poll/update/:id/", admin(h.pollUpdateForm)...)
	app.Post("/poll/update/:id/", admin(h.pollUpdate)...)
	app.Get("/poll/read/:id/", supervisor(h.keepable, h.pollRead)...)
	app.Get("/pollrun/", supervisor(h.pollrunList)...)
	app.Get("/pollrun/by_poll/:poll/", supervisor(h.pollrunByPoll)...)
	app.Get("/pollrun/read/:id/", supervisor(h.keepable, h.pollrunRead)...)
	app.Get("/pollrun/participation/:id/", supervisor(h.keepable, h.pollrunParticipation)...)
	app.Get("/response/by_pollrun/:id/", supervisor(h.responseByPollrun)...)
	app.Get("/response/by_contact/:id/", supervisor(h.responseByContact)...)

	// Maps (maps.go): a poll run's Map tab; a poll's is /poll/read/:id/?view=map.
	app.Get("/pollrun/map/:id/", supervisor(h.keepable, h.pollrunMap)...)

	// Contacts (supervisors and up, own panels only) and their pushes to
	// RapidPro (the org-wide list: administrators).
	app.Get("/contact/", supervisor(h.contactList)...)
	app.Get("/contact/create/", supervisor(h.contactCreateForm)...)
	app.Post("/contact/create/", supervisor(h.contactCreate)...)
	app.Get("/contact/read/:id/", supervisor(h.contactRead)...)
	app.Get("/contact/update/:id/", supervisor(h.contactUpdateForm)...)
	app.Post("/contact/update/:id/", supervisor(h.contactUpdate)...)
	app.Get("/contact/delete/:id/", supervisor(h.contactDeleteForm)...)
	app.Post("/contact/delete/:id/", supervisor(h.contactDelete)...)
	app.Get("/contact/pushes/", admin(h.contactPushes)...)

	// Messages, inbox and participation across polls (issue #5): sending
	// and reading in scope for supervisors; the message log for administrators.
	app.Get("/message/", admin(h.messageList)...)
	app.Get("/message/send/", supervisor(h.messageConfirm)...)
	app.Post("/message/send/", supervisor(h.messageSend)...)
	app.Get("/message/by_contact/:id/", supervisor(h.messageByContact)...)
	app.Get("/inboxmessage/", supervisor(h.inboxList)...)
	app.Get("/inboxmessage/conversation/:contact_id/", supervisor(h.inboxConversation)...)
	app.Post("/inboxmessage/conversation/:contact_id/", supervisor(h.inboxReply)...)
	app.Post("/inboxmessage/archive/:contact_id/", supervisor(h.inboxArchive)...)
	app.Get("/participation/", supervisor(h.participationAll)...)

	// Recent indicators and spoof data (SPEC §2.3 /indicators/…, §3.6):
	// supervisors and up; the spoof routes are 404 unless the org shows spoof data.
	app.Get("/indicators/", supervisor(h.indicatorList)...)
	app.Get("/indicators/create/", supervisor(h.indicatorCreateForm)...)
	app.Post("/indicators/create/", supervisor(h.indicatorCreate)...)
	app.Get("/indicators/read/:id/", supervisor(h.keepable, h.indicatorRead)...)
	app.Get("/indicators/update/:id/", supervisor(h.indicatorUpdateForm)...)
	app.Post("/indicators/update/:id/", supervisor(h.indicatorUpdate)...)
	app.Post("/indicators/delete/:id/", supervisor(h.indicatorDelete)...)
	app.Get("/indicators/data_spoof/", supervisor(h.spoofForm)...)
	app.Post("/indicators/data_spoof/", supervisor(h.spoofCreate)...)
	app.Post("/indicators/clear_spoof/", supervisor(h.spoofClear)...)

	return app, nil
}

// Package handlers is TracPro's HTTP layer (Fiber). routes.go is the route
// table: every URL the app serves is listed here, grouped by area.
package handlers

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Handlers holds the dependencies of every handler.
type Handlers struct {
	DB      *models.DB
	Log     *slog.Logger
	Started time.Time
}

// New builds the Fiber app with its middleware and routes.
func New(h *Handlers) *fiber.App {
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.Started.IsZero() {
		h.Started = time.Now()
	}
	app := fiber.New(fiber.Config{
		AppName:               "tracpro",
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		ErrorHandler:          h.errorHandler,
	})

	// Health (no authentication; used by orchestrators and `tracpro healthcheck`).
	app.Get("/livez", h.healthLive)
	app.Get("/readyz", h.healthReady)

	return app
}

// errorHandler maps errors to plain responses; never leaks internals.
func (h *Handlers) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	if e, ok := err.(*fiber.Error); ok {
		code = e.Code
	}
	if code >= 500 {
		h.Log.Error("request failed", "path", c.Route().Path, "err", err)
	}
	return c.Status(code).SendString(fiber.ErrInternalServerError.Message)
}

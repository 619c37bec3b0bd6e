package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthLive answers as long as the process serves HTTP (no dependencies).
func (h *Handlers) healthLive(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// healthReady answers 200 when the database is reachable and every migration
// embedded in this binary is applied (not merely the highest: a gap below it
// is a missing table), 503 otherwise.
func (h *Handlers) healthReady(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	missing, err := h.DB.MissingMigrations(ctx)
	switch {
	case err != nil:
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unreachable")
	case len(missing) > 0:
		return c.Status(fiber.StatusServiceUnavailable).SendString("schema not current")
	}
	return c.SendString("ok")
}

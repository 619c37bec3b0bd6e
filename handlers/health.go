package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// healthLive answers as long as the process serves HTTP (no dependencies).
func (h *Handlers) healthLive(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// healthReady answers 200 when the database is reachable and its schema is the
// one this binary expects, 503 otherwise.
func (h *Handlers) healthReady(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	v, err := h.DB.SchemaVersion(ctx)
	switch {
	case err != nil:
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unreachable")
	case v != models.LatestVersion():
		return c.Status(fiber.StatusServiceUnavailable).SendString("schema not current")
	}
	return c.SendString("ok")
}

package handlers

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// How long a client is asked to wait (Retry-After) when the database could
// not take a write: another writer held it past the busy timeout, or the
// disk is full.
const (
	retryLocked = 5 * time.Second
	retryFull   = 5 * time.Minute
)

// errorHandler maps errors to the error page (403, 404, 422, 500, 503):
// translated, never leaking internals; a fragment for htmx requests, JSON for
// the passkey ceremonies. A write the database could not take (locked past
// the busy timeout, disk full) is a 503 with Retry-After, never a 500.
func (h *Handlers) errorHandler(c *fiber.Ctx, err error) error {
	setSecurityHeaders(c)
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	rc := getRC(c)
	var title, text string
	switch {
	case models.IsLocked(err):
		code = fiber.StatusServiceUnavailable
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retryLocked.Seconds())))
		h.Log.Warn("database busy: write refused", "route", c.Route().Path, "method", c.Method(), "err", err)
		title, text = rc.cat.T("Busy"), rc.cat.T("TracPro is busy saving other changes. Nothing was saved: try again in a few seconds.")
	case models.IsStorageFull(err):
		code = fiber.StatusServiceUnavailable
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retryFull.Seconds())))
		h.Log.Error("database cannot be written (disk full or read-only): write refused", "route", c.Route().Path, "method", c.Method(), "err", err)
		title, text = rc.cat.T("Cannot save now"), rc.cat.T("The server's storage is full, so nothing can be saved. Pages can still be read; try again later.")
	case code >= 500:
		h.Log.Error("request failed", "route", c.Route().Path, "method", c.Method(), "err", err)
	}
	switch code {
	case fiber.StatusServiceUnavailable:
	case fiber.StatusForbidden:
		title, text = rc.cat.T("Not allowed"), rc.cat.T("You do not have access to this page.")
		if fe != nil && fe.Message == "csrf" {
			text = rc.cat.T("Your form expired. Go back, reload the page and try again.")
		}
	case fiber.StatusNotFound:
		title, text = rc.cat.T("Not found"), rc.cat.T("There is no such page.")
	case fiber.StatusMethodNotAllowed:
		title, text = rc.cat.T("Not allowed"), rc.cat.T("This page cannot be used that way.")
	case fiber.StatusRequestEntityTooLarge, fiber.StatusRequestHeaderFieldsTooLarge, fiber.StatusRequestURITooLong:
		title, text = rc.cat.T("Request too large"), rc.cat.T("The request is too large. Shorten what you typed and try again.")
	case fiber.StatusUnprocessableEntity, fiber.StatusBadRequest:
		title, text = rc.cat.T("Invalid request"), rc.cat.T("The request could not be understood.")
	default:
		code = fiber.StatusInternalServerError
		title, text = rc.cat.T("Something went wrong"), rc.cat.T("Something went wrong. Please try again.")
	}
	if strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON) {
		return passkeyJSONError(c, code, text)
	}
	p := h.page(c, title, map[string]any{"Code": code, "Text": text})
	defer h.saveFlashes(c)
	if rerr := h.render(c, code, "errors/error", p); rerr != nil {
		h.Log.Error("error page failed", "err", rerr)
		return c.Status(code).SendString(text)
	}
	return nil
}

package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"
)

// errorHandler maps errors to the error page (403, 404, 422, 500): translated,
// never leaking internals; a fragment for htmx requests.
func (h *Handlers) errorHandler(c *fiber.Ctx, err error) error {
	setSecurityHeaders(c)
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	if code >= 500 {
		h.Log.Error("request failed", "route", c.Route().Path, "method", c.Method(), "err", err)
	}
	rc := getRC(c)
	var title, text string
	switch code {
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
	p := h.page(c, title, map[string]any{"Code": code, "Text": text})
	if rerr := h.render(c, code, "errors/error", p); rerr != nil {
		h.Log.Error("error page failed", "err", rerr)
		return c.Status(code).SendString(text)
	}
	return nil
}

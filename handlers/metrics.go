package handlers

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
)

// observeHTTP counts every request in the metrics by its route pattern (never
// the raw path, so labels stay bounded) and status class. It runs first, so a
// panic turned into an error by the recover middleware is counted as a 500.
func (h *Handlers) observeHTTP(c *fiber.Ctx) error {
	if h.Metrics == nil {
		return c.Next()
	}
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = errorStatus(err)
	}
	// After the chain, c.Route() is the last route that matched. When no
	// route did, that is a path-less middleware ("/"), while the request's
	// path is not "/".
	route := c.Route().Path
	if route == "/" && c.Path() != "/" {
		route = "unmatched"
	}
	h.Metrics.ObserveHTTP(route, c.Method(), status, time.Since(start))
	return err
}

// errorStatus is the status errorHandler answers err with.
func errorStatus(err error) int {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusForbidden, fiber.StatusNotFound, fiber.StatusMethodNotAllowed, fiber.StatusUnprocessableEntity, fiber.StatusBadRequest:
			return fe.Code
		}
	}
	return fiber.StatusInternalServerError
}

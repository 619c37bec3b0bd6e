package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// homeData is what the home page shows until the dashboards land: the
// viewer's panels in scope and the freshness of the org's data.
type homeData struct {
	NoPanels bool
}

// homeIndex is the home page.
func (h *Handlers) homeIndex(c *fiber.Ctx) error {
	rc := getRC(c)
	d := homeData{NoPanels: rc.scope != nil && len(rc.scope.UserPanels) == 0}
	return h.render(c, fiber.StatusOK, "home/index", h.page(c, rc.cat.T("Home"), d))
}

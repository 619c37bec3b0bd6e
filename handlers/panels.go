package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// panelSet selects the panel the session looks at (SPEC §2.2 set-region):
// a panel id the user may access, or "all" for administrators.
func (h *Handlers) panelSet(c *fiber.Ctx) error {
	rc := getRC(c)
	key := strconv.FormatInt(rc.org.ID, 10)
	v := c.FormValue("region")
	var id int64
	if v == "all" {
		if !rc.scope.AllPanelsAllowed() {
			return fiber.ErrBadRequest
		}
	} else {
		var err error
		if id, err = strconv.ParseInt(v, 10, 64); err != nil || !rc.scope.CanAccess(id) {
			return fiber.ErrBadRequest
		}
	}
	if rc.sess.Data.Panels == nil {
		rc.sess.Data.Panels = map[string]int64{}
	}
	rc.sess.Data.Panels[key] = id
	rc.dirty = true
	if id == 0 {
		flash(c, "success", rc.cat.T("Showing all panels."))
	} else if r, ok := rc.scope.Tree.Get(id); ok {
		flash(c, "success", rc.cat.T("Showing panel %s.", r.Name))
	}
	return redirect(c, safeNext(c.FormValue("next")))
}

// panelToggleSub switches sub-panels in or out of the data (SPEC §2.2).
func (h *Handlers) panelToggleSub(c *fiber.Ctx) error {
	rc := getRC(c)
	key := strconv.FormatInt(rc.org.ID, 10)
	var include bool
	switch c.FormValue("include_subregions") {
	case "1":
		include = true
	case "0":
	default:
		return fiber.ErrBadRequest
	}
	if rc.sess.Data.NoSubPanel == nil {
		rc.sess.Data.NoSubPanel = map[string]bool{}
	}
	if include {
		delete(rc.sess.Data.NoSubPanel, key)
		flash(c, "success", rc.cat.T("Sub-panels are included."))
	} else {
		rc.sess.Data.NoSubPanel[key] = true
		flash(c, "success", rc.cat.T("Sub-panels are left out."))
	}
	rc.dirty = true
	return redirect(c, safeNext(c.FormValue("next")))
}

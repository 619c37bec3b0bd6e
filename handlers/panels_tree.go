package handlers

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// treeRow is one panel of the panel tree page, with the choices of its form.
type treeRow struct {
	models.Region
	Depth    int
	Boundary string
	Contacts int
	Parents  []models.Region // active panels that may be its parent
}

// treeData is the panel tree page.
type treeData struct {
	Rows        []treeRow
	Boundaries  []models.BoundaryChoice
	NoBoundary  bool // no panel has a boundary: maps cannot be drawn
	HasPanels   bool
	ErrorsPanel int64 // the panel whose form the errors belong to
}

// panelTreeLoad reads the org's active panels in tree order (depth first,
// by name) with their boundary, contact count and possible parents.
func (h *Handlers) panelTreeLoad(c *fiber.Ctx) (treeData, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	var d treeData
	tree, err := h.DB.LoadPanelTree(ctx, rc.org.ID)
	if err != nil {
		return d, err
	}
	counts, err := h.DB.RegionContactCounts(ctx, rc.org.ID)
	if err != nil {
		return d, err
	}
	if d.Boundaries, err = h.DB.ListBoundaryChoices(ctx, rc.org.ID); err != nil {
		return d, err
	}
	names := map[int64]string{}
	for _, b := range d.Boundaries {
		names[b.ID] = b.Name
	}
	children := map[int64][]models.Region{}
	for _, r := range tree.Panels {
		parent := r.ParentID
		if _, ok := tree.Get(parent); !ok {
			parent = 0
		}
		children[parent] = append(children[parent], r)
	}
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		for _, r := range children[parent] {
			below := map[int64]bool{r.ID: true}
			for _, id := range tree.Descendants(r.ID) {
				below[id] = true
			}
			row := treeRow{Region: r, Depth: depth, Boundary: names[r.BoundaryID], Contacts: counts[r.ID]}
			for _, p := range tree.Panels {
				if !below[p.ID] {
					row.Parents = append(row.Parents, p)
				}
			}
			d.Rows = append(d.Rows, row)
			walk(r.ID, depth+1)
		}
	}
	walk(0, 0)
	d.HasPanels = len(d.Rows) > 0
	d.NoBoundary = d.HasPanels
	for _, r := range d.Rows {
		if r.BoundaryID != 0 {
			d.NoBoundary = false
		}
	}
	return d, nil
}

// panelTree lists the panel tree with a parent/boundary form per panel.
func (h *Handlers) panelTree(c *fiber.Ctx) error {
	rc := getRC(c)
	d, err := h.panelTreeLoad(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "panels/tree", h.page(c, rc.cat.T("Panels"), d))
}

// formID reads an optional id field ("" = 0); ok is false when malformed.
func formID(c *fiber.Ctx, key string) (int64, bool) {
	v := c.FormValue(key)
	if v == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id >= 0
}

// panelUpdate sets a panel's parent and boundary. A panel of another org is
// not found; a parent that is the panel itself or below it, or a boundary
// of another org, is refused with 422.
func (h *Handlers) panelUpdate(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	parent, ok1 := formID(c, "parent")
	boundary, ok2 := formID(c, "boundary")
	if !ok1 || !ok2 {
		return fiber.ErrBadRequest
	}
	err = h.DB.UpdateRegion(c.UserContext(), rc.org.ID, id, parent, boundary)
	switch models.ErrorCode(err) {
	case "":
		if err != nil {
			return err
		}
		flash(c, "success", rc.cat.T("The panel was saved."))
		return redirect(c, "/region/")
	case models.CodeNotFound:
		return fiber.ErrNotFound
	case models.CodeInvalid:
		d, lerr := h.panelTreeLoad(c)
		if lerr != nil {
			return lerr
		}
		d.ErrorsPanel = id
		p := h.page(c, rc.cat.T("Panels"), d)
		p.Errors = map[string]string{}
		for k, v := range fieldErrors(rc, err) {
			p.Errors[fmt.Sprintf("%s-%d", k, id)] = v
		}
		return h.render(c, fiber.StatusUnprocessableEntity, "panels/tree", p)
	}
	return err
}

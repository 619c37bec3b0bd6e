package handlers

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// treeRow is one panel of the panel tree page; the panel being edited has
// the choices of its form.
type treeRow struct {
	models.Region
	Depth    int
	Boundary string
	Contacts int
	Edit     bool
	// The choices of its form (Edit): active panels that may be its
	// parent, and the org's boundaries.
	Parents    []models.Region
	Boundaries []models.BoundaryChoice
}

// treeData is the panel tree page. It edits one panel at a time (Editing):
// a form per row, with a select of every panel and every boundary, grew as
// panels × (panels + boundaries) (151 KB for the demo's 43 panels).
type treeData struct {
	Rows       []treeRow
	NoBoundary bool // no panel has a boundary: maps cannot be drawn
	HasPanels  bool
	Editing    int64 // the panel whose form is open (0 = none)
}

// panelTreeLoad reads the org's active panels in tree order (depth first,
// by name) with their boundary and contact count, and the choices of the
// form of panel edit (0 = none).
func (h *Handlers) panelTreeLoad(c *fiber.Ctx, edit int64) (treeData, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	d := treeData{Editing: edit}
	tree, err := h.DB.LoadPanelTree(ctx, rc.org.ID)
	if err != nil {
		return d, err
	}
	counts, err := h.DB.RegionContactCounts(ctx, rc.org.ID)
	if err != nil {
		return d, err
	}
	boundaries, err := h.DB.ListBoundaryChoices(ctx, rc.org.ID)
	if err != nil {
		return d, err
	}
	names := map[int64]string{}
	for _, b := range boundaries {
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
			row := treeRow{Region: r, Depth: depth, Boundary: names[r.BoundaryID], Contacts: counts[r.ID], Edit: r.ID == edit}
			if row.Edit {
				below := map[int64]bool{r.ID: true}
				for _, id := range tree.Descendants(r.ID) {
					below[id] = true
				}
				for _, p := range tree.Panels {
					if !below[p.ID] {
						row.Parents = append(row.Parents, p)
					}
				}
				row.Boundaries = boundaries
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

// panelTree lists the panel tree. ?edit=<panel> opens that panel's parent
// and boundary form: the whole page (a plain link), or, for htmx, the row
// alone (#panel-<id>), swapped in place. A panel that is not the org's is
// not found.
func (h *Handlers) panelTree(c *fiber.Ctx) error {
	rc := getRC(c)
	var edit int64
	if v := c.Query("edit"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fiber.ErrNotFound
		}
		edit = id
	}
	d, err := h.panelTreeLoad(c, edit)
	if err != nil {
		return err
	}
	found := edit == 0
	for _, r := range d.Rows {
		found = found || r.Edit
	}
	if !found {
		return fiber.ErrNotFound
	}
	p := h.page(c, rc.cat.T("Panels"), d)
	if edit != 0 && isFragment(c) {
		for _, r := range d.Rows {
			if r.ID == edit {
				p.Data = r
			}
		}
		return h.render(c, fiber.StatusOK, "panels/_row", p)
	}
	return h.render(c, fiber.StatusOK, "panels/tree", p)
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
		d, lerr := h.panelTreeLoad(c, id)
		if lerr != nil {
			return lerr
		}
		p := h.page(c, rc.cat.T("Panels"), d)
		p.Errors = map[string]string{}
		for k, v := range fieldErrors(rc, err) {
			p.Errors[fmt.Sprintf("%s-%d", k, id)] = v
		}
		return h.render(c, fiber.StatusUnprocessableEntity, "panels/tree", p)
	}
	return err
}

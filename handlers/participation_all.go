package handlers

import (
	"bufio"
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Participation across polls (issue #5): the contacts in scope × the most
// recent poll runs in scope, each cell answered / partial / none (asked,
// nothing answered) / not asked, with each contact's response rate; filters
// panel and cohort (a GET form), 50 contacts a page; ?_format=csv streams
// the same grid for every matching contact.

// participationAllData is the grid page.
type participationAllData struct {
	Panel, Cohort int64
	Panels        []models.ScopedPanel
	Cohorts       []models.FilterCohort
	Grid          *models.ParticipationGrid
	Pager         pager
	Query         string // the filters as "panel=…&cohort=…&" for links
}

// readGridFilter reads ?panel= and ?cohort= (a bad number is an invalid
// choice, refused with 422 by the model).
func readGridFilter(c *fiber.Ctx) models.GridFilter {
	var f models.GridFilter
	num := func(k string) int64 {
		v := c.Query(k)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	f.Panel, f.Cohort = num("panel"), num("cohort")
	return f
}

// participationAll serves the grid page, or its CSV.
func (h *Handlers) participationAll(c *fiber.Ctx) error {
	rc := getRC(c)
	f := readGridFilter(c)
	ctx := c.UserContext()
	if c.Query("_format") == "csv" {
		// Checked before streaming: a bad filter shows the page with the
		// message next to the filter (422), not a broken file.
		_, err := h.DB.ParticipationAll(ctx, rc.scope, f, 1, 1)
		if err == nil {
			return h.participationExport(c, f)
		}
		if models.ErrorCode(err) != models.CodeInvalid {
			return err
		}
	}
	d := participationAllData{Panel: max(f.Panel, 0), Cohort: max(f.Cohort, 0), Panels: rc.scope.UserPanelList()}
	var err error
	if d.Cohorts, err = h.DB.FilterCohorts(ctx, rc.org.ID); err != nil {
		return err
	}
	d.Query = "panel=" + gridIDParam(d.Panel) + "&cohort=" + gridIDParam(d.Cohort) + "&"
	page := listPage(c)
	d.Grid, err = h.DB.ParticipationAll(ctx, rc.scope, f, page, perPage)
	if err == nil && page > lastPage(d.Grid.Total) {
		page = lastPage(d.Grid.Total)
		d.Grid, err = h.DB.ParticipationAll(ctx, rc.scope, f, page, perPage)
	}
	status := fiber.StatusOK
	var errs map[string]string
	switch models.ErrorCode(err) {
	case "":
		d.Pager = newPager(page, d.Grid.Total, "/participation/?"+d.Query)
	case models.CodeInvalid:
		status, errs = fiber.StatusUnprocessableEntity, fieldErrors(rc, err)
	default:
		return err
	}
	p := h.page(c, rc.cat.T("Participation"), d)
	p.Errors = errs
	return h.render(c, status, "participation/all", p)
}

// participationExport streams the grid's CSV (every matching contact) of
// a filter already checked.
func (h *Handlers) participationExport(c *fiber.Ctx, f models.GridFilter) error {
	rc := getRC(c)
	labels := map[string]string{"Name": rc.cat.T("Name"), "URN": rc.cat.T("URN"), "Panel": rc.cat.T("Panel"), "Response rate": rc.cat.T("Response rate"),
		"answered": rc.cat.T("answered"), "partial": rc.cat.T("partial"), "none": rc.cat.T("none"), "Spoofed": rc.cat.T("Spoofed")}
	db, scope, log := h.DB, rc.scope, h.Log
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="participation.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		if n, err := db.ExportParticipationAll(ctx, w, scope, f, labels); err != nil {
			log.Error("participation csv failed", "rows", n, "err", err)
		}
	})
	return nil
}

// gridIDParam is an id as a query value ("" for none).
func gridIDParam(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

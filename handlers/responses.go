package handlers

import (
	"bufio"
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Responses (SPEC §2.3 /response/…): a poll run's Responses tab and its CSV
// export (SPEC §5), and a contact's responses.

// exportTimeout bounds a streamed CSV export.
const exportTimeout = 10 * time.Minute

// responseByPollrun is the Responses tab of a poll run (paginated), or with
// ?_format=csv the CSV of SPEC §5, streamed.
func (h *Handlers) responseByPollrun(c *fiber.Ctx) error {
	if c.Query("_format") == "csv" {
		return h.responseExport(c)
	}
	d, _, err := h.pollrunLoad(c, "responses")
	if err != nil {
		return err
	}
	rc := getRC(c)
	ctx := c.UserContext()
	qs, err := h.DB.PollQuestions(ctx, d.Run.PollID)
	if err != nil {
		return err
	}
	d.Questions = models.ActiveQuestions(qs)
	page := pageParam(c)
	rows, total, err := h.DB.PollrunResponses(ctx, d.Run.ID, rc.scope, page, perPage)
	if err != nil {
		return err
	}
	d.Responses = rows
	d.Pager = newPager(page, total, "/response/by_pollrun/"+strconv.FormatInt(d.Run.ID, 10)+"/?")
	return h.renderPollrun(c, d)
}

// responseExport streams the poll run's CSV (SPEC §5) in the request's panel
// scope. The rows are written by the stream writer after the handler
// returns, so everything it needs is copied out of the request first.
func (h *Handlers) responseExport(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	run, err := h.DB.PollrunHeader(c.UserContext(), rc.org.ID, id, rc.scope)
	if err != nil {
		return notFound(err)
	}
	db, org, scope, log := h.DB, rc.org, rc.scope, h.Log
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="responses.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		n, err := db.ExportResponses(ctx, w, org, run.PollID, run.ID, time.Time{}, scope)
		if err != nil {
			log.Error("csv export failed", "pollrun", run.ID, "rows", n, "err", err)
		}
	})
	return nil
}

// contactResponsesData is the responses-by-contact page.
type contactResponsesData struct {
	Contact   *models.ContactInScope
	Responses []models.ContactResponse
}

// Tab is the contact page's tab this page is (templates/contacts/tabs.html).
func (contactResponsesData) Tab() string { return "responses" }

// responseByContact lists a contact's responses: date, poll, and
// "n. question: answer" lines. Contacts outside the scope are not found.
func (h *Handlers) responseByContact(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ct, rs, err := h.DB.ContactResponses(c.UserContext(), rc.org.ID, id, rc.scope)
	if err != nil {
		return notFound(err)
	}
	d := contactResponsesData{Contact: ct, Responses: rs}
	return h.render(c, fiber.StatusOK, "responses/by_contact", h.page(c, ct.Name, d))
}

package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// pollrunStart starts a poll for the selected panel (SPEC §2.3
// /pollrun/create/): a regional poll run, or a propagated one when
// "propagate" is ticked; its flow starts go through the outbox. Success goes
// to the start's progress page.
func (h *Handlers) pollrunStart(c *fiber.Ctx) error {
	rc := getRC(c)
	region := rc.scope.Selected
	if v := strings.TrimSpace(c.FormValue("region")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fiber.ErrBadRequest
		}
		if !rc.scope.CanAccess(id) {
			return fiber.ErrForbidden
		}
		region = id
	}
	pollID, _ := strconv.ParseInt(strings.TrimSpace(c.FormValue("poll")), 10, 64)
	propagate := c.FormValue("propagate") == "1" || c.FormValue("propagate") == "on"
	var by int64
	if rc.user != nil {
		by = rc.user.ID
	}
	res, err := h.DB.StartPoll(c.UserContext(), models.PollStart{Org: rc.org, Scope: rc.scope, PollID: pollID, RegionID: region,
		Propagate: propagate, UserID: by})
	switch models.ErrorCode(err) {
	case "":
	case models.CodeForbidden:
		return fiber.ErrForbidden
	case models.CodeInvalid:
		d, lerr := h.homeLoad(c)
		if lerr != nil {
			return lerr
		}
		if d.Start != nil {
			d.Start.Poll, d.Start.Propagate, d.Start.Open = pollID, propagate, true
		}
		errs := fieldErrors(rc, err)
		if d.Start == nil {
			errs = map[string]string{"_form": errs[firstKey(errs)]}
		}
		return h.homeRender(c, fiber.StatusUnprocessableEntity, d, errs)
	default:
		return err
	}
	flash(c, "success", rc.cat.N("Poll started for %d contact.", "Poll started for %d contacts.", res.Contacts))
	return redirect(c, "/pollrun/start/"+strconv.FormatInt(res.PollrunID, 10)+"/")
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// pollrunRestart starts the poll again for the non-respondents of the latest
// regional or propagated poll run of the selected panel (SPEC §4.4; dead code
// in the original, §8): the contacts without a complete response.
func (h *Handlers) pollrunRestart(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("pollrun")), 10, 64)
	if err != nil {
		return fiber.ErrBadRequest
	}
	res, err := h.DB.RestartNonRespondents(c.UserContext(), rc.org, rc.scope, id)
	switch models.ErrorCode(err) {
	case "":
	case models.CodeNotFound:
		return fiber.ErrNotFound
	case models.CodeInvalid:
		prog, perr := h.DB.PollStartProgress(c.UserContext(), rc.scope, id)
		if models.ErrorCode(perr) == models.CodeNotFound {
			return fiber.NewError(fiber.StatusUnprocessableEntity, fieldErrors(rc, err)["pollrun"])
		}
		if perr != nil {
			return perr
		}
		p := h.page(c, rc.cat.T("Poll start"), prog)
		p.Errors = fieldErrors(rc, err)
		return h.render(c, fiber.StatusUnprocessableEntity, "start/progress", p)
	default:
		return err
	}
	flash(c, "success", rc.cat.N("Restarting %d non-respondent.", "Restarting %d non-respondents.", res.Contacts))
	return redirect(c, "/pollrun/start/"+strconv.FormatInt(id, 10)+"/")
}

// pollrunStartProgress shows the progress of a poll run's flow starts:
// batches pending, started, failed or of unknown outcome, the contacts
// started and the runs arrived so far. htmx polls the fragment every 3 s
// while batches are pending.
func (h *Handlers) pollrunStartProgress(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	prog, err := h.DB.PollStartProgress(c.UserContext(), rc.scope, id)
	if models.ErrorCode(err) == models.CodeNotFound {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "start/progress", h.page(c, rc.cat.T("Poll start"), prog))
}

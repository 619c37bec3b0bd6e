package handlers

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/jobs"
	"tracpro/models"
)

// Sub returns a copy of the page carrying other data, for a template
// included from a page about something else (e.g. a task's progress on
// "My organization").
func (p *Page) Sub(data any) *Page {
	q := *p
	q.Data = data
	return &q
}

// taskStart creates a task of kind for the org, refusing (with a flash) a
// second one of the same kind while the first runs. ok is false when
// refused or when there is no syncer to run it.
func (h *Handlers) taskStart(c *fiber.Ctx, kind string, params any) (*models.Task, bool, error) {
	rc := getRC(c)
	if h.Syncer == nil {
		flash(c, "error", rc.cat.T("Background work is not available on this server."))
		return nil, false, nil
	}
	var by int64
	if rc.user != nil {
		by = rc.user.ID
	}
	t, err := h.DB.CreateTask(c.UserContext(), rc.org.ID, kind, params, by)
	if models.ErrorCode(err) == models.CodeConflict {
		flash(c, "error", rc.cat.T("This task is already running. Wait for it to finish."))
		return nil, false, nil
	}
	return t, err == nil, err
}

// orgSyncNow runs every pull of the org now, in the background.
func (h *Handlers) orgSyncNow(c *fiber.Ctx) error {
	rc := getRC(c)
	t, ok, err := h.taskStart(c, models.TaskSync, nil)
	if err != nil {
		return err
	}
	if ok {
		jobs.Tasks(h.Syncer).StartSync(t, rc.org)
		flash(c, "success", rc.cat.T("Sync started. The table updates when it is done."))
	}
	return redirect(c, "/manage/org/home/")
}

// fetchRunsData is the "Fetch past runs" page.
type fetchRunsData struct {
	Step int
	Days string
	Task *models.Task
}

// orgFetchRunsForm shows step 4 of the setup: fetch past runs, with the
// progress of the latest fetch.
func (h *Handlers) orgFetchRunsForm(c *fiber.Ctx) error {
	rc := getRC(c)
	t, err := h.DB.LatestTask(c.UserContext(), rc.org.ID, models.TaskFetchRuns)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "orgs/fetchruns", h.page(c, rc.cat.T("Fetch past runs"), fetchRunsData{Step: 4, Days: "1", Task: t}))
}

// orgFetchRuns starts reading the runs of the last `days` days (≥ 1).
func (h *Handlers) orgFetchRuns(c *fiber.Ctx) error {
	rc := getRC(c)
	raw := strings.TrimSpace(c.FormValue("days"))
	days, err := strconv.Atoi(raw)
	if err != nil || days < 1 || days > 3660 {
		t, lerr := h.DB.LatestTask(c.UserContext(), rc.org.ID, models.TaskFetchRuns)
		if lerr != nil {
			return lerr
		}
		p := h.page(c, rc.cat.T("Fetch past runs"), fetchRunsData{Step: 4, Days: raw, Task: t})
		p.Errors = fieldErrors(rc, models.InvalidField("days", "Enter a whole number of days, 1 or more."))
		return h.render(c, fiber.StatusUnprocessableEntity, "orgs/fetchruns", p)
	}
	t, ok, err := h.taskStart(c, models.TaskFetchRuns, jobs.FetchRunsParams{Days: days})
	if err != nil {
		return err
	}
	if ok {
		jobs.Tasks(h.Syncer).StartFetchRuns(t, rc.org, days)
		flash(c, "success", rc.cat.T("Fetching past runs started."))
	}
	return redirect(c, "/manage/org/fetchruns/")
}

// taskShow is a task's progress: the fragment htmx polls every 2 s while the
// task runs, or a page when opened directly. Only the task's org sees it.
func (h *Handlers) taskShow(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	t, err := h.DB.TaskByID(c.UserContext(), id)
	if models.ErrorCode(err) == models.CodeNotFound || (err == nil && t.OrgID != rc.org.ID) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "tasks/progress", h.page(c, rc.cat.T("Task progress"), t))
}

// startBackfill starts the runs backfill task when the tracking just saved
// queued one (jobs.Track: panels or polls added) and says so. While a
// backfill task runs, the new queue is left to it and to the runs pull.
func (h *Handlers) startBackfill(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	pending, err := h.Syncer.PendingBackfills(ctx, rc.org.ID)
	if err != nil || len(pending) == 0 {
		return err
	}
	var by int64
	if rc.user != nil {
		by = rc.user.ID
	}
	t, err := h.DB.CreateTask(ctx, rc.org.ID, models.TaskBackfill, nil, by)
	if err == nil {
		jobs.Tasks(h.Syncer).StartBackfill(t, rc.org)
	} else if models.ErrorCode(err) != models.CodeConflict {
		return err
	}
	flash(c, "success", rc.cat.N("The past runs of %d poll are read again in the background for what became visible. My organization shows the progress.",
		"The past runs of %d polls are read again in the background for what became visible. My organization shows the progress.", len(pending)))
	return nil
}

// skipLabels says, per reason (jobs/skips.go), how many records a pull of
// resource skipped: contacts for the contacts pull, runs for the others.
func skipLabels(rc *reqCtx, resource string, skips map[string]int) []string {
	var out []string
	for _, k := range jobs.SkipReasons {
		n := skips[k]
		if n == 0 {
			continue
		}
		var s string
		switch {
		case resource == jobs.ResContacts && k == jobs.SkipNotInPanel:
			s = rc.cat.N("%d contact not in a tracked panel", "%d contacts not in a tracked panel", n)
		case resource == jobs.ResContacts && k == jobs.SkipNoURN:
			s = rc.cat.N("%d contact without a phone number or Twitter account", "%d contacts without a phone number or Twitter account", n)
		case resource == jobs.ResContacts && k == jobs.SkipInactive:
			s = rc.cat.N("%d contact blocked or stopped", "%d contacts blocked or stopped", n)
		case k == jobs.SkipNotInPanel:
			s = rc.cat.N("%d run of contacts not in a tracked panel", "%d runs of contacts not in a tracked panel", n)
		case k == jobs.SkipNoURN:
			s = rc.cat.N("%d run of contacts without a phone number or Twitter account", "%d runs of contacts without a phone number or Twitter account", n)
		case k == jobs.SkipInactive:
			s = rc.cat.N("%d run of blocked or stopped contacts", "%d runs of blocked or stopped contacts", n)
		case k == jobs.SkipUnknown:
			s = rc.cat.N("%d run of contacts unknown to RapidPro", "%d runs of contacts unknown to RapidPro", n)
		default:
			s = rc.cat.N("%d run of flows that are not polls", "%d runs of flows that are not polls", n)
		}
		out = append(out, s)
	}
	return out
}

package handlers

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/jobs"
	"tracpro/locale"
	"tracpro/models"
	"tracpro/rapidpro"
)

// orgRow is one line of the site-management list.
type orgRow struct {
	*models.Org
	LastSync int64
}

// orgList lists every org for superusers (SPEC §6).
func (h *Handlers) orgList(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	orgs, err := h.DB.ListOrgs(ctx, false)
	if err != nil {
		return err
	}
	rows := make([]orgRow, 0, len(orgs))
	for _, o := range orgs {
		st, err := h.DB.OrgSyncStatus(ctx, o.ID)
		if err != nil {
			return err
		}
		rows = append(rows, orgRow{Org: o, LastSync: st.LastSuccess})
	}
	return h.render(c, fiber.StatusOK, "orgs/list", h.page(c, rc.cat.T("Site management"), rows))
}

// orgForm is the create/update form of site management.
type orgForm struct {
	ID            int64
	Name          string
	Subdomain     string
	Timezone      string
	RapidProURL   string
	HasToken      bool
	Languages     map[string]bool
	Language      string
	SameDay       string
	ShowSpoofData bool
	AdminPasskeys bool
	IsActive      bool
	AllLanguages  []LangChoice
}

func newOrgForm(o *models.Org) orgForm {
	f := orgForm{Languages: map[string]bool{"en": true}, Language: "en", SameDay: "use_last", AdminPasskeys: true, IsActive: true}
	if o != nil {
		f = orgForm{ID: o.ID, Name: o.Name, Subdomain: o.Subdomain, Timezone: o.Timezone, RapidProURL: o.RapidProURL, HasToken: o.APIToken != "",
			Languages: map[string]bool{}, Language: o.Language, SameDay: o.SameDay, ShowSpoofData: o.ShowSpoofData, AdminPasskeys: o.AdminPasskeys, IsActive: o.IsActive}
		for _, l := range o.Languages {
			f.Languages[l] = true
		}
	}
	for _, l := range models.SupportedLanguages {
		f.AllLanguages = append(f.AllLanguages, LangChoice{Code: l, Name: locale.Names[l]})
	}
	return f
}

// formValues returns every value of a repeated form field.
func formValues(c *fiber.Ctx, key string) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(key) {
		if s := strings.TrimSpace(string(v)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// orgFormShow shows the create form (no id) or the update form.
func (h *Handlers) orgFormShow(c *fiber.Ctx) error {
	rc := getRC(c)
	if c.Params("id") == "" {
		return h.render(c, fiber.StatusOK, "orgs/form", h.page(c, rc.cat.T("New organization"), newOrgForm(nil)))
	}
	o, err := h.orgParam(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "orgs/form", h.page(c, rc.cat.T("Edit organization"), newOrgForm(o)))
}

func (h *Handlers) orgParam(c *fiber.Ctx) (*models.Org, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, fiber.ErrNotFound
	}
	o, err := h.DB.OrgByID(c.UserContext(), id)
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, fiber.ErrNotFound
	}
	return o, err
}

// orgSave creates or updates an org. The RapidPro URL and token are checked
// against RapidPro's org.json before anything is saved; on update an empty
// token keeps the stored one. A new org without a time zone takes the
// workspace's.
func (h *Handlers) orgSave(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	var old *models.Org
	if c.Params("id") != "" {
		var err error
		if old, err = h.orgParam(c); err != nil {
			return err
		}
	}
	s := models.OrgSettings{
		NewOrg: models.NewOrg{Name: c.FormValue("name"), Subdomain: c.FormValue("subdomain"), RapidProURL: c.FormValue("rapidpro_url"),
			Token: strings.TrimSpace(c.FormValue("token")), Timezone: strings.TrimSpace(c.FormValue("timezone")),
			Language: c.FormValue("language"), Languages: formValues(c, "languages")},
		SameDay: c.FormValue("sameday"), ShowSpoofData: c.FormValue("show_spoof_data") == "1",
		AdminPasskeys: c.FormValue("admin_passkeys") == "1", IsActive: c.FormValue("is_active") == "1",
	}
	if old == nil {
		s.IsActive = true
	}
	tokenChanged := s.Token != ""
	if old != nil && s.Token == "" {
		s.Token = old.APIToken
	}
	f := newOrgForm(old)
	f.Name, f.Subdomain, f.Timezone, f.RapidProURL, f.Language, f.SameDay = s.Name, s.Subdomain, s.Timezone, s.RapidProURL, s.Language, s.SameDay
	f.ShowSpoofData, f.AdminPasskeys, f.IsActive, f.HasToken = s.ShowSpoofData, s.AdminPasskeys, s.IsActive, s.Token != ""
	f.Languages = map[string]bool{}
	for _, l := range s.Languages {
		f.Languages[l] = true
	}
	title := rc.cat.T("New organization")
	if old != nil {
		title = rc.cat.T("Edit organization")
	}
	fail := func(errs map[string]string) error {
		p := h.page(c, title, f)
		p.Errors = errs
		return h.render(c, fiber.StatusUnprocessableEntity, "orgs/form", p)
	}
	tz := s.Timezone
	if tz == "" {
		s.Timezone = "UTC" // placeholder for validation: the workspace's is used
	}
	if err := s.Validate(); err != nil {
		return fail(fieldErrors(rc, err))
	}
	if old == nil || tokenChanged || s.RapidProURL != old.RapidProURL {
		info, err := h.checkRapidPro(ctx, s.RapidProURL, s.Token)
		if err != nil {
			msg := rc.cat.T("RapidPro could not be reached at this URL. Check it and try again.")
			if errors.Is(err, rapidpro.ErrToken) {
				msg = rc.cat.T("RapidPro refused this API token.")
			}
			h.Log.Warn("org token check failed", "subdomain", s.Subdomain, "kind", jobs.ErrorKind(err))
			return fail(map[string]string{"token": msg})
		}
		if tz == "" && info.Timezone != "" {
			s.Timezone = info.Timezone
		}
	}
	id := int64(0)
	if old != nil {
		id = old.ID
	}
	o, err := h.DB.SaveOrg(ctx, id, s)
	if err != nil {
		if c := models.ErrorCode(err); c == models.CodeInvalid || c == models.CodeConflict {
			return fail(fieldErrors(rc, err))
		}
		return err
	}
	flash(c, "success", rc.cat.T("Organization %s saved.", o.Name))
	return redirect(c, "/manage/org/")
}

// checkRapidPro reads RapidPro's org.json with the given URL and token.
func (h *Handlers) checkRapidPro(ctx context.Context, url, token string) (rapidpro.Org, error) {
	if h.Syncer != nil {
		return h.Syncer.PageClient(url, token, 0, 2, 0).Org(ctx)
	}
	return rapidpro.New(rapidpro.Options{BaseURL: url, Token: token, Timeout: 15 * time.Second, MaxAttempts: 2, Logger: h.Log}).Org(ctx)
}

// chooserOrg is an org offered by the chooser.
type chooserOrg struct {
	ID   int64
	Name string
	URL  string // "" when the org is chosen through the session
}

// orgChooser lists the active orgs a superuser can open.
func (h *Handlers) orgChooser(c *fiber.Ctx) error {
	rc := getRC(c)
	orgs, err := h.DB.ListOrgs(c.UserContext(), true)
	if err != nil {
		return err
	}
	out := make([]chooserOrg, 0, len(orgs))
	for _, o := range orgs {
		co := chooserOrg{ID: o.ID, Name: o.Name}
		if h.Domain != "" {
			co.URL = c.Protocol() + "://" + o.Subdomain + "." + h.Domain + "/"
		}
		out = append(out, co)
	}
	return h.render(c, fiber.StatusOK, "orgs/chooser", h.page(c, rc.cat.T("Choose an organization"), out))
}

// orgChoose opens the chosen org: its own URL under TRACPRO_DOMAIN, else the
// choice is kept in the session.
func (h *Handlers) orgChoose(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := strconv.ParseInt(c.FormValue("org"), 10, 64)
	if err != nil {
		return fiber.ErrBadRequest
	}
	o, err := h.DB.OrgByID(c.UserContext(), id)
	if err != nil || !o.IsActive {
		return fiber.ErrBadRequest
	}
	if h.Domain != "" {
		return c.Redirect(c.Protocol()+"://"+o.Subdomain+"."+h.Domain+"/", fiber.StatusSeeOther)
	}
	rc.sess.Data.Org = o.ID
	rc.dirty = true
	flash(c, "success", rc.cat.T("Showing %s.", o.Name))
	return redirect(c, "/")
}

// pullRow is one line of the sync status table of "My organization".
type pullRow struct {
	models.PullSummary
	Why []string // the skipped records by reason, e.g. "12 contacts not in a tracked panel"
}

// orgHomeData is "My organization".
type orgHomeData struct {
	Org          *models.Org
	Pulls        []pullRow
	Usage        []usageRow
	SyncTask     *models.Task
	FetchTask    *models.Task
	BackfillTask *models.Task
	Backfills    int // polls whose runs wait to be read again (jobs.QueueBackfills)
	TokenValid   bool
}

type usageRow struct {
	Scope string
	Used  int
}

// orgHome shows the org's settings and the status of every pull.
func (h *Handlers) orgHome(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	sums, err := h.DB.OrgPullSummaries(ctx, rc.org.ID)
	if err != nil {
		return err
	}
	d := orgHomeData{Org: rc.org, TokenValid: rc.org.APIToken != "" && (rc.status == nil || !rc.status.TokenInvalid)}
	for _, r := range append(append([]string{}, jobs.Resources...), "fetchruns", jobs.ResBackfill) {
		row := pullRow{PullSummary: models.PullSummary{Resource: r}}
		if s := sums[r]; s != nil {
			row.PullSummary = *s
			row.Why = skipLabels(rc, r, s.Skips)
		}
		d.Pulls = append(d.Pulls, row)
	}
	var used map[string]int
	if h.Syncer != nil {
		used = h.Syncer.Meter.Used(ctx, rc.org.ID)
	} else if used, err = h.DB.APIUsage(ctx, rc.org.ID, time.Now().Truncate(time.Hour).UnixMilli()); err != nil {
		return err
	}
	for _, s := range []string{"v2", "v2.contacts", "v2.runs", "v2.messages", "v2.broadcasts"} {
		d.Usage = append(d.Usage, usageRow{Scope: s, Used: used[s]})
	}
	if d.SyncTask, err = h.DB.LatestTask(ctx, rc.org.ID, models.TaskSync); err != nil {
		return err
	}
	if d.FetchTask, err = h.DB.LatestTask(ctx, rc.org.ID, models.TaskFetchRuns); err != nil {
		return err
	}
	if d.BackfillTask, err = h.DB.LatestTask(ctx, rc.org.ID, models.TaskBackfill); err != nil {
		return err
	}
	if h.Syncer != nil {
		pending, err := h.Syncer.PendingBackfills(ctx, rc.org.ID)
		if err != nil {
			return err
		}
		d.Backfills = len(pending)
	}
	return h.render(c, fiber.StatusOK, "orgs/home", h.page(c, rc.cat.T("My organization"), d))
}

// orgEditData is the "Edit my organization" form.
type orgEditData struct {
	Name     string
	Timezone string
	Fields   []models.DataField
}

// orgEditForm shows the administrators' edit form.
func (h *Handlers) orgEditForm(c *fiber.Ctx) error {
	rc := getRC(c)
	fields, err := h.DB.ListFields(c.UserContext(), rc.org.ID)
	if err != nil {
		return err
	}
	d := orgEditData{Name: rc.org.Name, Timezone: rc.org.Timezone, Fields: fields}
	return h.render(c, fiber.StatusOK, "orgs/edit", h.page(c, rc.cat.T("Edit my organization"), d))
}

// orgEdit saves the name, time zone and visible contact fields.
func (h *Handlers) orgEdit(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	e := models.EditOrg{Name: c.FormValue("name"), Timezone: strings.TrimSpace(c.FormValue("timezone")), VisibleFields: formValues(c, "fields")}
	if err := h.DB.UpdateOrgByAdmin(ctx, rc.org.ID, e); err != nil {
		if models.ErrorCode(err) != models.CodeInvalid {
			return err
		}
		fields, ferr := h.DB.ListFields(ctx, rc.org.ID)
		if ferr != nil {
			return ferr
		}
		show := map[string]bool{}
		for _, k := range e.VisibleFields {
			show[k] = true
		}
		for i := range fields {
			fields[i].ShowOnTracPro = show[fields[i].Key]
		}
		p := h.page(c, rc.cat.T("Edit my organization"), orgEditData{Name: e.Name, Timezone: e.Timezone, Fields: fields})
		p.Errors = fieldErrors(rc, err)
		return h.render(c, fiber.StatusUnprocessableEntity, "orgs/edit", p)
	}
	flash(c, "success", rc.cat.T("Your organization was saved."))
	return redirect(c, "/manage/org/home/")
}

// wizardChoice is one checkbox of a setup step.
type wizardChoice struct {
	Value    string
	Label    string
	Count    int
	Checked  bool
	Disabled bool // smart groups cannot be panels or cohorts
}

// wizardData is one selection step of the setup wizard (SPEC §2.3).
type wizardData struct {
	Step      int
	Heading   string
	Action    string
	Next      string
	NextLabel string
	Groups    bool // choices are groups (counts, smart groups)
	Choices   []wizardChoice
	PullError string
}

// wizardStep describes the selection steps: panels, cohorts, polls.
var wizardSteps = map[string]struct {
	step                         int
	heading, action, next, label string
	table                        string
}{
	"regions": {1, "Choose panels", "/region/select/", "/group/select/", "Next: cohorts", "regions"},
	"cohorts": {2, "Choose cohorts", "/group/select/", "/poll/select/", "Next: polls", "cohorts"},
	"polls":   {3, "Choose polls", "/poll/select/", "/manage/org/fetchruns/", "Next: fetch past runs", ""},
}

// wizardLoad builds a step's choices, pulling the group or flow list from
// RapidPro first when it was never pulled; checked is the submitted
// selection (nil = what is tracked now).
func (h *Handlers) wizardLoad(c *fiber.Ctx, kind string, checked map[string]bool) (wizardData, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	ws := wizardSteps[kind]
	d := wizardData{Step: ws.step, Heading: rc.cat.T(ws.heading), Action: ws.action, Next: ws.next, NextLabel: rc.cat.T(ws.label), Groups: ws.table != ""}
	resource := jobs.ResFlows
	if d.Groups {
		resource = jobs.ResGroups
	}
	sums, err := h.DB.OrgPullSummaries(ctx, rc.org.ID)
	if err != nil {
		return d, err
	}
	if s := sums[resource]; (s == nil || s.LastSuccess == 0) && h.Syncer != nil {
		if r := h.Syncer.Pull(ctx, rc.org, resource); r.Err != nil {
			d.PullError = rc.cat.T("RapidPro refused the request. Check the API token and try again later.")
			if jobs.ErrorKind(r.Err) != "token" {
				d.PullError = rc.cat.T("RapidPro appears to be down right now. Try again later.")
			}
		}
	}
	if d.Groups {
		groups, err := h.DB.ListRapidProGroups(ctx, rc.org.ID)
		if err != nil {
			return d, err
		}
		if checked == nil {
			if checked, err = h.DB.TrackedGroupUUIDs(ctx, rc.org.ID, ws.table); err != nil {
				return d, err
			}
		}
		for _, g := range groups {
			d.Choices = append(d.Choices, wizardChoice{Value: g.UUID, Label: g.Name, Count: g.Count, Checked: checked[g.UUID], Disabled: g.Query != ""})
		}
		return d, nil
	}
	polls, err := h.DB.ListPolls(ctx, rc.org.ID, false)
	if err != nil {
		return d, err
	}
	for _, p := range polls {
		on := p.IsActive
		if checked != nil {
			on = checked[p.FlowUUID]
		}
		d.Choices = append(d.Choices, wizardChoice{Value: p.FlowUUID, Label: p.DisplayName(), Checked: on})
	}
	return d, nil
}

// wizardForm shows a selection step.
func (h *Handlers) wizardForm(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		d, err := h.wizardLoad(c, kind, nil)
		if err != nil {
			return err
		}
		return h.render(c, fiber.StatusOK, "orgs/select", h.page(c, d.Heading, d))
	}
}

// wizardSave tracks the selected groups or flows (jobs.Track) and goes on
// to the next step. Unknown choices and smart groups are refused with 422.
func (h *Handlers) wizardSave(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		rc := getRC(c)
		ctx := c.UserContext()
		selected := formValues(c, "choices")
		set := map[string]bool{}
		for _, v := range selected {
			set[v] = true
		}
		d, err := h.wizardLoad(c, kind, set)
		if err != nil {
			return err
		}
		known := map[string]wizardChoice{}
		for _, ch := range d.Choices {
			known[ch.Value] = ch
		}
		var msg string
		for _, v := range selected {
			if ch, ok := known[v]; !ok {
				msg = "Choose among the listed items."
			} else if ch.Disabled {
				msg = "Smart groups cannot be panels or cohorts: choose manual groups."
			}
		}
		if msg == "" && h.Syncer == nil {
			msg = "Background work is not available on this server."
		}
		if msg == "" {
			refs := append([]string{}, selected...)
			var err error
			switch kind {
			case "regions":
				err = jobs.Track(ctx, h.Syncer, rc.org, refs, nil, nil, io.Discard)
			case "cohorts":
				err = jobs.Track(ctx, h.Syncer, rc.org, nil, refs, nil, io.Discard)
			default:
				err = jobs.Track(ctx, h.Syncer, rc.org, nil, nil, refs, io.Discard)
			}
			if err == nil {
				flash(c, "success", rc.cat.T("Your choice was saved."))
				if kind != "cohorts" { // cohorts queue no backfill (jobs.Track)
					if err := h.startBackfill(c); err != nil {
						return err
					}
				}
				return redirect(c, d.Next)
			}
			if models.ErrorCode(err) == "" {
				h.Log.Warn("setup step failed", "step", kind, "kind", jobs.ErrorKind(err), "err", err)
				msg = "RapidPro appears to be down right now. Try again later."
			} else {
				msg = "Choose among the listed items."
			}
		}
		p := h.page(c, d.Heading, d)
		p.Errors = fieldErrors(rc, models.InvalidField("choices", "%s", msg))
		return h.render(c, fiber.StatusUnprocessableEntity, "orgs/select", p)
	}
}

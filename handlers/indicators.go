package handlers

import (
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/charts"
	"tracpro/models"
)

// Recent indicators (SPEC §2.3 /indicators/…, §3.6): supervisors and up list,
// create, read, edit and delete the org's indicators; an indicator's page
// draws its baseline against its follow-up sums in the viewer's panels, with
// the filters of SPEC §2.4. The form's poll → question pickers are chained by
// htmx (the poll select asks its own form URL for the question select) and
// work without JavaScript as two steps ("Next" shows the questions).

// formErrors translates every field error of err ("_form" for errors that
// belong to no field).
func formErrors(rc *reqCtx, err error) map[string]string {
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		out := map[string]string{}
		for _, e := range fe {
			out[e.Field] = rc.cat.T(e.Message)
		}
		return out
	}
	return fieldErrors(rc, err)
}

// formInt reads a form or query value as an id (0 when absent or bad).
func formInt(v string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// indicatorListData is the indicators page.
type indicatorListData struct {
	Indicators []models.Indicator
	ShowSpoof  bool // the org's show_spoof_data: spoof buttons
	Spoofed    int  // spoofed poll runs of the org
}

// indicatorList lists the org's indicators, latest end date first.
func (h *Handlers) indicatorList(c *fiber.Ctx) error {
	rc := getRC(c)
	list, err := h.DB.ListIndicators(c.UserContext(), rc.org.ID, 0)
	if err != nil {
		return err
	}
	d := indicatorListData{Indicators: list, ShowSpoof: rc.org.ShowSpoofData}
	if d.ShowSpoof {
		if d.Spoofed, err = h.DB.CountSpoofed(c.UserContext(), rc.org.ID); err != nil {
			return err
		}
	}
	return h.render(c, fiber.StatusOK, "indicators/list", h.page(c, rc.cat.T("Indicators"), d))
}

// indicatorFormData is the create / edit form.
type indicatorFormData struct {
	ID                int64 // 0 = create
	In                models.IndicatorInput
	Polls             []models.Poll
	BaselineQuestions []models.Question // numeric questions of the chosen baseline poll
	FollowUpQuestions []models.Question
	Pick              string // the question field a chained fragment renders: baseline | follow_up
}

// Action is the form's URL.
func (d *indicatorFormData) Action() string {
	if d.ID == 0 {
		return "/indicators/create/"
	}
	return "/indicators/update/" + strconv.FormatInt(d.ID, 10) + "/"
}

// indicatorInput reads the form (POST) or the prefill (GET query).
func indicatorInput(get func(string) string) models.IndicatorInput {
	return models.IndicatorInput{Name: get("name"), StartDate: get("start_date"), EndDate: get("end_date"),
		YAxisTitle: get("y_axis_title"), Goal: get("goal"),
		BaselinePollID: formInt(get("baseline_poll")), BaselineQuestionID: formInt(get("baseline_question")),
		FollowUpPollID: formInt(get("follow_up_poll")), FollowUpQuestionID: formInt(get("follow_up_question"))}
}

// indicatorInputOf is a stored indicator as form input.
func indicatorInputOf(ind *models.Indicator) models.IndicatorInput {
	in := models.IndicatorInput{Name: ind.Name, StartDate: ind.StartDate, EndDate: ind.EndDate, YAxisTitle: ind.YAxisTitle,
		BaselinePollID: ind.BaselinePollID, BaselineQuestionID: ind.BaselineQuestionID,
		FollowUpPollID: ind.FollowUpPollID, FollowUpQuestionID: ind.FollowUpQuestionID}
	if ind.Goal != nil {
		in.Goal = strconv.FormatFloat(*ind.Goal, 'f', -1, 64)
	}
	return in
}

// fillIndicatorForm loads the polls and the chosen polls' numeric questions.
func (h *Handlers) fillIndicatorForm(c *fiber.Ctx, d *indicatorFormData) error {
	rc := getRC(c)
	ctx := c.UserContext()
	var err error
	if d.Polls, err = h.DB.ListPolls(ctx, rc.org.ID, true); err != nil {
		return err
	}
	if d.BaselineQuestions, err = h.DB.IndicatorQuestions(ctx, rc.org.ID, d.In.BaselinePollID); err != nil {
		return err
	}
	d.FollowUpQuestions, err = h.DB.IndicatorQuestions(ctx, rc.org.ID, d.In.FollowUpPollID)
	return err
}

// renderIndicatorForm renders the form (or, for the chained pickers, one
// question field) with the errors of err.
func (h *Handlers) renderIndicatorForm(c *fiber.Ctx, d *indicatorFormData, err error) error {
	rc := getRC(c)
	if ferr := h.fillIndicatorForm(c, d); ferr != nil {
		return ferr
	}
	title := rc.cat.T("New indicator")
	if d.ID != 0 {
		title = rc.cat.T("Edit indicator")
	}
	p := h.page(c, title, d)
	status := fiber.StatusOK
	if err != nil {
		p.Errors = formErrors(rc, err)
		status = fiber.StatusUnprocessableEntity
	}
	if d.Pick != "" && isFragment(c) {
		return h.render(c, status, "indicators/questions", p)
	}
	return h.render(c, status, "indicators/form", p)
}

// chainedPick reads ?pick= of the chained question picker.
func chainedPick(c *fiber.Ctx) string {
	switch p := c.Query("pick"); p {
	case "baseline", "follow_up":
		return p
	}
	return ""
}

// indicatorCreateForm shows the empty form; query values prefill it (the
// chained pickers ask for ?pick=…&baseline_poll=… and get the question field).
func (h *Handlers) indicatorCreateForm(c *fiber.Ctx) error {
	d := &indicatorFormData{In: indicatorInput(func(k string) string { return c.Query(k) }), Pick: chainedPick(c)}
	return h.renderIndicatorForm(c, d, nil)
}

// indicatorCreate saves a new indicator; "Next" (step=questions) only shows
// the chosen polls' questions (the form's second step without JavaScript).
func (h *Handlers) indicatorCreate(c *fiber.Ctx) error {
	rc := getRC(c)
	d := &indicatorFormData{In: indicatorInput(func(k string) string { return c.FormValue(k) })}
	if c.FormValue("step") == "questions" {
		return h.renderIndicatorForm(c, d, nil)
	}
	ind, err := h.DB.CreateIndicator(c.UserContext(), rc.org, d.In)
	if err != nil {
		if isInputError(err) {
			return h.renderIndicatorForm(c, d, err)
		}
		return err
	}
	flash(c, "success", rc.cat.T("The indicator is saved."))
	return redirect(c, "/indicators/read/"+strconv.FormatInt(ind.ID, 10)+"/")
}

// indicatorOf loads the indicator of :id in the request's org (404 otherwise).
func (h *Handlers) indicatorOf(c *fiber.Ctx) (*models.Indicator, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	ind, err := h.DB.IndicatorByID(c.UserContext(), getRC(c).org.ID, id)
	if err != nil {
		return nil, notFound(err)
	}
	return ind, nil
}

// indicatorUpdateForm shows an indicator's form; query values override it
// (chained pickers).
func (h *Handlers) indicatorUpdateForm(c *fiber.Ctx) error {
	ind, err := h.indicatorOf(c)
	if err != nil {
		return err
	}
	d := &indicatorFormData{ID: ind.ID, In: indicatorInputOf(ind), Pick: chainedPick(c)}
	if v := formInt(c.Query("baseline_poll")); v != 0 {
		d.In.BaselinePollID = v
	}
	if v := formInt(c.Query("follow_up_poll")); v != 0 {
		d.In.FollowUpPollID = v
	}
	return h.renderIndicatorForm(c, d, nil)
}

// indicatorUpdate saves an indicator (or shows the questions: step=questions).
func (h *Handlers) indicatorUpdate(c *fiber.Ctx) error {
	rc := getRC(c)
	ind, err := h.indicatorOf(c)
	if err != nil {
		return err
	}
	d := &indicatorFormData{ID: ind.ID, In: indicatorInput(func(k string) string { return c.FormValue(k) })}
	if c.FormValue("step") == "questions" {
		return h.renderIndicatorForm(c, d, nil)
	}
	if err := h.DB.UpdateIndicator(c.UserContext(), rc.org, ind.ID, d.In); err != nil {
		if isInputError(err) {
			return h.renderIndicatorForm(c, d, err)
		}
		return notFound(err)
	}
	flash(c, "success", rc.cat.T("The indicator is saved."))
	return redirect(c, "/indicators/read/"+strconv.FormatInt(ind.ID, 10)+"/")
}

// indicatorDelete deletes an indicator; the form confirms with confirm=1
// (anything else is a 400 and deletes nothing).
func (h *Handlers) indicatorDelete(c *fiber.Ctx) error {
	rc := getRC(c)
	ind, err := h.indicatorOf(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "1" {
		return fiber.NewError(fiber.StatusBadRequest, rc.cat.T("Confirm the deletion."))
	}
	if err := h.DB.DeleteIndicator(c.UserContext(), rc.org.ID, ind.ID); err != nil {
		return notFound(err)
	}
	flash(c, "success", rc.cat.T("The indicator %s is deleted.", ind.Name))
	return redirect(c, "/indicators/")
}

// indicatorFilterForm is the indicator page's GET form (SPEC §2.4).
type indicatorFilterForm struct {
	Goal       string
	Panel      int64
	Start, End string
	Fields     map[string]string
}

// query is the form as a query string.
func (f indicatorFilterForm) query() string {
	v := url.Values{}
	v.Set("goal", f.Goal)
	if f.Panel != 0 {
		v.Set("panel", strconv.FormatInt(f.Panel, 10))
	}
	v.Set("start_date", f.Start)
	v.Set("end_date", f.End)
	for k, val := range f.Fields {
		if val != "" {
			v.Set("contact_"+k, val)
		}
	}
	return v.Encode()
}

// indicatorView is an indicator's figures as the page shows them.
type indicatorView struct {
	Ind                             *models.Indicator
	Report                          *models.IndicatorReport
	Chart                           charts.Chart
	Baseline, BaselineRate          string
	Mean, SD, Rate                  string
	BaselineLabel                   string
	Start, End                      string // the dates counted
	HasFollowUps, HasSpoofed, Empty bool
}

// indicatorReadData is the indicator page.
type indicatorReadData struct {
	indicatorView
	Form    indicatorFilterForm
	Fields  []models.DataField
	Panels  []models.Region // the panel filter's choices
	Invalid bool
}

// readIndicatorFilter reads and validates the filters: goal (a number, or
// empty for none; absent = the indicator's own), panel (one of the scope's),
// start and end dates (required, default the indicator's; start ≤ end) and
// the contact fields.
func readIndicatorFilter(c *fiber.Ctx, rc *reqCtx, ind *models.Indicator, fields []models.DataField) (indicatorFilterForm, models.IndicatorFilter, *float64, map[string]string) {
	f := indicatorFilterForm{Start: ind.StartDate, End: ind.EndDate, Fields: readFieldFilters(c, fields)}
	errs := map[string]string{}
	args := c.Request().URI().QueryArgs()
	if args.Has("start_date") {
		f.Start = strings.TrimSpace(c.Query("start_date"))
	}
	if args.Has("end_date") {
		f.End = strings.TrimSpace(c.Query("end_date"))
	}
	var goal *float64
	if args.Has("goal") {
		f.Goal = strings.TrimSpace(c.Query("goal"))
	} else if ind.Goal != nil {
		f.Goal = strconv.FormatFloat(*ind.Goal, 'f', -1, 64)
	}
	if f.Goal != "" {
		v, err := strconv.ParseFloat(f.Goal, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			errs["goal"] = rc.cat.T("Enter a number.")
		} else {
			goal = &v
		}
	}
	if p := c.Query("panel"); p != "" {
		f.Panel = formInt(p)
		ok := false
		for _, id := range scopePanels(rc.scope) {
			ok = ok || id == f.Panel
		}
		if !ok || f.Panel == 0 {
			errs["panel"] = rc.cat.T("Choose one of your panels.")
		}
	}
	loc := rc.org.Location()
	start, err1 := time.ParseInLocation("2006-01-02", f.Start, loc)
	end, err2 := time.ParseInLocation("2006-01-02", f.End, loc)
	if err1 != nil {
		errs["start_date"] = rc.cat.T("Enter a valid date (YYYY-MM-DD).")
	}
	if err2 != nil {
		errs["end_date"] = rc.cat.T("Enter a valid date (YYYY-MM-DD).")
	}
	if err1 == nil && err2 == nil && end.Before(start) {
		errs["end_date"] = rc.cat.T("The end date must not be before the start date.")
	}
	flt := models.IndicatorFilter{ChartFilter: models.ChartFilter{Scope: rc.scope, From: start, To: end.AddDate(0, 0, 1), Fields: f.Fields}, Panel: f.Panel}
	return f, flt, goal, errs
}

// scopePanels are the panels whose contacts a view counts: the data panels,
// or every active panel for "All panels".
func scopePanels(s *models.Scope) []int64 {
	if s.DataPanels != nil {
		return s.DataPanels
	}
	out := make([]int64, 0, len(s.Tree.Panels))
	for _, r := range s.Tree.Panels {
		out = append(out, r.ID)
	}
	return out
}

// indicatorFigures computes an indicator's view: the chart (SPEC §3.6: a flat
// baseline repeated per follow-up date and the follow-up sums; spoofed poll
// runs marked) and the summary figures at one decimal.
func (h *Handlers) indicatorFigures(c *fiber.Ctx, ind *models.Indicator, flt models.IndicatorFilter, goal *float64, fieldQ string) (indicatorView, error) {
	rc := getRC(c)
	v := indicatorView{Ind: ind}
	rep, err := h.DB.IndicatorReport(c.UserContext(), ind, flt, goal)
	if err != nil {
		return v, err
	}
	v.Report = rep
	v.BaselineLabel = ind.YAxisTitle
	if v.BaselineLabel == "" {
		v.BaselineLabel = rc.cat.T("Baseline value")
	}
	nf := rc.numbers()
	v.Baseline = nf.Figure(rep.Baseline)
	if rep.Goal {
		v.BaselineRate = rc.cat.T("n/a")
	} else {
		v.BaselineRate = nf.Percent(rep.BaselineRate())
	}
	v.Mean, v.SD, v.Rate = nf.Dec(rep.Mean()), nf.Dec(rep.SD()), nf.Percent(rep.Rate())
	v.HasFollowUps = len(rep.FollowUps) > 0
	v.Empty = rep.Answers == 0
	if !v.HasFollowUps {
		return v, nil
	}
	n := len(rep.FollowUps)
	xs, links := make([]string, n), make([]string, n)
	base, sums := make([]float64, n), make([]float64, n)
	prs := make([]models.PollrunRef, n)
	for i, p := range rep.FollowUps {
		xs[i] = rc.dates().Day(p.Pollrun.LocalDate)
		links[i] = "/pollrun/read/" + strconv.FormatInt(p.Pollrun.ID, 10) + "/" + fieldQ
		base[i], sums[i] = round1(rep.Baseline), round1(p.Sum)
		if p.Answers == 0 {
			sums[i] = math.NaN() // no follow-up answer there: a gap in the line, not a zero
		}
		prs[i] = p.Pollrun
		v.HasSpoofed = v.HasSpoofed || p.Spoofed()
	}
	baseName := rc.cat.T("Baseline")
	if rep.Goal {
		baseName = rc.cat.T("Goal")
	}
	lb := charts.Labels{Title: ind.Name, Desc: rc.cat.T("Baseline and the sum of the follow-up answers per poll run"),
		Table: rc.cat.T("Data table"), X: rc.cat.T("Date"), Y: rc.cat.T("Sum")}
	v.Chart = charts.Compare(xs, []charts.Series{{Name: baseName, Values: base}, {Name: rc.cat.T("Follow up"), Values: sums, Links: links}},
		lb, sumOptions(rc, prs))
	return v, nil
}

// sumOptions are spoofOptions for a chart of sums: whole numbers print as
// integers.
func sumOptions(rc *reqCtx, prs []models.PollrunRef) charts.Options {
	o := spoofOptions(rc, prs)
	o.Format = rc.numbers().Figure
	return o
}

// spoofOptions are the chart options of the request with the spoofed poll
// runs among prs flagged (SPEC §3.6: marked wherever they appear).
func spoofOptions(rc *reqCtx, prs []models.PollrunRef) charts.Options {
	o := chartOptions(rc)
	for i, p := range prs {
		if p.Type == models.PollrunSpoofed {
			if o.Flagged == nil {
				o.Flagged = make([]bool, len(prs))
				o.FlagNote = rc.cat.T("Spoofed")
			}
			o.Flagged[i] = true
		}
	}
	return o
}

// indicatorRead is an indicator's page: the filters (a GET form, also served
// alone as the htmx fragment #indicator-body with the figures), the chart and
// the summary of SPEC §3.6 in the viewer's panels.
func (h *Handlers) indicatorRead(c *fiber.Ctx) error {
	rc := getRC(c)
	ind, err := h.indicatorOf(c)
	if err != nil {
		return err
	}
	fields, err := h.visibleFields(c)
	if err != nil {
		return err
	}
	form, flt, goal, errs := readIndicatorFilter(c, rc, ind, fields)
	d := &indicatorReadData{Form: form, Fields: fields}
	d.Ind = ind
	p := h.page(c, ind.Name, d)
	status := fiber.StatusOK
	if len(errs) > 0 {
		d.Invalid = true
		p.Errors = errs
		status = fiber.StatusUnprocessableEntity
	} else {
		if d.indicatorView, err = h.indicatorFigures(c, ind, flt, goal, fieldQuery(form.Fields)); err != nil {
			return err
		}
		d.Start, d.End = form.Start, form.End
		chosen := map[int64]bool{form.Panel: form.Panel != 0}
		for _, id := range d.Report.Panels {
			chosen[id] = true
		}
		for _, id := range scopePanels(rc.scope) {
			if r, ok := rc.scope.Tree.Get(id); ok && chosen[id] {
				d.Panels = append(d.Panels, *r)
			}
		}
	}
	view := "indicators/read"
	if isFragment(c) {
		view = "indicators/body"
	}
	return h.render(c, status, view, p)
}

// homeIndicators is the home page's recent indicators: the five latest (by
// end date) and the first of them with follow-up answers in the viewer's
// panels, featured with its chart.
type homeIndicators struct {
	List     []models.Indicator
	Featured *indicatorView
}

// homeIndicatorsLoad reads the recent indicators for the home page.
func (h *Handlers) homeIndicatorsLoad(c *fiber.Ctx) (*homeIndicators, error) {
	rc := getRC(c)
	list, err := h.DB.ListIndicators(c.UserContext(), rc.org.ID, homeRecent)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	out := &homeIndicators{List: list}
	loc := rc.org.Location()
	for i := range list {
		ind := &list[i]
		start, err1 := time.ParseInLocation("2006-01-02", ind.StartDate, loc)
		end, err2 := time.ParseInLocation("2006-01-02", ind.EndDate, loc)
		if err1 != nil || err2 != nil {
			continue
		}
		flt := models.IndicatorFilter{ChartFilter: models.ChartFilter{Scope: rc.scope, From: start, To: end.AddDate(0, 0, 1)}}
		v, err := h.indicatorFigures(c, ind, flt, ind.Goal, "")
		if err != nil {
			return nil, err
		}
		if !v.Empty {
			v.Start, v.End = ind.StartDate, ind.EndDate
			out.Featured = &v
			break
		}
	}
	return out, nil
}

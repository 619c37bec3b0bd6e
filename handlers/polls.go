package handlers

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/charts"
	"tracpro/models"
)

// Polls (SPEC §2.3 /poll/…): administrators list and edit the tracked polls;
// supervisors read a poll's charts (SPEC §3.3) with the filters of SPEC §2.4.

// paramID reads the :name route parameter as an id; anything else is a 404.
func paramID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// notFound maps a model "not found" to a 404 and passes other errors on.
func notFound(err error) error {
	if models.ErrorCode(err) == models.CodeNotFound {
		return fiber.ErrNotFound
	}
	return err
}

// activePoll loads a tracked poll of the request's org (404 otherwise).
func (h *Handlers) activePoll(c *fiber.Ctx, param string) (*models.Poll, error) {
	id, err := paramID(c, param)
	if err != nil {
		return nil, err
	}
	p, err := h.DB.PollByID(c.UserContext(), getRC(c).org.ID, id)
	if err != nil {
		return nil, notFound(err)
	}
	if !p.IsActive || !p.InRapidPro {
		return nil, fiber.ErrNotFound
	}
	return p, nil
}

// pollList lists the tracked polls with their poll runs in scope.
func (h *Handlers) pollList(c *fiber.Ctx) error {
	rc := getRC(c)
	polls, err := h.DB.ListPollSummaries(c.UserContext(), rc.org.ID, rc.scope)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "polls/list", h.page(c, rc.cat.T("Polls"), polls))
}

// pollEditData is the poll edit form.
type pollEditData struct {
	Poll      *models.Poll
	Name      string
	Questions []questionRow
}

// questionRow is one question of the edit form, with the submitted values.
type questionRow struct {
	models.Question
	FormName string
}

// pollUpdateForm shows the poll edit form.
func (h *Handlers) pollUpdateForm(c *fiber.Ctx) error {
	p, err := h.activePoll(c, "id")
	if err != nil {
		return err
	}
	qs, err := h.DB.PollQuestions(c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	d := pollEditData{Poll: p, Name: p.DisplayName()}
	for _, q := range qs {
		d.Questions = append(d.Questions, questionRow{Question: q, FormName: q.DisplayName()})
	}
	return h.renderPollEdit(c, d, nil)
}

func (h *Handlers) renderPollEdit(c *fiber.Ctx, d pollEditData, err error) error {
	rc := getRC(c)
	p := h.page(c, rc.cat.T("Edit poll"), d)
	status := fiber.StatusOK
	if err != nil {
		p.Errors = fieldErrors(rc, err)
		status = fiber.StatusUnprocessableEntity
	}
	return h.render(c, status, "polls/edit", p)
}

// pollUpdate saves the poll's name and its questions' names, types,
// visibility and order.
func (h *Handlers) pollUpdate(c *fiber.Ctx) error {
	rc := getRC(c)
	p, err := h.activePoll(c, "id")
	if err != nil {
		return err
	}
	qs, err := h.DB.PollQuestions(c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	e := models.PollEdit{Name: c.FormValue("name")}
	d := pollEditData{Poll: p, Name: e.Name}
	var ferr error
	for _, q := range qs {
		k := strconv.FormatInt(q.ID, 10)
		qe := models.QuestionEdit{ID: q.ID, Name: c.FormValue("name_" + k), Type: c.FormValue("type_" + k), IsActive: c.FormValue("active_"+k) == "1"}
		order, err := strconv.Atoi(strings.TrimSpace(c.FormValue("order_" + k)))
		if err != nil && ferr == nil {
			ferr = models.InvalidField("order_"+k, "Enter a whole number.")
		}
		qe.Order = order
		e.Questions = append(e.Questions, qe)
		row := questionRow{Question: q, FormName: qe.Name}
		row.Type, row.IsActive, row.Order = qe.Type, qe.IsActive, qe.Order
		d.Questions = append(d.Questions, row)
	}
	if ferr == nil {
		ferr = h.DB.UpdatePoll(c.UserContext(), rc.org.ID, p.ID, e)
	}
	if ferr != nil {
		if isInputError(ferr) {
			return h.renderPollEdit(c, d, ferr)
		}
		return notFound(ferr)
	}
	flash(c, "success", rc.cat.T("The poll is saved."))
	return redirect(c, "/poll/")
}

// Date-range presets of the poll page (SPEC §2.4).
var dateRanges = []string{"month", "30-days", "60-days", "90-days", "6-months", "12-months", "custom"}

// chartForm is the poll page's GET form (SPEC §2.4), always bound.
type chartForm struct {
	Numeric string // sum | average | response-rate
	Split   bool
	Range   string
	Start   string // YYYY-MM-DD (custom range)
	End     string
	Fields  map[string]string // data field key -> filter text
	View    string            // "" = charts | "map" (maps.go)
	Region  string            // map: ?map_region (a panel id)
	Area    string            // map: ?map_area (a panel id)
}

// query is the form as a query string, with overrides (key, value pairs;
// value "" drops the key).
func (f chartForm) query(overrides ...string) string {
	v := url.Values{}
	v.Set("numeric", f.Numeric)
	if f.Split {
		v.Set("split_regions", "1")
	}
	v.Set("date_range", f.Range)
	if f.Range == "custom" {
		if f.Start != "" {
			v.Set("start_date", f.Start)
		}
		if f.End != "" {
			v.Set("end_date", f.End)
		}
	}
	for k, val := range f.Fields {
		if val != "" {
			v.Set("contact_"+k, val)
		}
	}
	for k, val := range map[string]string{"view": f.View, "map_region": f.Region, "map_area": f.Area} {
		if val != "" {
			v.Set(k, val)
		}
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		if overrides[i+1] == "" {
			v.Del(overrides[i])
		} else {
			v.Set(overrides[i], overrides[i+1])
		}
	}
	return v.Encode()
}

// fieldQuery is only the contact-field filters, as a query string (carried
// from a chart to a poll run).
func fieldQuery(fields map[string]string) string {
	v := url.Values{}
	for k, val := range fields {
		if val != "" {
			v.Set("contact_"+k, val)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// readFieldFilters reads one contact_<key> filter per visible data field.
func readFieldFilters(c *fiber.Ctx, fields []models.DataField) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if v := strings.TrimSpace(c.Query("contact_" + f.Key)); v != "" {
			out[f.Key] = v
		}
	}
	return out
}

// visibleFields are the org's data fields shown on TracPro.
func (h *Handlers) visibleFields(c *fiber.Ctx) ([]models.DataField, error) {
	all, err := h.DB.ListFields(c.UserContext(), getRC(c).org.ID)
	if err != nil {
		return nil, err
	}
	var out []models.DataField
	for _, f := range all {
		if f.ShowOnTracPro {
			out = append(out, f)
		}
	}
	return out, nil
}

// readChartForm reads and validates the poll page's form and turns it into a
// chart filter. Dates become org-local midnights; presets end at today's
// midnight and start N units earlier; the end is padded by one day so the
// whole last day is included; a custom range needs at least one date and
// start ≤ end (SPEC §2.4).
func readChartForm(c *fiber.Ctx, rc *reqCtx, fields []models.DataField, now time.Time, defaultRange string) (chartForm, models.ChartFilter, map[string]string) {
	org := rc.org
	f := chartForm{
		Numeric: c.Query("numeric", "sum"),
		Split:   c.Query("split_regions") == "1" || c.Query("split_regions") == "on",
		Range:   c.Query("date_range", defaultRange),
		Start:   strings.TrimSpace(c.Query("start_date")),
		End:     strings.TrimSpace(c.Query("end_date")),
		Fields:  readFieldFilters(c, fields),
	}
	if c.Query("view") == "map" {
		f.View, f.Region, f.Area = "map", c.Query("map_region"), c.Query("map_area")
	}
	errs := map[string]string{}
	switch f.Numeric {
	case "sum", "average", "response-rate":
	default:
		errs["numeric"] = rc.cat.T("Choose sum, average or response rate.")
	}
	filter := models.ChartFilter{Fields: f.Fields}
	loc := org.Location()
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	var start, end time.Time
	switch f.Range {
	case "month":
		start, end = time.Date(y, m, 1, 0, 0, 0, 0, loc), today
	case "30-days", "60-days", "90-days":
		n, _ := strconv.Atoi(strings.TrimSuffix(f.Range, "-days"))
		start, end = today.AddDate(0, 0, -n), today
	case "6-months", "12-months":
		n, _ := strconv.Atoi(strings.TrimSuffix(f.Range, "-months"))
		start, end = today.AddDate(0, -n, 0), today
	case "custom":
		var err error
		if f.Start != "" {
			if start, err = time.ParseInLocation("2006-01-02", f.Start, loc); err != nil {
				errs["start_date"] = rc.cat.T("Enter a valid date (YYYY-MM-DD).")
			}
		}
		if f.End != "" {
			if end, err = time.ParseInLocation("2006-01-02", f.End, loc); err != nil {
				errs["end_date"] = rc.cat.T("Enter a valid date (YYYY-MM-DD).")
			}
		}
		switch {
		case f.Start == "" && f.End == "":
			errs["start_date"] = rc.cat.T("Enter a start date or an end date.")
		case !start.IsZero() && !end.IsZero() && start.After(end):
			errs["end_date"] = rc.cat.T("The end date must not be before the start date.")
		}
	default:
		errs["date_range"] = rc.cat.T("Choose a date range.")
	}
	filter.From = start
	if !end.IsZero() {
		filter.To = end.AddDate(0, 0, 1)
	}
	return f, filter, errs
}

// defaultRanges are the presets a poll page may open on, shortest first.
var defaultRanges = []struct {
	name         string
	months, days int
}{{"30-days", 0, 30}, {"60-days", 0, 60}, {"90-days", 0, 90}, {"6-months", 6, 0}, {"12-months", 12, 0}}

// defaultDateRange is the date range a poll page opens on without one in
// its URL: the shortest preset holding the newest poll run the viewer may
// chart, so the page never opens empty when there is data (the original's
// "this month" showed nothing on the first days of a month); the last 30
// days when there is none. Every preset stays a choice of the form.
func (h *Handlers) defaultDateRange(c *fiber.Ctx, p *models.Poll, now time.Time) (string, error) {
	rc := getRC(c)
	prs, err := h.DB.ChartPollruns(c.UserContext(), p.ID, models.ChartFilter{Scope: rc.scope}, rc.scope.Selected == 0)
	if err != nil || len(prs) == 0 {
		return defaultRanges[0].name, err
	}
	loc := rc.org.Location()
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	newest := models.FromMs(prs[len(prs)-1].ConductedOn)
	for _, r := range defaultRanges {
		if !newest.Before(today.AddDate(0, -r.months, -r.days)) {
			return r.name, nil
		}
	}
	return defaultRanges[len(defaultRanges)-1].name, nil
}

// pollReadData is the poll page.
type pollReadData struct {
	Poll     *models.Poll
	Form     chartForm
	Fields   []models.DataField
	Ranges   []string
	Charts   []questionChart
	Pollruns int
	AllPanel bool // no panel selected: only universal poll runs are charted
	Invalid  bool
	ShowMap  bool     // the Map tab is offered (maps.go)
	Map      *mapView // view=map
}

// ChartLink is the link of a numeric display tab (charts, not the map).
func (d pollReadData) ChartLink(numeric string) string {
	return d.Link("numeric", numeric, "view", "", "map_region", "", "map_area", "")
}

// MapLink is the link of the Map tab.
func (d pollReadData) MapLink() string {
	return d.Link("view", "map", "map_region", "", "map_area", "")
}

// Link is the poll page's URL with the form's query and overrides.
func (d pollReadData) Link(overrides ...string) string {
	return "/poll/read/" + strconv.FormatInt(d.Poll.ID, 10) + "/?" + d.Form.query(overrides...)
}

// pollRead is the poll page: per active question the chart of SPEC §3.3 and
// its summary table. The filters are a GET form; the charts region (form and
// charts) is also served alone as the htmx fragment #poll-body.
func (h *Handlers) pollRead(c *fiber.Ctx) error {
	rc := getRC(c)
	p, err := h.activePoll(c, "id")
	if err != nil {
		return err
	}
	fields, err := h.visibleFields(c)
	if err != nil {
		return err
	}
	now := time.Now()
	def, err := h.defaultDateRange(c, p, now)
	if err != nil {
		return err
	}
	form, filter, errs := readChartForm(c, rc, fields, now, def)
	filter.Scope = rc.scope
	d := pollReadData{Poll: p, Form: form, Fields: fields, Ranges: dateRanges, AllPanel: rc.scope.Selected == 0, ShowMap: showMapTab(rc)}
	page := h.page(c, p.DisplayName(), &d)
	status := fiber.StatusOK
	if len(errs) > 0 {
		d.Invalid = true
		page.Errors = errs
		status = fiber.StatusUnprocessableEntity
	} else if form.View == "map" {
		if err := h.pollMaps(c, &d, filter); err != nil {
			return err
		}
	} else if err := h.pollCharts(c, &d, filter); err != nil {
		return err
	}
	view := "polls/read"
	if isFragment(c) {
		view = "polls/body"
	}
	return h.render(c, status, view, page)
}

// pollMaps fills the Map tab of the poll page: the poll runs of the charts
// (same filters), one map per question.
func (h *Handlers) pollMaps(c *fiber.Ctx, d *pollReadData, f models.ChartFilter) error {
	qs, f, prs, err := h.chartInputs(c, d, f)
	if err != nil {
		return err
	}
	link := func(region, area int64) string {
		return d.Link("map_region", idOrEmpty(region), "map_area", idOrEmpty(area))
	}
	d.Map, err = h.buildMaps(c, models.ActiveQuestions(qs), prs, f, "#poll-body", link)
	return err
}

// chartInputs reads what the poll page's charts and maps both start from:
// the poll's questions, the filter with the contacts matching its field
// filters resolved once for every question, and the poll runs it selects
// (counted in d).
func (h *Handlers) chartInputs(c *fiber.Ctx, d *pollReadData, f models.ChartFilter) ([]models.Question, models.ChartFilter, []models.PollrunRef, error) {
	ctx := c.UserContext()
	qs, err := h.DB.PollQuestions(ctx, d.Poll.ID)
	if err != nil {
		return nil, f, nil, err
	}
	if f, err = h.DB.ResolveFilter(ctx, f); err != nil {
		return nil, f, nil, err
	}
	prs, err := h.DB.ChartPollruns(ctx, d.Poll.ID, f, getRC(c).scope.Selected == 0)
	d.Pollruns = len(prs)
	return qs, f, prs, err
}

// idOrEmpty formats an id for a query override ("" drops the key).
func idOrEmpty(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// questionChart is one question's chart on the poll page (SPEC §3.3).
type questionChart struct {
	Q       models.Question
	Chart   charts.Chart
	Summary bool // show the summary table (numeric and multiple choice)
	HasMean bool // some answers are numbers
	Mean    string
	SD      string
	Rate    string
}

// wordCloudAnswers caps the answers a word cloud reads (the newest).
const wordCloudAnswers = 1000

// pollCharts fills the charts of the poll page.
func (h *Handlers) pollCharts(c *fiber.Ctx, d *pollReadData, f models.ChartFilter) error {
	qs, f, prs, err := h.chartInputs(c, d, f)
	if err != nil {
		return err
	}
	rc := getRC(c)
	ctx := c.UserContext()
	if len(prs) == 0 {
		return nil
	}
	xs := make([]string, len(prs))
	runLinks := make([]string, len(prs))
	rateLinks := make([]string, len(prs))
	fq := fieldQuery(d.Form.Fields)
	for i, pr := range prs {
		id := strconv.FormatInt(pr.ID, 10)
		xs[i] = rc.dates().Day(pr.LocalDate)
		runLinks[i] = "/pollrun/read/" + id + "/" + fq
		rateLinks[i] = "/pollrun/participation/" + id + "/" + fq
	}
	opts := spoofOptions(rc, prs)
	for _, q := range models.ActiveQuestions(qs) {
		qc := questionChart{Q: q}
		lb := charts.Labels{Title: q.DisplayName(), Table: rc.cat.T("Data table"), X: rc.cat.T("Date")}
		switch q.Type {
		case models.QuestionNumeric, models.QuestionChoice:
			stats, err := h.DB.StatsByPollrun(ctx, q.ID, prs, f)
			if err != nil {
				return err
			}
			if q.Type == models.QuestionNumeric {
				qc.Chart, err = h.numericChart(c, d, q, prs, f, stats, xs, runLinks, rateLinks, lb)
				if err != nil {
					return err
				}
			} else {
				lb.Desc, lb.Y, lb.Total = rc.cat.T("Share of answers per category and poll run"), rc.cat.T("Answers"), rc.cat.T("Total")
				qc.Chart = charts.PercentStacked(xs, categorySeries(stats), runLinks, lb, opts)
			}
			avgs, rates := make([]float64, len(stats)), make([]float64, len(stats))
			numeric := 0
			for i, s := range stats {
				avgs[i], rates[i] = s.Average(), s.ResponseRate()
				numeric += s.Numeric
			}
			qc.Summary, qc.HasMean = true, numeric > 0
			nf := rc.numbers()
			qc.Mean, qc.SD, qc.Rate = nf.Dec(charts.Mean(avgs)), nf.Dec(charts.PopulationSD(avgs)), nf.Percent(charts.Mean(rates))
		case models.QuestionOpen:
			lb.Desc, lb.X, lb.Y = rc.cat.T("Most frequent words in the answers"), rc.cat.T("Word"), rc.cat.T("Count")
			if qc.Chart, err = h.wordCloud(ctx, q.ID, prs, f, lb, opts); err != nil {
				return err
			}
		}
		d.Charts = append(d.Charts, qc)
	}
	return nil
}

// numericChart is the time series of a numeric question: sum, average or
// response rate per poll run (1 dp), optionally one series per panel sorted
// by name. A point links to its poll run (its participation for the rate).
func (h *Handlers) numericChart(c *fiber.Ctx, d *pollReadData, q models.Question, prs []models.PollrunRef, f models.ChartFilter,
	stats []models.QuestionStats, xs, runLinks, rateLinks []string, lb charts.Labels) (charts.Chart, error) {
	rc := getRC(c)
	measure := func(s models.QuestionStats) float64 { return round1(s.Sum) }
	lb.Desc, lb.Y = rc.cat.T("Sum of the answers per poll run"), rc.cat.T("Sum")
	links := runLinks
	switch d.Form.Numeric {
	case "average":
		measure = func(s models.QuestionStats) float64 { return round1(s.Average()) }
		lb.Desc, lb.Y = rc.cat.T("Average answer per poll run"), rc.cat.T("Average")
	case "response-rate":
		measure = func(s models.QuestionStats) float64 { return round1(s.ResponseRate()) }
		lb.Desc, lb.Y = rc.cat.T("Response rate per poll run (%)"), rc.cat.T("Response rate")
		links = rateLinks
	}
	values := func(ss []models.QuestionStats) []float64 {
		out := make([]float64, len(ss))
		for i, s := range ss {
			out[i] = measure(s)
		}
		return out
	}
	opts := sumOptions(rc, prs)
	if d.Form.Numeric == "average" || d.Form.Numeric == "response-rate" {
		opts = spoofOptions(rc, prs)
	}
	if !d.Form.Split {
		return charts.TimeSeries(xs, []charts.Series{{Name: lb.Y, Values: values(stats), Links: links}}, lb, opts), nil
	}
	byPanel, err := h.DB.StatsByPanelTop(c.UserContext(), q.ID, prs, f, maxPanelSeries)
	if err != nil {
		return charts.Chart{}, err
	}
	var series []charts.Series
	for id, ss := range mergeSmallPanels(byPanel, maxPanelSeries) {
		name := rc.cat.T("Other panels")
		if id != 0 {
			name = strconv.FormatInt(id, 10)
			if r, ok := rc.scope.Tree.Get(id); ok {
				name = r.Name
			}
		}
		series = append(series, charts.Series{Name: name, Values: values(ss), Links: links})
	}
	sort.Slice(series, func(i, j int) bool { return strings.ToLower(series[i].Name) < strings.ToLower(series[j].Name) })
	return charts.TimeSeries(xs, series, lb, opts), nil
}

// maxPanelSeries bounds a split chart: one colour of the palette per series
// (more would repeat colours), readable on a phone, and a small swap.
const maxPanelSeries = len(charts.Palette)

// mergeSmallPanels keeps the panels with the most responses and adds the rest
// into one series under id 0 ("Other panels"); sums, averages and rates of the
// merged series come from the summed counts, so they stay exact.
func mergeSmallPanels(byPanel map[int64][]models.QuestionStats, max int) map[int64][]models.QuestionStats {
	if len(byPanel) <= max {
		return byPanel
	}
	type ranked struct {
		id        int64
		responses int
	}
	var rs []ranked
	for id, ss := range byPanel {
		n := 0
		for _, s := range ss {
			n += s.Responses
		}
		rs = append(rs, ranked{id, n})
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].responses != rs[j].responses {
			return rs[i].responses > rs[j].responses
		}
		return rs[i].id < rs[j].id
	})
	out := map[int64][]models.QuestionStats{}
	var other []models.QuestionStats
	for i, r := range rs {
		if i < max-1 {
			out[r.id] = byPanel[r.id]
			continue
		}
		for j, s := range byPanel[r.id] {
			if other == nil {
				other = make([]models.QuestionStats, len(byPanel[r.id]))
			}
			o := &other[j]
			o.Pollrun = s.Pollrun
			o.Responses += s.Responses
			o.Answers += s.Answers
			o.Numeric += s.Numeric
			o.Sum += s.Sum
			o.SumSq += s.SumSq
		}
	}
	out[0] = other
	return out
}

// categorySeries turns per-poll-run category counts into PercentStacked's
// categories, in natural order ("" — no category — left out).
func categorySeries(stats []models.QuestionStats) []charts.Category {
	idx := map[string]int{}
	var names []string
	for _, s := range stats {
		for k := range s.Categories {
			if _, ok := idx[k]; !ok && k != "" {
				idx[k] = 0
				names = append(names, k)
			}
		}
	}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	out := make([]charts.Category, len(names))
	for i, n := range names {
		out[i] = charts.Category{Name: n, Counts: make([]int, len(stats))}
		for j, s := range stats {
			out[i].Counts[j] = s.Categories[n]
		}
	}
	return out
}

// categoryBars turns one poll run's category counts into bars, in natural
// order ("" — no category — left out).
func categoryBars(cats map[string]int) []charts.Bar {
	var out []charts.Bar
	for k, n := range cats {
		if k != "" && n > 0 {
			out = append(out, charts.Bar{Label: k, Count: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i].Label, out[j].Label) })
	return out
}

// wordCloud draws the top words of a question's open-ended answers (the
// newest wordCloudAnswers in those poll runs), with the stop words of each
// contact's language left out. The words are kept until the database next
// changes (models.DB.Cached), so a page reads the answers once per change.
func (h *Handlers) wordCloud(ctx context.Context, questionID int64, prs []models.PollrunRef, f models.ChartFilter,
	lb charts.Labels, o charts.Options) (charts.Chart, error) {
	words, err := h.cloudWords(ctx, questionID, prs, f)
	if err != nil {
		return charts.Chart{}, err
	}
	return charts.WordCloud(words, lb, o), nil
}

// cloudWords returns the counted words of wordCloud, from the cache when the
// database is unchanged since they were counted.
func (h *Handlers) cloudWords(ctx context.Context, questionID int64, prs []models.PollrunRef, f models.ChartFilter) ([]charts.WordCount, error) {
	var key strings.Builder
	key.WriteString("words q ")
	key.WriteString(strconv.FormatInt(questionID, 10))
	key.WriteString(" limit ")
	key.WriteString(strconv.Itoa(wordCloudAnswers))
	key.WriteString(" runs")
	for _, pr := range prs {
		key.WriteByte(' ')
		key.WriteString(strconv.FormatInt(pr.ID, 10))
	}
	key.WriteByte(' ')
	key.WriteString(f.CacheKey())
	v, err := h.DB.Cached(key.String(), f, func() (any, error) {
		vals, err := h.DB.AnswerValues(ctx, questionID, prs, f, wordCloudAnswers)
		if err != nil {
			return nil, err
		}
		return answerWords(vals), nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]charts.WordCount), nil
}

// answerWords counts the words of answers, each with the stop words of its
// contact's language left out.
func answerWords(vals []models.AnswerValue) []charts.WordCount {
	texts := make([]string, len(vals))
	for i, v := range vals {
		texts[i] = v.Value
	}
	return charts.Words(texts, func(i int) string { return vals[i].Language })
}

// naturalLess compares labels with the numbers inside them compared as
// numbers ("2-5" < "10-20"), case-insensitively (SPEC §3.1).
func naturalLess(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

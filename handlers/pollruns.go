package handlers

import (
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tracpro/charts"
	"tracpro/locale"
	"tracpro/models"
)

// Poll runs (SPEC §2.3 /pollrun/…): the list (all, or one poll's) and a poll
// run's tabs — Summary (SPEC §3.4), Participation, Responses (responses.go) —
// each tab a real link that htmx swaps as the fragment #pollrun-tab.

// perPage is the page size of paginated tables.
const perPage = 50

// pager is the paging of a table.
type pager struct {
	Page, Pages, Total int
	Base               string // URL the page parameter is added to (ends with ? or &)
}

// Prev and Next are the neighbouring page numbers (0 = none).
func (p pager) Prev() int {
	if p.Page > 1 {
		return p.Page - 1
	}
	return 0
}

// Next is the following page number (0 = none).
func (p pager) Next() int {
	if p.Page < p.Pages {
		return p.Page + 1
	}
	return 0
}

// newPager computes the pages of total rows.
func newPager(page, total int, base string) pager {
	pages := max(1, (total+perPage-1)/perPage)
	return pager{Page: min(max(page, 1), pages), Pages: pages, Total: total, Base: base}
}

// pageParam reads ?page= (1 when absent or bad).
func pageParam(c *fiber.Ctx) int {
	n, err := strconv.Atoi(c.Query("page", "1"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pollrunListData is the poll run list.
type pollrunListData struct {
	Poll  *models.Poll // nil = every poll
	Rows  []models.PollrunRow
	Pager pager
}

// pollrunList lists the poll runs in scope, newest first.
func (h *Handlers) pollrunList(c *fiber.Ctx) error {
	return h.pollrunListOf(c, nil)
}

// pollrunByPoll lists one poll's poll runs in scope.
func (h *Handlers) pollrunByPoll(c *fiber.Ctx) error {
	p, err := h.activePoll(c, "poll")
	if err != nil {
		return err
	}
	return h.pollrunListOf(c, p)
}

func (h *Handlers) pollrunListOf(c *fiber.Ctx, p *models.Poll) error {
	rc := getRC(c)
	d := pollrunListData{Poll: p}
	var pollID int64
	base := "/pollrun/?"
	title := rc.cat.T("Poll runs")
	if p != nil {
		pollID = p.ID
		base = "/pollrun/by_poll/" + strconv.FormatInt(p.ID, 10) + "/?"
		title = p.DisplayName()
	}
	page := pageParam(c)
	rows, total, err := h.DB.ListPollruns(c.UserContext(), rc.org.ID, rc.scope, pollID, page, perPage)
	if err != nil {
		return err
	}
	d.Rows, d.Pager = rows, newPager(page, total, base)
	return h.render(c, fiber.StatusOK, "pollruns/list", h.page(c, title, d))
}

// pollrunData is a poll run's page, whichever tab.
type pollrunData struct {
	Run    *models.PollrunRow
	Tab    string // summary | participation | responses
	Query  string // the contact-field filters as "?…" ("" = none), kept across tabs
	Fields []models.DataField
	Filter map[string]string

	Charts []singleChart // summary

	By       string // participation: reporter | region
	Rows     []models.ParticipationRow
	Totals   models.ParticipationRow
	Send     *messageForm  // participation: "Send message…" (messages.go)
	Messages []messageView // participation: the latest messages about the poll run

	Questions []models.Question // responses
	Responses []models.ResponseRow
	Pager     pager

	ShowMap bool     // the Map tab is offered (maps.go)
	Map     *mapView // map
}

// FormAction is the URL the contact-field filter form of the tab submits to.
func (d *pollrunData) FormAction() string {
	tab := "read"
	if d.Tab == "participation" || d.Tab == "map" {
		tab = d.Tab
	}
	return "/pollrun/" + tab + "/" + strconv.FormatInt(d.Run.ID, 10) + "/"
}

// singleChart is one question's chart on the Summary tab (SPEC §3.4).
type singleChart struct {
	Q                 models.Question
	Chart             charts.Chart
	Mean, SD, Rate    string
	HasMean, HasFacts bool
}

// pollrunLoad reads the poll run of :id in the request's scope (404 when it
// is not visible) and the contact-field filters.
func (h *Handlers) pollrunLoad(c *fiber.Ctx, tab string) (*pollrunData, models.ChartFilter, error) {
	rc := getRC(c)
	id, err := paramID(c, "id")
	if err != nil {
		return nil, models.ChartFilter{}, err
	}
	run, err := h.DB.PollrunHeader(c.UserContext(), rc.org.ID, id, rc.scope)
	if err != nil {
		return nil, models.ChartFilter{}, notFound(err)
	}
	fields, err := h.visibleFields(c)
	if err != nil {
		return nil, models.ChartFilter{}, err
	}
	filter := readFieldFilters(c, fields)
	d := &pollrunData{Run: run, Tab: tab, Fields: fields, Filter: filter, Query: fieldQuery(filter), ShowMap: showMapTab(rc)}
	// The contacts matching the field filters, once for every chart of the tab.
	f, err := h.DB.ResolveFilter(c.UserContext(), models.ChartFilter{Scope: rc.scope, Fields: filter})
	return d, f, err
}

// renderPollrun serves a tab: the whole page, or the tab alone (#pollrun-tab)
// for htmx.
func (h *Handlers) renderPollrun(c *fiber.Ctx, d *pollrunData) error {
	title := d.Run.PollName + " · " + d.Run.LocalDate
	view := "pollruns/read"
	if isFragment(c) {
		view = "pollruns/tab"
	}
	return h.render(c, fiber.StatusOK, view, h.page(c, title, d))
}

// pollrunRead is the Summary tab: per active question the single-date chart
// and its figures (SPEC §3.4).
func (h *Handlers) pollrunRead(c *fiber.Ctx) error {
	rc := getRC(c)
	d, f, err := h.pollrunLoad(c, "summary")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	qs, err := h.DB.PollQuestions(ctx, d.Run.PollID)
	if err != nil {
		return err
	}
	prs := []models.PollrunRef{d.Run.Ref()}
	opts := chartOptions(rc)
	for _, q := range models.ActiveQuestions(qs) {
		sc := singleChart{Q: q}
		lb := charts.Labels{Title: q.DisplayName(), Table: rc.cat.T("Data table")}
		if q.Type == models.QuestionOpen {
			lb.Desc, lb.X, lb.Y = rc.cat.T("Most frequent words in the answers"), rc.cat.T("Word"), rc.cat.T("Count")
			var err error
			if sc.Chart, err = h.wordCloud(ctx, q.ID, prs, f, lb, opts); err != nil {
				return err
			}
			d.Charts = append(d.Charts, sc)
			continue
		}
		stats, err := h.DB.StatsByPollrun(ctx, q.ID, prs, f)
		if err != nil {
			return err
		}
		var st models.QuestionStats
		if len(stats) > 0 {
			st = stats[0]
		}
		sc.HasFacts = st.Responses > 0
		if st.Numeric > 0 {
			mean := st.Sum / float64(st.Numeric)
			sd := math.Sqrt(math.Max(0, st.SumSq/float64(st.Numeric)-mean*mean))
			sc.HasMean, sc.Mean, sc.SD = true, oneDP(mean), oneDP(sd)
		}
		sc.Rate = oneDP(st.ResponseRate()) + "%"
		if q.Type == models.QuestionNumeric {
			counts, err := h.DB.AnswerNumbers(ctx, q.ID, prs, f)
			if err != nil {
				return err
			}
			var nums []float64
			for _, v := range counts {
				for range v.N {
					nums = append(nums, v.Number)
				}
			}
			lb.Desc, lb.X, lb.Y = rc.cat.T("Number of answers per range of values"), rc.cat.T("Range"), rc.cat.T("Answers")
			sc.Chart = charts.Histogram(nums, lb, opts)
		} else {
			lb.Desc, lb.X, lb.Y = rc.cat.T("Number of answers per category"), rc.cat.T("Category"), rc.cat.T("Answers")
			sc.Chart = charts.Bars(categoryBars(st.Categories), lb, opts)
		}
		d.Charts = append(d.Charts, sc)
	}
	return h.renderPollrun(c, d)
}

// pollrunParticipation is the Participation tab: per cohort (default) or per
// panel, no / partial / full responses and completion, with totals that count
// a contact in several cohorts once.
func (h *Handlers) pollrunParticipation(c *fiber.Ctx) error {
	d, f, err := h.pollrunLoad(c, "participation")
	if err != nil {
		return err
	}
	d.By = "reporter"
	by := "cohort"
	if c.Query("group-by") == "region" {
		d.By, by = "region", "panel"
	}
	if d.Rows, d.Totals, err = h.DB.Participation(c.UserContext(), d.Run.ID, f, by); err != nil {
		return err
	}
	if d.Send, err = h.newMessageForm(c, d.Run.ID, "", 0, ""); err != nil {
		return err
	}
	rc := getRC(c)
	msgs, err := h.DB.PollrunMessages(c.UserContext(), rc.scope, d.Run.ID, pollrunMessagesShown)
	if err != nil {
		return err
	}
	d.Messages = messageViews(rc, msgs)
	return h.renderPollrun(c, d)
}

// oneDP formats a figure with one decimal.
func oneDP(v float64) string { return strconv.FormatFloat(round1(v), 'f', 1, 64) }

// round1 rounds to one decimal (SPEC §3.3's "1 dp").
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// chartOptions are the charts' options for the request (mirrored in RTL,
// lighter when the browser asks to save data).
func chartOptions(rc *reqCtx) charts.Options {
	return charts.Options{RTL: locale.RTL(rc.cat.Lang), Light: rc.light()}
}

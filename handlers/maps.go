package handlers

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tracpro/charts"
	"tracpro/models"
)

// Maps (SPEC §3.5, issue #7): the Map tab of a poll (?view=map on
// /poll/read/:id/) and of a poll run (/pollrun/map/:id/). Each numeric or
// multiple-choice question gets a choropleth of the panels of one level of
// the panel tree: numeric answers colour an area by the category (through
// the question's rules) of its average, multiple-choice answers by their most
// frequent category.
//
// What an area counts: the answers of contacts in its panel and every panel
// below it, within the viewer's data panels, so a province's figure sums its
// districts and drilling down splits it. The map starts at the top of the
// viewer's data panels (descending while a level has a single area with
// areas below it); ?map_region=<panel> shows that panel's sub-panels (a
// panel without sub-panels on the map shows itself); ?map_area=<panel>
// selects an area and shows its figures and the way down. Panels without a
// boundary are not drawn (their figures are in no area). Panels of a level
// that share a boundary are one area, named after them, whose figure covers
// the answers of all of them (SPEC §3.5); a tap on any of them selects it,
// and it leads down to the sub-panels of each.

// mapView is the Map tab's data.
type mapView struct {
	NoBoundary bool // no active panel of the org has a boundary (SPEC §2.3's warning)
	Empty      bool // boundaries exist, but none in the viewer's data panels
	Focus      int64
	Crumbs     []mapLink // links up the tree, top first
	Here       string    // the focus panel's name ("" at the top)
	Maps       []questionMap
	Selected   *mapSelection
	Target     string // the htmx target the map's links swap
	Spoofed    bool   // some of the poll runs drawn are spoofed (SPEC §3.6: marked)
}

// mapLink is a link of the map's breadcrumb or selection box.
type mapLink struct{ Name, URL string }

// mapSelection is the selected area and the ways down to its sub-panels.
type mapSelection struct {
	Name string
	Down []mapLink // drill-down links (none = no sub-panels on the map)
}

// mapAreaInfo is an area of the map: the panels of the level drawn with one
// boundary, keyed by the first of them by name.
type mapAreaInfo struct {
	id      int64
	name    string // its panels' names
	rowLink string // the table row's drill-down ("" = none, or several)
}

// questionMap is one question's map, with the selected area's figure.
type questionMap struct {
	Q     models.Question
	Chart charts.MapChart
	Sel   string
}

// mapKind returns "numeric", "choice" or "" (no map) for a question type.
func mapKind(t string) string {
	switch t {
	case models.QuestionNumeric:
		return "numeric"
	case models.QuestionChoice, models.QuestionMenu, models.QuestionKeypad:
		return "choice"
	}
	return ""
}

// mapParams reads ?map_region and ?map_area (0 when absent); a malformed one
// is a 404 like any unknown id.
func mapParams(c *fiber.Ctx) (region, area int64, err error) {
	read := func(k string) (int64, error) {
		v := c.Query(k)
		if v == "" {
			return 0, nil
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return 0, fiber.ErrNotFound
		}
		return id, nil
	}
	if region, err = read("map_region"); err != nil {
		return
	}
	area, err = read("map_area")
	return
}

// showMapTab reports whether the Map tab is offered: some panel has a
// boundary (SPEC display_maps), or the viewer is an administrator (who is
// then told how to link boundaries).
func showMapTab(rc *reqCtx) bool {
	if rc.atLeast(models.RoleAdmin) {
		return true
	}
	for _, r := range rc.scope.Tree.Panels {
		if r.BoundaryID != 0 {
			return true
		}
	}
	return false
}

// buildMaps fills the Map tab for the questions over the poll runs prs with
// the filter f; link builds the tab's URL for a focus panel and a selected
// area (0 = none).
func (h *Handlers) buildMaps(c *fiber.Ctx, qs []models.Question, prs []models.PollrunRef, f models.ChartFilter,
	hxTarget string, link func(region, area int64) string) (*mapView, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	tree := rc.scope.Tree
	v := &mapView{NoBoundary: true, Target: hxTarget}
	for _, pr := range prs {
		v.Spoofed = v.Spoofed || pr.Type == models.PollrunSpoofed
	}
	for _, r := range tree.Panels {
		if r.BoundaryID != 0 {
			v.NoBoundary = false
		}
	}
	if v.NoBoundary {
		return v, nil
	}
	focus, areaParam, err := mapParams(c)
	if err != nil {
		return nil, err
	}
	here := focus // the focus as asked (the view a tap keeps)
	// The viewer's data panels.
	data := map[int64]bool{}
	if rc.scope.DataPanels == nil {
		for _, r := range tree.Panels {
			data[r.ID] = true
		}
	} else {
		for _, id := range rc.scope.DataPanels {
			data[id] = true
		}
	}
	if focus != 0 && !data[focus] {
		return nil, fiber.ErrNotFound
	}
	byName := func(ids []int64) {
		sort.Slice(ids, func(i, j int) bool {
			a, _ := tree.Get(ids[i])
			b, _ := tree.Get(ids[j])
			return naturalLess(a.Name, b.Name)
		})
	}
	// levelOf returns the panels drawn under a focus: its sub-panels (the
	// top panels of the data panels for 0) that have a boundary.
	levelOf := func(focus int64) []int64 {
		var out []int64
		for _, r := range tree.Panels {
			if !data[r.ID] || r.BoundaryID == 0 || r.ID == focus {
				continue
			}
			parent := r.ParentID
			if _, ok := tree.Get(parent); !ok || !data[parent] {
				parent = 0
			}
			if parent == focus {
				out = append(out, r.ID)
			}
		}
		byName(out)
		return out
	}
	areas := levelOf(focus)
	if focus == 0 {
		// Descend from a lone top area (a country panel) to its regions.
		for len(areas) == 1 && len(levelOf(areas[0])) > 0 {
			focus = areas[0]
			areas = levelOf(focus)
		}
	} else if len(areas) == 0 {
		if r, _ := tree.Get(focus); r.BoundaryID != 0 {
			areas = []int64{focus}
		}
	}
	if len(areas) == 0 {
		v.Empty = true
		return v, nil
	}
	v.Focus = focus
	if focus != 0 {
		r, _ := tree.Get(focus)
		v.Here = r.Name
		if _, explicit := c.Queries()["map_region"]; explicit {
			v.Crumbs = append(v.Crumbs, mapLink{rc.cat.T("Whole map"), link(0, 0)})
			anc := tree.Ancestors(focus)
			for i := len(anc) - 1; i >= 0; i-- {
				if a, ok := tree.Get(anc[i]); ok && data[a.ID] && len(levelOf(a.ID)) > 0 {
					v.Crumbs = append(v.Crumbs, mapLink{a.Name, link(a.ID, 0)})
				}
			}
		}
	}
	// Panels of the level sharing a boundary are one area (SPEC §3.5):
	// its figure covers the answers of all of them.
	areaOfPanel := map[int64]int64{} // panel drawn -> its area
	members := map[int64][]int64{}   // area -> its panels, by name
	byBoundary := map[int64]int64{}
	var keys []int64
	for _, id := range areas {
		r, _ := tree.Get(id)
		a, ok := byBoundary[r.BoundaryID]
		if !ok {
			a, byBoundary[r.BoundaryID] = id, id
			keys = append(keys, id)
		}
		areaOfPanel[id] = a
		members[a] = append(members[a], id)
	}
	// Every data panel counts for the area above it (or its own).
	areaOf := map[int64]int64{}
	for id := range data {
		for p, ok := id, true; ok; {
			if a, found := areaOfPanel[p]; found {
				areaOf[id] = a
				break
			}
			r, found := tree.Get(p)
			if !found || r.ParentID == 0 || r.ParentID == p {
				ok = false
				continue
			}
			p = r.ParentID
		}
	}
	// Saving data, the map is a link to the full page: no shapes to read.
	shapes := map[int64]*charts.GeoShape{}
	if !rc.light() {
		if shapes, err = h.areaShapes(c, keys); err != nil {
			return nil, err
		}
	}
	infos := make([]mapAreaInfo, 0, len(keys))
	var selected int64
	for _, a := range keys {
		var names []string
		var down []mapLink
		for _, m := range members[a] {
			r, _ := tree.Get(m)
			names = append(names, r.Name)
			if m != focus && len(levelOf(m)) > 0 {
				label := rc.cat.T("Show its sub-panels")
				if len(members[a]) > 1 {
					label = rc.cat.T("Show the sub-panels of %s", r.Name)
				}
				down = append(down, mapLink{label, link(m, 0)})
			}
		}
		ai := mapAreaInfo{id: a, name: strings.Join(names, ", ")}
		if len(down) == 1 {
			ai.rowLink = down[0].URL
		}
		infos = append(infos, ai)
		if sel, ok := areaOfPanel[areaParam]; ok && sel == a {
			selected = a
			v.Selected = &mapSelection{Name: ai.name, Down: down}
		}
	}
	for _, q := range qs {
		kind := mapKind(q.Type)
		if kind == "" {
			continue
		}
		byPanel, err := h.DB.StatsByPanel(ctx, q.ID, prs, f)
		if err != nil {
			return nil, err
		}
		sums := map[int64]*models.QuestionStats{}
		for panel, ss := range byPanel {
			a, ok := areaOf[panel]
			if !ok {
				continue
			}
			s := sums[a]
			if s == nil {
				s = &models.QuestionStats{Categories: map[string]int{}}
				sums[a] = s
			}
			for _, x := range ss {
				s.Responses += x.Responses
				s.Answers += x.Answers
				s.Numeric += x.Numeric
				s.Sum += x.Sum
				s.SumSq += x.SumSq
				for k, n := range x.Categories {
					s.Categories[k] += n
				}
			}
		}
		qm, sel := h.questionMap(rc, q, kind, infos, sums, shapes, here, selected, hxTarget, link)
		qm.Sel = sel
		v.Maps = append(v.Maps, qm)
	}
	return v, nil
}

// areaFigure is an area's colour category and figures.
type areaFigure struct {
	category string // "" = no data
	value    string // numeric: the average; choice: the most frequent category
	answers  int
	top      int // choice: answers in the most frequent category
}

// figureOf works out an area's category (SPEC §3.5): the category of the
// average through the rules (numeric) or the most frequent non-empty
// category (choice; ties go to the category first in the legend).
func figureOf(kind string, q models.Question, s *models.QuestionStats, legend []string) areaFigure {
	if s == nil {
		return areaFigure{}
	}
	if kind == "numeric" {
		if s.Numeric == 0 {
			return areaFigure{answers: s.Answers}
		}
		avg := round2(s.Sum / float64(s.Numeric))
		return areaFigure{category: models.CategorizeNumber(q.Rules, avg), value: twoDP(avg), answers: s.Answers}
	}
	fig := areaFigure{answers: s.Answers}
	rank := map[string]int{}
	for i, c := range legend {
		rank[c] = i
	}
	for c, n := range s.Categories {
		if c == "" || n == 0 {
			continue
		}
		if n > fig.top || (n == fig.top && rank[c] < rank[fig.category]) {
			fig.category, fig.top = c, n
		}
	}
	fig.value = fig.category
	return fig
}

// sortedCategories are the non-empty categories of stats in natural order.
func sortedCategories(ss ...*models.QuestionStats) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if s == nil {
			continue
		}
		for c, n := range s.Categories {
			if c != "" && n > 0 && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i], out[j]) })
	return out
}

// questionMap draws one question's map with its legend and table, and
// returns the selected area's figure text.
func (h *Handlers) questionMap(rc *reqCtx, q models.Question, kind string, areas []mapAreaInfo, sums map[int64]*models.QuestionStats,
	shapes map[int64]*charts.GeoShape, here, selected int64, hxTarget string, link func(region, area int64) string) (questionMap, string) {
	all := make([]*models.QuestionStats, 0, len(sums))
	for _, s := range sums {
		all = append(all, s)
	}
	legend := models.CategoryLegend(q.Rules, sortedCategories(all...))
	color := map[string]string{}
	for i, c := range legend {
		color[c] = charts.MapPalette[i%len(charts.MapPalette)]
	}
	color[models.CategoryOther] = charts.MapOther
	used := map[string]bool{}
	noData := false
	sel := ""
	var mas []charts.MapArea
	for _, a := range areas {
		id := a.id
		fig := figureOf(kind, q, sums[id], legend)
		ma := charts.MapArea{Shape: shapes[id], Name: a.name, Link: link(here, id), Selected: id == selected, RowLink: a.rowLink}
		switch {
		case fig.category == "":
			noData = true
			ma.Figure = rc.cat.T("No data")
		case kind == "numeric":
			ma.Figure = fig.value + " · " + fig.category
		default:
			ma.Figure = rc.cat.T("%s (%d of %d answers)", fig.category, fig.top, fig.answers)
		}
		if fig.category != "" {
			used[fig.category] = true
			ma.Fill = color[fig.category]
		}
		if id == selected {
			sel = ma.Figure
		}
		if kind == "numeric" {
			ma.Cells = []string{fig.value, fig.category, strconv.Itoa(fig.answers)}
		} else {
			ma.Cells = []string{fig.category, strconv.Itoa(fig.top), strconv.Itoa(fig.answers)}
		}
		mas = append(mas, ma)
	}
	var items []charts.LegendItem
	for _, c := range legend {
		if used[c] {
			items = append(items, charts.LegendItem{Name: c, Color: color[c]})
		}
	}
	if noData {
		items = append(items, charts.LegendItem{Name: rc.cat.T("No data"), Color: charts.MapNoData})
	}
	lb := charts.Labels{Title: q.DisplayName(), Table: rc.cat.T("Data table"), X: rc.cat.T("Panel")}
	cols := []string{rc.cat.T("Average"), rc.cat.T("Category"), rc.cat.T("Answers")}
	lb.Desc = rc.cat.T("Map of the panels coloured by the category of their average answer")
	if kind == "choice" {
		cols = []string{rc.cat.T("Most frequent category"), rc.cat.T("Its answers"), rc.cat.T("Answers")}
		lb.Desc = rc.cat.T("Map of the panels coloured by their most frequent category")
	}
	return questionMap{Q: q, Chart: charts.Map(mas, items, lb, charts.MapOptions{HXTarget: hxTarget, Columns: cols, Light: rc.light()})}, sel
}

// areaShapes returns the parsed shapes of the areas' boundaries, from the
// cache when their version is there, else read and parsed once.
func (h *Handlers) areaShapes(c *fiber.Ctx, areas []int64) (map[int64]*charts.GeoShape, error) {
	rc := getRC(c)
	ctx := c.UserContext()
	boundaryOf := map[int64]int64{}
	var ids []int64
	for _, a := range areas {
		if r, ok := rc.scope.Tree.Get(a); ok && r.BoundaryID != 0 {
			boundaryOf[a] = r.BoundaryID
			ids = append(ids, r.BoundaryID)
		}
	}
	vs, err := h.DB.BoundaryVersions(ctx, rc.org.ID, ids)
	if err != nil {
		return nil, err
	}
	shapes := map[int64]*charts.GeoShape{} // by boundary
	var missing []int64
	for _, id := range ids {
		v, ok := vs[id]
		if !ok || !v.HasGeometry {
			continue
		}
		if s := h.geo.Get(charts.GeoKey{ID: id, Version: v.UpdatedAt}); s != nil {
			shapes[id] = s
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		nvs, geoms, err := h.DB.BoundaryGeometries(ctx, rc.org.ID, missing)
		if err != nil {
			return nil, err
		}
		for id, g := range geoms {
			s, err := charts.ParseGeoJSON(g)
			if err != nil {
				h.Log.Warn("boundary geometry unreadable", "boundary_id", id, "err", err)
				continue
			}
			h.geo.Put(charts.GeoKey{ID: id, Version: nvs[id].UpdatedAt}, s)
			shapes[id] = s
		}
	}
	out := map[int64]*charts.GeoShape{}
	for a, b := range boundaryOf {
		if s := shapes[b]; s != nil {
			out[a] = s
		}
	}
	return out, nil
}

// twoDP formats a figure with two decimals and thousands grouping (SPEC §3.5).
func twoDP(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, ch := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	out := b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}

// round2 rounds to two decimals.
func round2(v float64) float64 {
	x, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return x
}

// withMapQuery adds the map's focus and selection to a query string.
func withMapQuery(q url.Values, region, area int64) string {
	if region != 0 {
		q.Set("map_region", strconv.FormatInt(region, 10))
	} else {
		q.Del("map_region")
	}
	if area != 0 {
		q.Set("map_area", strconv.FormatInt(area, 10))
	} else {
		q.Del("map_area")
	}
	return q.Encode()
}

// pollrunMap is a poll run's Map tab: one map per question over this poll
// run's answers (with the contact-field filters of the tab).
func (h *Handlers) pollrunMap(c *fiber.Ctx) error {
	d, f, err := h.pollrunLoad(c, "map")
	if err != nil {
		return err
	}
	qs, err := h.DB.PollQuestions(c.UserContext(), d.Run.PollID)
	if err != nil {
		return err
	}
	base := "/pollrun/map/" + strconv.FormatInt(d.Run.ID, 10) + "/"
	link := func(region, area int64) string {
		q := url.Values{}
		for k, v := range d.Filter {
			q.Set("contact_"+k, v)
		}
		if s := withMapQuery(q, region, area); s != "" {
			return base + "?" + s
		}
		return base
	}
	if d.Map, err = h.buildMaps(c, models.ActiveQuestions(qs), []models.PollrunRef{d.Run.Ref()}, f, "#pollrun-tab", link); err != nil {
		return err
	}
	return h.renderPollrun(c, d)
}

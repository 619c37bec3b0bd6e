package models

import (
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"strconv"
)

// Participation across polls (issue #5 part 5, the seed's "participation of
// every contact in all polls on one page"): the contacts in scope × the most
// recent poll runs in scope, each cell the status of the contact's active
// response in that poll run.

// DefaultGridRuns is how many recent poll runs the grid shows by default.
const DefaultGridRuns = 6

// Grid cell values.
const (
	CellAnswered = "C" // complete response
	CellPartial  = "P" // partial response
	CellNone     = "E" // asked (a run exists) but nothing answered
	CellNotAsked = ""  // no run of this poll run for the contact
)

// GridFilter selects the grid's contacts and columns.
type GridFilter struct {
	Panel  int64 // 0 = the scope's data panels; else this accessible panel and its sub-panels
	Cohort int64 // 0 = any
	Runs   int   // poll runs shown (0 = DefaultGridRuns)
}

// GridPollrun is a column of the grid.
type GridPollrun struct {
	ID        int64
	PollName  string
	LocalDate string
	Spoofed   bool // a spoofed poll run (SPEC §3.6): made-up answers, marked as such
}

// GridRow is a contact's row: one cell per poll run (same order as the
// columns).
type GridRow struct {
	ContactID int64
	Name      string
	URN       string
	Panel     string
	Cells     []string
}

// Asked is the number of shown poll runs the contact was part of.
func (r GridRow) Asked() int {
	n := 0
	for _, c := range r.Cells {
		if c != CellNotAsked {
			n++
		}
	}
	return n
}

// Answered is the number of complete responses.
func (r GridRow) Answered() int {
	n := 0
	for _, c := range r.Cells {
		if c == CellAnswered {
			n++
		}
	}
	return n
}

// Rate is the contact's response rate over the shown poll runs it was part
// of, as a whole percentage ("" when it was part of none).
func (r GridRow) Rate() string {
	a := r.Asked()
	if a == 0 {
		return ""
	}
	return strconv.Itoa(r.Answered()*100/a) + "%"
}

// gridQuery is a grid request resolved against the scope.
type gridQuery struct {
	orgID   int64
	panels  []int64
	cohort  int64
	runs    []GridPollrun
	runList string
}

// resolveGrid checks the filter against the scope and reads the columns.
func (db *DB) resolveGrid(ctx context.Context, scope *Scope, f GridFilter) (*gridQuery, error) {
	g := &gridQuery{orgID: scope.OrgID, cohort: f.Cohort}
	switch {
	case f.Panel != 0:
		if !scope.CanAccess(f.Panel) {
			return nil, InvalidField("panel", "Choose one of your panels.")
		}
		for _, id := range scope.Tree.Descendants(f.Panel) {
			if scope.CanAccess(id) {
				g.panels = append(g.panels, id)
			}
		}
	case scope.DataPanels != nil:
		g.panels = scope.DataPanels
	default:
		for _, r := range scope.Tree.Panels {
			g.panels = append(g.panels, r.ID)
		}
	}
	if err := checkMessageCohort(ctx, db.DB, scope.OrgID, f.Cohort); err != nil {
		return nil, err
	}
	n := f.Runs
	if n <= 0 {
		n = DefaultGridRuns
	}
	rows, err := db.QueryContext(ctx, `SELECT pr.id, coalesce(nullif(p.name, ''), p.rapidpro_name), pr.local_date, pr.pollrun_type = 's'
		FROM pollruns pr JOIN polls p ON p.id = pr.poll_id
		WHERE pr.org_id = ? AND p.is_active = 1 AND `+scope.PollrunFilter("pr")+` AND `+scope.HasParticipants("pr")+`
		ORDER BY pr.conducted_on DESC, pr.id DESC LIMIT ?`, scope.OrgID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var r GridPollrun
		if err := rows.Scan(&r.ID, &r.PollName, &r.LocalDate, &r.Spoofed); err != nil {
			return nil, err
		}
		g.runs = append(g.runs, r)
		ids = append(ids, r.ID)
	}
	g.runList = idList(ids)
	return g, rows.Err()
}

// contactCond is the WHERE of the grid's contacts (alias c).
func (g *gridQuery) contactCond() string {
	q := `c.org_id = ` + strconv.FormatInt(g.orgID, 10) + ` AND c.is_active = 1 AND c.region_id IN (` + idList(g.panels) + `)`
	if g.cohort != 0 {
		// Probed per contact through the (contact, cohort) key: an IN list
		// of the cohort's members would be probed once per panel.
		q += ` AND EXISTS (SELECT 1 FROM contact_cohorts cc WHERE cc.contact_id = c.id AND cc.cohort_id = ` + strconv.FormatInt(g.cohort, 10) + `)`
	}
	return q
}

// rows reads a page of contacts (by name, then id) with their cells in one
// query: the page's contacts joined to their active responses in the
// columns' poll runs through the (poll run, contact) index. after* give the
// keyset position (the last row of the previous chunk) when offset < 0.
func (g *gridQuery) rows(ctx context.Context, q querier, limit, offset int, afterName string, afterID int64) ([]GridRow, error) {
	page := `SELECT c.id, c.name, c.urn, c.region_id FROM contacts c WHERE ` + g.contactCond()
	var args []any
	if offset < 0 {
		page += ` AND (c.name, c.id) > (?, ?) ORDER BY c.name, c.id LIMIT ?`
		args = append(args, afterName, afterID, limit)
	} else {
		page += ` ORDER BY c.name, c.id LIMIT ? OFFSET ?`
		args = append(args, limit, offset)
	}
	rows, err := q.QueryContext(ctx, `WITH page AS MATERIALIZED (`+page+`)
		SELECT page.id, page.name, page.urn, coalesce(rg.name, ''), r.pollrun_id, r.status
		FROM page LEFT JOIN regions rg ON rg.id = page.region_id
		LEFT JOIN responses r ON r.pollrun_id IN (`+g.runList+`) AND r.contact_id = page.id AND r.is_active = 1
		ORDER BY page.name, page.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	col := map[int64]int{}
	for i, r := range g.runs {
		col[r.ID] = i
	}
	var out []GridRow
	for rows.Next() {
		var id int64
		var name, urn, panel string
		var run sql.NullInt64
		var status sql.NullString
		if err := rows.Scan(&id, &name, &urn, &panel, &run, &status); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ContactID != id {
			out = append(out, GridRow{ContactID: id, Name: name, URN: urn, Panel: panel, Cells: make([]string, len(g.runs))})
		}
		if run.Valid {
			if i, ok := col[run.Int64]; ok {
				out[len(out)-1].Cells[i] = status.String
			}
		}
	}
	return out, rows.Err()
}

// ParticipationGrid is one page of the grid.
type ParticipationGrid struct {
	Pollruns []GridPollrun
	Rows     []GridRow
	Total    int // contacts matching the filter
}

// ParticipationAll reads one page of the participation grid: the active
// contacts of the filter's panels (within the scope) and cohort, by name,
// against the f.Runs most recent poll runs visible in the scope.
func (db *DB) ParticipationAll(ctx context.Context, scope *Scope, f GridFilter, page, perPage int) (*ParticipationGrid, error) {
	g, err := db.resolveGrid(ctx, scope, f)
	if err != nil {
		return nil, err
	}
	out := &ParticipationGrid{Pollruns: g.runs}
	count := `SELECT count(*) FROM contacts c WHERE ` + g.contactCond()
	if g.cohort != 0 {
		// Led by the cohort's members rather than by every contact of the panels.
		count = `SELECT count(*) FROM contact_cohorts cc CROSS JOIN contacts c ON c.id = cc.contact_id WHERE cc.cohort_id = ` +
			strconv.FormatInt(g.cohort, 10) + ` AND c.org_id = ` + strconv.FormatInt(g.orgID, 10) + ` AND c.is_active = 1 AND c.region_id IN (` + idList(g.panels) + `)`
	}
	if err := db.QueryRowContext(ctx, count).Scan(&out.Total); err != nil {
		return nil, err
	}
	out.Rows, err = g.rows(ctx, db.DB, perPage, (max(page, 1)-1)*perPage, "", 0)
	return out, err
}

// gridChunk is how many contacts one query of the CSV export reads.
const gridChunk = 500

// ExportParticipationAll writes the whole grid as CSV: Name, URN, Panel, one
// column per poll run ("poll (date)", newest first) holding answered,
// partial, none or an empty cell (not asked), then Response rate. Every cell
// goes through NeutraliseCell. labels translates the cell values and the
// header words (keys: Name, URN, Panel, Response rate, answered, partial,
// none). It returns the rows written.
func (db *DB) ExportParticipationAll(ctx context.Context, w io.Writer, scope *Scope, f GridFilter, labels map[string]string) (int, error) {
	g, err := db.resolveGrid(ctx, scope, f)
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	label := func(k string) string {
		if v, ok := labels[k]; ok {
			return v
		}
		return k
	}
	head := []string{label("Name"), label("URN"), label("Panel")}
	for _, r := range g.runs {
		col := r.PollName + " (" + r.LocalDate + ")"
		if r.Spoofed {
			col += " (" + label("Spoofed") + ")"
		}
		head = append(head, NeutraliseCell(col))
	}
	head = append(head, label("Response rate"))
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	cell := map[string]string{CellAnswered: label("answered"), CellPartial: label("partial"), CellNone: label("none"), CellNotAsked: ""}
	n := 0
	lastName, lastID := "", int64(0)
	for {
		rows, err := g.rows(ctx, db.DB, gridChunk, -1, lastName, lastID)
		if err != nil {
			return n, err
		}
		for _, r := range rows {
			rec := []string{NeutraliseCell(r.Name), NeutraliseCell(r.URN), NeutraliseCell(r.Panel)}
			for _, c := range r.Cells {
				rec = append(rec, cell[c])
			}
			rec = append(rec, r.Rate())
			if err := cw.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if len(rows) < gridChunk {
			return n, nil
		}
		lastName, lastID = rows[len(rows)-1].Name, rows[len(rows)-1].ContactID
	}
}

// FilterCohort is a cohort as the filters, the message form and the
// contact form offer it.
type FilterCohort struct {
	ID   int64
	Name string
}

// FilterCohorts lists the org's active cohorts by name.
func (db *DB) FilterCohorts(ctx context.Context, orgID int64) ([]FilterCohort, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, name FROM cohorts WHERE org_id = ? AND is_active = 1 ORDER BY name COLLATE NOCASE, id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FilterCohort
	for rows.Next() {
		var c FilterCohort
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

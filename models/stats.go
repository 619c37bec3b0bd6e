package models

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ChartFilter narrows chart and table queries.
type ChartFilter struct {
	Scope  *Scope            // the viewer's panel scope (required)
	From   time.Time         // poll runs conducted on or after (zero = no bound)
	To     time.Time         // … before (exclusive; zero = no bound)
	Fields map[string]string // data field key -> case-insensitive substring of the contact's value; all must match

	matched *string // the matching contacts as a JSON array (ResolveFilter), nil = not worked out
	rawRows bool    // read the raw rows even where field counters would serve (tests compare both)
}

// filtered reports whether contact-field filters apply (empty values are ignored).
func (f ChartFilter) filtered() bool {
	for _, v := range f.Fields {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// panels returns the panels whose contacts count: the scope's data panels, or
// every active panel for "All panels" (contacts of inactive panels never count).
func (f ChartFilter) panels() []int64 {
	if f.Scope.DataPanels != nil {
		return f.Scope.DataPanels
	}
	out := make([]int64, 0, len(f.Scope.Tree.Panels))
	for _, r := range f.Scope.Tree.Panels {
		out = append(out, r.ID)
	}
	return out
}

// fieldConds returns SQL conditions on contacts alias c for the field filters
// (ASCII case-insensitive substring; a field the org does not have matches nobody).
func (f ChartFilter) fieldConds() (string, []any) {
	keys := make([]string, 0, len(f.Fields))
	for k, v := range f.Fields {
		if strings.TrimSpace(v) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	var args []any
	for _, k := range keys {
		sb.WriteString(` AND EXISTS (SELECT 1 FROM contact_fields cf WHERE cf.contact_id = c.id
			AND cf.field_id = (SELECT id FROM data_fields WHERE org_id = ? AND key = ?) AND instr(lower(cf.value), lower(?)) > 0)`)
		args = append(args, f.Scope.OrgID, k, strings.TrimSpace(f.Fields[k]))
	}
	return sb.String(), args
}

// countedFrom joins the poll runs' responses r to their contacts c (of the
// panels, matching the field filters: conds). When the scope is a few panels,
// their matching contacts (contacts_region, then contact_fields) drive the
// join, each probing the poll runs through (pollrun_id, contact_id); for "All
// panels" the poll runs' responses do. Callers add r.is_active = 1 and the
// panel condition; conds' arguments come first.
func (f ChartFilter) countedFrom(pollrunsIn, panelsIn, conds string) string {
	if f.Scope.DataPanels != nil {
		return `FROM (SELECT c.id, c.region_id, c.is_active, c.language FROM contacts c WHERE c.org_id = ` + strconv.FormatInt(f.Scope.OrgID, 10) +
			` AND c.region_id IN (` + panelsIn + `) AND c.is_active = 1` + conds + ` LIMIT -1) c
			CROSS JOIN responses r ON r.pollrun_id IN (` + pollrunsIn + `) AND r.contact_id = c.id`
	}
	return `FROM responses r JOIN contacts c ON c.id = r.contact_id AND r.pollrun_id IN (` + pollrunsIn + `)` + conds
}

// PollrunRef is a poll run as charts need it.
type PollrunRef struct {
	ID, PollID, RegionID int64
	Type                 string
	ConductedOn          int64
	LocalDate            string
}

// ChartPollruns returns the poll runs of a poll visible in the scope within
// From/To, ascending by conducted_on ("All panels": every poll run). With
// onlyUniversal only universal and spoofed runs (SPEC §2.4: poll detail
// without a selected panel).
func (db *DB) ChartPollruns(ctx context.Context, pollID int64, f ChartFilter, onlyUniversal bool) ([]PollrunRef, error) {
	q := `SELECT pr.id, pr.poll_id, coalesce(pr.region_id, 0), pr.pollrun_type, pr.conducted_on, pr.local_date FROM pollruns pr
		WHERE pr.poll_id = ? AND pr.org_id = ? AND ` + f.Scope.PollrunFilter("pr") + ` AND ` + spoofFilter("pr")
	args := []any{pollID, f.Scope.OrgID}
	if onlyUniversal {
		q += ` AND pr.pollrun_type IN ('u', 's')`
	}
	if !f.From.IsZero() {
		q += ` AND pr.conducted_on >= ?`
		args = append(args, Ms(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND pr.conducted_on < ?`
		args = append(args, Ms(f.To))
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY pr.conducted_on, pr.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PollrunRef
	for rows.Next() {
		var p PollrunRef
		if err := rows.Scan(&p.ID, &p.PollID, &p.RegionID, &p.Type, &p.ConductedOn, &p.LocalDate); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// QuestionStats aggregates one question in one poll run over active responses
// of active contacts whose panel is active and in scope (SPEC §3.2).
type QuestionStats struct {
	Pollrun    PollrunRef
	Responses  int            // responses counted (all statuses, incl. empty)
	Answers    int            // answers to the question among them
	Numeric    int            // answers whose value_to_use is a number
	Sum, SumSq float64        // of the numeric value_to_use (org same-day setting: use_last → last_value, sum → sum_value)
	Categories map[string]int // answers per category ("" = none / open-ended)
}

// Average is Sum / Numeric (0 without numeric answers).
func (s QuestionStats) Average() float64 {
	if s.Numeric == 0 {
		return 0
	}
	return s.Sum / float64(s.Numeric)
}

// ResponseRate is 100 × Answers / Responses (0 without responses).
func (s QuestionStats) ResponseRate() float64 {
	if s.Responses == 0 {
		return 0
	}
	return 100 * float64(s.Answers) / float64(s.Responses)
}

func (s *QuestionStats) merge(o *QuestionStats) {
	s.Responses += o.Responses
	s.Answers += o.Answers
	s.Numeric += o.Numeric
	s.Sum += o.Sum
	s.SumSq += o.SumSq
	for k, v := range o.Categories {
		s.Categories[k] += v
	}
}

// statsCell is one poll run (and panel, when split) of a stats query.
type statsCell struct{ pollrun, region int64 }

// questionOrg checks that the question belongs to the scope's org and returns
// its type and whether the org sums same-day answers.
func (db *DB) questionOrg(ctx context.Context, questionID int64, orgID int64) (qtype string, sum bool, err error) {
	var sameday string
	err = db.QueryRowContext(ctx, `SELECT q.question_type, o.sameday FROM questions q JOIN polls p ON p.id = q.poll_id JOIN orgs o ON o.id = p.org_id
		WHERE q.id = ? AND p.org_id = ?`, questionID, orgID).Scan(&qtype, &sameday)
	if err == sql.ErrNoRows {
		return "", false, NotFound("question")
	}
	return qtype, sameday == "sum", err
}

func pollrunIDs(prs []PollrunRef) []int64 {
	ids := make([]int64, len(prs))
	for i, p := range prs {
		ids[i] = p.ID
	}
	return ids
}

// cells computes the stats of a question per poll run (and per panel when
// byPanel): from the counters without field filters, else from raw rows.
func (db *DB) cells(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter, byPanel bool) (map[statsCell]*QuestionStats, error) {
	return db.cellsKeeping(ctx, questionID, prs, f, byPanel, nil)
}

// cellsKeeping is cells; by panel from the counters with keep set, the panels
// not in keep are added up under panel 0.
func (db *DB) cellsKeeping(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter, byPanel bool, keep []int64) (map[statsCell]*QuestionStats, error) {
	_, sum, err := db.questionOrg(ctx, questionID, f.Scope.OrgID)
	if err != nil {
		return nil, err
	}
	out := map[statsCell]*QuestionStats{}
	panels := f.panels()
	if len(prs) == 0 || len(panels) == 0 {
		return out, nil
	}
	cell := func(pr, region int64) *QuestionStats {
		if !byPanel {
			region = 0
		}
		k := statsCell{pr, region}
		s := out[k]
		if s == nil {
			s = &QuestionStats{Categories: map[string]int{}}
			out[k] = s
		}
		return s
	}
	prIn, panelIn := idList(pollrunIDs(prs)), idList(panels)
	if f.filtered() {
		fieldID, text, ok, err := db.fieldCounted(ctx, f)
		if err != nil {
			return nil, err
		}
		if ok && !f.rawRows {
			return out, db.fieldCells(ctx, questionID, fieldID, text, sum, prIn, panelIn, cell, byPanel)
		}
		from, args := f.from(prIn, panelIn)
		col := "a.last_value"
		if sum {
			col = "a.sum_value"
		}
		rows, err := db.QueryContext(ctx, `SELECT r.pollrun_id, c.region_id, a.question_id IS NOT NULL, coalesce(a.category, ''), coalesce(`+col+`, '')
			`+from+` LEFT JOIN answers a ON a.response_id = r.id AND a.question_id = ?
			WHERE r.is_active = 1 AND c.is_active = 1 AND c.region_id IN (`+panelIn+`)`,
			append(args, questionID)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var pr, region int64
			var answered bool
			var category, v string
			if err := rows.Scan(&pr, &region, &answered, &category, &v); err != nil {
				return nil, err
			}
			s := cell(pr, region)
			s.Responses++
			if !answered {
				continue
			}
			s.Answers++
			s.Categories[category]++
			if x, ok := ParseNumber(v); ok {
				s.Numeric++
				s.Sum += x
				s.SumSq += x * x
			}
		}
		return out, rows.Err()
	}
	group, regionCol := "pollrun_id", "0"
	if byPanel {
		group, regionCol = "pollrun_id, region_id", "region_id"
		if keep != nil {
			regionCol = "CASE WHEN region_id IN (" + idList(keep) + ") THEN region_id ELSE 0 END"
			group = "pollrun_id, 2"
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT pollrun_id, `+regionCol+`, sum(empty + partial + complete) FROM response_counters
		WHERE pollrun_id IN (`+prIn+`) AND region_id IN (`+panelIn+`) GROUP BY `+group)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var pr, region int64
		var n int
		if err := rows.Scan(&pr, &region, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if n != 0 {
			cell(pr, region).Responses += n
		}
	}
	rows.Close()
	cols := "sum(n_last), sum(sum_last), sum(sumsq_last)"
	if sum {
		cols = "sum(n_sum), sum(sum_sum), sum(sumsq_sum)"
	}
	rows, err = db.QueryContext(ctx, `SELECT pollrun_id, `+regionCol+`, category, sum(answers), `+cols+` FROM answer_counters
		WHERE pollrun_id IN (`+prIn+`) AND question_id = ? AND region_id IN (`+panelIn+`) GROUP BY `+group+`, category`, questionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pr, region int64
		var category string
		var n, numeric int
		var total, sq float64
		if err := rows.Scan(&pr, &region, &category, &n, &numeric, &total, &sq); err != nil {
			return nil, err
		}
		if n == 0 && numeric == 0 {
			continue
		}
		s := cell(pr, region)
		s.Answers += n
		s.Categories[category] += n
		s.Numeric += numeric
		s.Sum += total
		s.SumSq += sq
	}
	return out, rows.Err()
}

// StatsByPollrun returns one QuestionStats per poll run, in the order given.
// Unfiltered (no Fields) reads the counters.
func (db *DB) StatsByPollrun(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter) ([]QuestionStats, error) {
	cells, err := db.cells(ctx, questionID, prs, f, false)
	if err != nil {
		return nil, err
	}
	out := make([]QuestionStats, len(prs))
	for i, p := range prs {
		out[i] = QuestionStats{Pollrun: p, Categories: map[string]int{}}
		if c := cells[statsCell{p.ID, 0}]; c != nil {
			out[i].merge(c)
		}
	}
	return out, nil
}

// StatsByPanel is StatsByPollrun split by the contact's panel (SPEC
// split_regions): panel id -> stats per poll run (in the order given), for the
// panels with responses in those poll runs.
func (db *DB) StatsByPanel(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter) (map[int64][]QuestionStats, error) {
	cells, err := db.cells(ctx, questionID, prs, f, true)
	if err != nil {
		return nil, err
	}
	return panelLists(cells, prs), nil
}

// panelLists turns cells by panel into stats per poll run (in the order
// given) per panel.
func panelLists(cells map[statsCell]*QuestionStats, prs []PollrunRef) map[int64][]QuestionStats {
	out := map[int64][]QuestionStats{}
	for k := range cells {
		if out[k.region] != nil {
			continue
		}
		list := make([]QuestionStats, len(prs))
		for i, p := range prs {
			list[i] = QuestionStats{Pollrun: p, Categories: map[string]int{}}
			if c := cells[statsCell{p.ID, k.region}]; c != nil {
				list[i].merge(c)
			}
		}
		out[k.region] = list
	}
	return out
}

// AnswerValue is one answer for word clouds and histograms.
type AnswerValue struct{ Value, Category, Language string }

// AnswerValues returns answers (value, category, the contact's language) of a
// question in those poll runs, for word clouds and histograms, newest poll run
// first; at most limit rows (0 = all), so a word cloud reads only the poll runs
// it needs. The value is the value_to_use: the same-day last or sum value for
// numeric questions, the raw value otherwise.
func (db *DB) AnswerValues(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter, limit int) ([]AnswerValue, error) {
	qtype, sum, err := db.questionOrg(ctx, questionID, f.Scope.OrgID)
	if err != nil {
		return nil, err
	}
	panels := f.panels()
	if len(prs) == 0 || len(panels) == 0 {
		return nil, nil
	}
	col := "a.value"
	if qtype == QuestionNumeric {
		col = "coalesce(a.last_value, a.value)"
		if sum {
			col = "coalesce(a.sum_value, a.value)"
		}
	}
	var out []AnswerValue
	for i := len(prs) - 1; i >= 0; i-- {
		from, condArgs := f.from(strconv.FormatInt(prs[i].ID, 10), idList(panels))
		q := `SELECT ` + col + `, coalesce(a.category, ''), c.language
			` + from + ` JOIN answers a ON a.response_id = r.id AND a.question_id = ?
			WHERE r.is_active = 1 AND c.is_active = 1 AND c.region_id IN (` + idList(panels) + `)`
		args := append(append([]any{}, condArgs...), questionID)
		if limit > 0 {
			q += ` LIMIT ?`
			args = append(args, limit-len(out))
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var v AnswerValue
			if err := rows.Scan(&v.Value, &v.Category, &v.Language); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}

// ParticipationRow is one cohort's or panel's responses in a poll run:
// None = empty, Partial, Full = complete.
type ParticipationRow struct {
	ID                  int64
	Name                string
	None, Partial, Full int
}

// Total is the number of responses of the row.
func (r ParticipationRow) Total() int { return r.None + r.Partial + r.Full }

// Completion is floor(100 × Full / Total) (0 without responses).
func (r ParticipationRow) Completion() int {
	if r.Total() == 0 {
		return 0
	}
	return 100 * r.Full / r.Total()
}

func (r *ParticipationRow) count(status string, n int) {
	switch status {
	case StatusEmpty:
		r.None += n
	case StatusPartial:
		r.Partial += n
	default:
		r.Full += n
	}
}

// Participation returns the responses of one poll run (SPEC §3.7) per cohort
// (by = "cohort"; active cohorts) or per panel (by = "panel"), only rows with
// responses, sorted by name. Totals count each contact once: a contact in two
// cohorts is in both rows but once in the totals (the original double-counted).
func (db *DB) Participation(ctx context.Context, pollrunID int64, f ChartFilter, by string) (rows []ParticipationRow, totals ParticipationRow, err error) {
	if by != "cohort" && by != "panel" {
		return nil, totals, Invalid("participation is by cohort or by panel")
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pollruns WHERE id = ? AND org_id = ?`, pollrunID, f.Scope.OrgID).Scan(&n); err != nil {
		return nil, totals, err
	}
	panels := f.panels()
	if n == 0 {
		return nil, totals, NotFound("poll run")
	}
	byID := map[int64]*ParticipationRow{}
	row := func(id int64, name string) *ParticipationRow {
		r := byID[id]
		if r == nil {
			r = &ParticipationRow{ID: id, Name: name}
			byID[id] = r
		}
		return r
	}
	panelName := func(id int64) string {
		if r, ok := f.Scope.Tree.Get(id); ok {
			return r.Name
		}
		return ""
	}
	if len(panels) == 0 {
		return nil, totals, nil
	}
	conds, args := f.fieldConds()
	switch {
	case by == "panel" && !f.filtered():
		rs, err := db.QueryContext(ctx, `SELECT region_id, empty, partial, complete FROM response_counters WHERE pollrun_id = ? AND region_id IN (`+idList(panels)+`)`, pollrunID)
		if err != nil {
			return nil, totals, err
		}
		for rs.Next() {
			var id int64
			var e, p, c int
			if err := rs.Scan(&id, &e, &p, &c); err != nil {
				rs.Close()
				return nil, totals, err
			}
			if e+p+c > 0 {
				r := row(id, panelName(id))
				r.None, r.Partial, r.Full = r.None+e, r.Partial+p, r.Full+c
				totals.None, totals.Partial, totals.Full = totals.None+e, totals.Partial+p, totals.Full+c
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, totals, err
		}
	case by == "panel":
		rs, err := db.QueryContext(ctx, `SELECT c.region_id, r.status, count(*) FROM responses r JOIN contacts c ON c.id = r.contact_id
			WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 AND c.region_id IN (`+idList(panels)+`)`+conds+` GROUP BY c.region_id, r.status`,
			append([]any{pollrunID}, args...)...)
		if err != nil {
			return nil, totals, err
		}
		for rs.Next() {
			var id int64
			var status string
			var k int
			if err := rs.Scan(&id, &status, &k); err != nil {
				rs.Close()
				return nil, totals, err
			}
			row(id, panelName(id)).count(status, k)
			totals.count(status, k)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, totals, err
		}
	default:
		names := map[int64]string{}
		cs, err := db.QueryContext(ctx, `SELECT id, name FROM cohorts WHERE org_id = ? AND is_active = 1`, f.Scope.OrgID)
		if err != nil {
			return nil, totals, err
		}
		for cs.Next() {
			var id int64
			var name string
			if err := cs.Scan(&id, &name); err != nil {
				cs.Close()
				return nil, totals, err
			}
			names[id] = name
		}
		cs.Close()
		if len(names) == 0 {
			return nil, totals, nil
		}
		cohorts := make([]int64, 0, len(names))
		for id := range names {
			cohorts = append(cohorts, id)
		}
		if !f.filtered() {
			// Counters (migration 0005), unless an inactive cohort exists:
			// cohort 0 counts contacts in any cohort, active or not.
			var inactive int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM cohorts WHERE org_id = ? AND is_active = 0`, f.Scope.OrgID).Scan(&inactive); err != nil {
				return nil, totals, err
			}
			if inactive == 0 {
				if err := db.cohortParticipation(ctx, pollrunID, panels, names, row, &totals); err != nil {
					return nil, totals, err
				}
				break
			}
		}
		rs, err := db.QueryContext(ctx, `SELECT r.contact_id, r.status, cc.cohort_id FROM responses r JOIN contacts c ON c.id = r.contact_id
			JOIN contact_cohorts cc ON cc.contact_id = r.contact_id AND cc.cohort_id IN (`+idList(cohorts)+`)
			WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 AND c.region_id IN (`+idList(panels)+`)`+conds,
			append([]any{pollrunID}, args...)...)
		if err != nil {
			return nil, totals, err
		}
		seen := map[int64]bool{}
		for rs.Next() {
			var contact, cohort int64
			var status string
			if err := rs.Scan(&contact, &status, &cohort); err != nil {
				rs.Close()
				return nil, totals, err
			}
			row(cohort, names[cohort]).count(status, 1)
			if !seen[contact] { // a contact in several cohorts counts once in the totals
				seen[contact] = true
				totals.count(status, 1)
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, totals, err
		}
	}
	for _, r := range byID {
		rows = append(rows, *r)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := strings.ToLower(rows[i].Name), strings.ToLower(rows[j].Name)
		if a != b {
			return a < b
		}
		return rows[i].ID < rows[j].ID
	})
	return rows, totals, nil
}

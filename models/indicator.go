package models

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"tracpro/stats"
)

// Indicator is a recent indicator (SPEC §1 BaselineTerm): a baseline question
// answered once per contact, compared with a follow-up question asked in
// several poll runs, between two org-local dates. Both questions are numeric.
type Indicator struct {
	ID                 int64
	OrgID              int64
	Name               string
	StartDate, EndDate string // org-local YYYY-MM-DD, start ≤ end
	BaselinePollID     int64
	BaselineQuestionID int64
	FollowUpPollID     int64
	FollowUpQuestionID int64
	YAxisTitle         string   // the baseline value's label ("" = none)
	Goal               *float64 // replaces the baseline value when set

	// Display names, read with the indicator.
	BaselinePoll, BaselineQuestion, FollowUpPoll, FollowUpQuestion string
}

// IndicatorInput is the indicator form as submitted: ids are 0 when not
// chosen (or not a number), Goal is the text typed ("" = none).
type IndicatorInput struct {
	Name, StartDate, EndDate, YAxisTitle, Goal string
	BaselinePollID, BaselineQuestionID         int64
	FollowUpPollID, FollowUpQuestionID         int64
}

// FieldErrors is several invalid fields of one form at once; errors.As finds
// the first *Error (code invalid) through Unwrap.
type FieldErrors []*Error

// Error joins the fields' messages.
func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets errors.As and ErrorCode see the field errors.
func (fe FieldErrors) Unwrap() []error {
	out := make([]error, len(fe))
	for i, e := range fe {
		out[i] = e
	}
	return out
}

// add keeps the first error of each field.
func (fe *FieldErrors) add(err error) {
	var e *Error
	if !errors.As(err, &e) {
		return
	}
	for _, o := range *fe {
		if o.Field == e.Field {
			return
		}
	}
	*fe = append(*fe, e)
}

func (fe FieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// parseDay reads an org-local YYYY-MM-DD date.
func parseDay(s string, loc *time.Location) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), loc)
	return t, err == nil
}

// IndicatorQuestions returns the questions an indicator may use in a tracked
// poll of the org: the numeric questions still in RapidPro (sums, means and
// baselines only make sense for numbers), in order. An unknown or untracked
// poll has none.
func (db *DB) IndicatorQuestions(ctx context.Context, orgID, pollID int64) ([]Question, error) {
	var ok int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM polls WHERE id = ? AND org_id = ? AND is_active = 1 AND in_rapidpro = 1`, pollID, orgID).Scan(&ok); err != nil {
		return nil, err
	}
	if ok == 0 {
		return nil, nil
	}
	qs, err := db.PollQuestions(ctx, pollID)
	if err != nil {
		return nil, err
	}
	var out []Question
	for _, q := range qs {
		if q.Type == QuestionNumeric {
			out = append(out, q)
		}
	}
	return out, nil
}

// validateIndicator checks the input against the org's polls and questions
// and returns the indicator to store (or every field error at once).
func (db *DB) validateIndicator(ctx context.Context, org *Org, in IndicatorInput) (*Indicator, error) {
	var fe FieldErrors
	ind := &Indicator{OrgID: org.ID, Name: strings.TrimSpace(in.Name), YAxisTitle: strings.TrimSpace(in.YAxisTitle),
		BaselinePollID: in.BaselinePollID, BaselineQuestionID: in.BaselineQuestionID,
		FollowUpPollID: in.FollowUpPollID, FollowUpQuestionID: in.FollowUpQuestionID}
	switch {
	case ind.Name == "":
		fe.add(InvalidField("name", "Enter a name."))
	case len(ind.Name) > 255:
		fe.add(InvalidField("name", "Use at most 255 characters."))
	}
	if len(ind.YAxisTitle) > 255 {
		fe.add(InvalidField("y_axis_title", "Use at most 255 characters."))
	}
	loc := org.Location()
	start, okS := parseDay(in.StartDate, loc)
	end, okE := parseDay(in.EndDate, loc)
	if !okS {
		fe.add(InvalidField("start_date", "Enter a valid date (YYYY-MM-DD)."))
	}
	if !okE {
		fe.add(InvalidField("end_date", "Enter a valid date (YYYY-MM-DD)."))
	}
	if okS && okE && end.Before(start) {
		fe.add(InvalidField("end_date", "The end date must not be before the start date."))
	}
	ind.StartDate, ind.EndDate = start.Format("2006-01-02"), end.Format("2006-01-02")
	if g := strings.TrimSpace(in.Goal); g != "" {
		v, err := strconv.ParseFloat(g, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			fe.add(InvalidField("goal", "Enter a number."))
		} else {
			ind.Goal = &v
		}
	}
	for _, side := range []struct {
		poll, question int64
		pf, qf         string
	}{{in.BaselinePollID, in.BaselineQuestionID, "baseline_poll", "baseline_question"},
		{in.FollowUpPollID, in.FollowUpQuestionID, "follow_up_poll", "follow_up_question"}} {
		qs, err := db.IndicatorQuestions(ctx, org.ID, side.poll)
		if err != nil {
			return nil, err
		}
		if side.poll == 0 || qs == nil {
			fe.add(InvalidField(side.pf, "Choose a poll with a numeric question."))
			continue
		}
		found := false
		for _, q := range qs {
			found = found || q.ID == side.question
		}
		switch {
		case side.question == 0:
			fe.add(InvalidField(side.qf, "Choose a question."))
		case !found:
			fe.add(InvalidField(side.qf, "Choose a numeric question of the chosen poll."))
		}
	}
	if in.BaselineQuestionID != 0 && in.BaselineQuestionID == in.FollowUpQuestionID {
		fe.add(InvalidField("follow_up_question", "The follow-up question must differ from the baseline question."))
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	return ind, nil
}

func nullGoal(g *float64) any {
	if g == nil {
		return nil
	}
	return *g
}

// CreateIndicator validates and stores a new indicator of the org.
func (db *DB) CreateIndicator(ctx context.Context, org *Org, in IndicatorInput) (*Indicator, error) {
	ind, err := db.validateIndicator(ctx, org, in)
	if err != nil {
		return nil, err
	}
	err = db.QueryRowContext(ctx, `INSERT INTO indicators (org_id, name, start_date, end_date, baseline_poll_id, baseline_question_id,
		follow_up_poll_id, follow_up_question_id, y_axis_title, goal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		org.ID, ind.Name, ind.StartDate, ind.EndDate, ind.BaselinePollID, ind.BaselineQuestionID, ind.FollowUpPollID, ind.FollowUpQuestionID,
		ind.YAxisTitle, nullGoal(ind.Goal)).Scan(&ind.ID)
	if err != nil {
		return nil, err
	}
	return db.IndicatorByID(ctx, org.ID, ind.ID)
}

// UpdateIndicator validates and saves an indicator of the org.
func (db *DB) UpdateIndicator(ctx context.Context, org *Org, id int64, in IndicatorInput) error {
	if _, err := db.IndicatorByID(ctx, org.ID, id); err != nil {
		return err
	}
	ind, err := db.validateIndicator(ctx, org, in)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `UPDATE indicators SET name = ?, start_date = ?, end_date = ?, baseline_poll_id = ?, baseline_question_id = ?,
		follow_up_poll_id = ?, follow_up_question_id = ?, y_axis_title = ?, goal = ? WHERE id = ? AND org_id = ?`,
		ind.Name, ind.StartDate, ind.EndDate, ind.BaselinePollID, ind.BaselineQuestionID, ind.FollowUpPollID, ind.FollowUpQuestionID,
		ind.YAxisTitle, nullGoal(ind.Goal), id, org.ID)
	return err
}

// DeleteIndicator removes an indicator of the org (not found otherwise).
func (db *DB) DeleteIndicator(ctx context.Context, orgID, id int64) error {
	res, err := db.ExecContext(ctx, `DELETE FROM indicators WHERE id = ? AND org_id = ?`, id, orgID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return NotFound("no such indicator")
	}
	return nil
}

const indicatorSelect = `SELECT i.id, i.org_id, i.name, i.start_date, i.end_date, i.baseline_poll_id, i.baseline_question_id,
	i.follow_up_poll_id, i.follow_up_question_id, i.y_axis_title, i.goal,
	coalesce(nullif(bp.name, ''), bp.rapidpro_name), coalesce(nullif(bq.name, ''), bq.rapidpro_name),
	coalesce(nullif(fp.name, ''), fp.rapidpro_name), coalesce(nullif(fq.name, ''), fq.rapidpro_name)
	FROM indicators i JOIN polls bp ON bp.id = i.baseline_poll_id JOIN questions bq ON bq.id = i.baseline_question_id
	JOIN polls fp ON fp.id = i.follow_up_poll_id JOIN questions fq ON fq.id = i.follow_up_question_id`

func scanIndicators(rows *sql.Rows) ([]Indicator, error) {
	defer rows.Close()
	var out []Indicator
	for rows.Next() {
		var i Indicator
		var goal sql.NullFloat64
		if err := rows.Scan(&i.ID, &i.OrgID, &i.Name, &i.StartDate, &i.EndDate, &i.BaselinePollID, &i.BaselineQuestionID,
			&i.FollowUpPollID, &i.FollowUpQuestionID, &i.YAxisTitle, &goal,
			&i.BaselinePoll, &i.BaselineQuestion, &i.FollowUpPoll, &i.FollowUpQuestion); err != nil {
			return nil, err
		}
		if goal.Valid {
			g := goal.Float64
			i.Goal = &g
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// IndicatorByID returns an indicator of the org (not found otherwise).
func (db *DB) IndicatorByID(ctx context.Context, orgID, id int64) (*Indicator, error) {
	rows, err := db.QueryContext(ctx, indicatorSelect+` WHERE i.org_id = ? AND i.id = ?`, orgID, id)
	if err != nil {
		return nil, err
	}
	out, err := scanIndicators(rows)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, NotFound("no such indicator")
	}
	return &out[0], nil
}

// ListIndicators returns the org's indicators, latest end date first; limit
// 0 = all.
func (db *DB) ListIndicators(ctx context.Context, orgID int64, limit int) ([]Indicator, error) {
	q := indicatorSelect + ` WHERE i.org_id = ? ORDER BY i.end_date DESC, i.id DESC`
	args := []any{orgID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanIndicators(rows)
}

// IndicatorFilter narrows an indicator's figures (SPEC §2.4 indicator
// detail): the chart filter's scope, dates (From/To, To exclusive) and
// contact fields, plus one contact panel (0 = every panel of the scope).
type IndicatorFilter struct {
	ChartFilter
	Panel int64
}

// IndicatorPoint is one follow-up poll run of an indicator.
type IndicatorPoint struct {
	Pollrun   PollrunRef
	Sum       float64 // of the numeric answers (value_to_use)
	Responses int     // responses counted (all statuses)
	Answers   int     // answers to the follow-up question among them
}

// Rate is 100 × answers / responses (0 without responses).
func (p IndicatorPoint) Rate() float64 {
	if p.Responses == 0 {
		return 0
	}
	return 100 * float64(p.Answers) / float64(p.Responses)
}

// Spoofed reports a spoofed poll run (SPEC §3.6).
func (p IndicatorPoint) Spoofed() bool { return p.Pollrun.Type == PollrunSpoofed }

// IndicatorReport is the chart and summary of an indicator (SPEC §3.6).
type IndicatorReport struct {
	Baseline          float64 // sum of each contact's earliest numeric baseline answer, or the goal
	Goal              bool    // Baseline is the goal; its response rate does not apply
	BaselineResponded int     // distinct contacts with a baseline response
	BaselineAnswered  int     // … of whom answered the baseline question
	FollowUps         []IndicatorPoint
	Answers           int     // follow-up answers in all
	Panels            []int64 // panels whose contacts answered either question (the panel filter's choices)
}

// BaselineRate is 100 × answered / responding contacts (0 without any).
func (r *IndicatorReport) BaselineRate() float64 {
	if r.BaselineResponded == 0 {
		return 0
	}
	return 100 * float64(r.BaselineAnswered) / float64(r.BaselineResponded)
}

// Sums returns the follow-up series.
func (r *IndicatorReport) Sums() []float64 {
	out := make([]float64, len(r.FollowUps))
	for i, p := range r.FollowUps {
		out[i] = p.Sum
	}
	return out
}

// Mean is the mean of the follow-up sums.
func (r *IndicatorReport) Mean() float64 { return stats.Mean(r.Sums()) }

// SD is the population standard deviation of the follow-up sums (SPEC §3.6's
// verified example: sums 42, 84, 126 → 34.3).
func (r *IndicatorReport) SD() float64 { return stats.PopulationSD(r.Sums()) }

// Rate is the mean of the follow-up poll runs' response rates.
func (r *IndicatorReport) Rate() float64 {
	rates := make([]float64, len(r.FollowUps))
	for i, p := range r.FollowUps {
		rates[i] = p.Rate()
	}
	return stats.Mean(rates)
}

// valueCol is the numeric value_to_use of answers alias a under the org's
// same-day setting (SPEC §3.1).
func valueCol(sum bool) string {
	if sum {
		return "coalesce(a.sum_value, a.value)"
	}
	return "coalesce(a.last_value, a.value)"
}

// baseline computes the baseline figures: per contact the earliest numeric
// answer to the question in the poll runs (summed), the contacts with a
// response and those with an answer; kept contacts only (keep: by panel), the
// panels with answers noted in answered. SQLite reduces the answers to each
// contact's earliest; the few contacts whose earliest answer is not a number
// are looked at again for their earliest numeric one.
func (db *DB) baseline(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter, panels []int64, sum bool,
	keep func(int64) bool, answered map[int64]bool, rep *IndicatorReport) error {
	if len(prs) == 0 || len(panels) == 0 {
		return nil
	}
	prIn, panelIn := idList(pollrunIDs(prs)), idList(panels)
	from, args := f.from(prIn, panelIn)
	where := ` WHERE c.is_active = 1 AND c.region_id IN (` + panelIn + `)`
	// One pass over the responses: one row per responding contact with its
	// earliest answer, if any (SQLite's min() picks the row the bare columns
	// come from; rows without an answer have no submitted_on and are skipped
	// by min(), so a contact who never answered gets NULL).
	rows, err := db.QueryContext(ctx, `SELECT r.contact_id, c.region_id, min(a.submitted_on), coalesce(`+valueCol(sum)+`, '')
		`+from+` LEFT JOIN answers a ON a.response_id = r.id AND a.question_id = ?`+where+` GROUP BY r.contact_id`, append(args, questionID)...)
	if err != nil {
		return err
	}
	var again []int64
	for rows.Next() {
		var contact, region int64
		var at sql.NullInt64
		var v string
		if err := rows.Scan(&contact, &region, &at, &v); err != nil {
			rows.Close()
			return err
		}
		if at.Valid {
			answered[region] = true
		}
		if !keep(region) {
			continue
		}
		rep.BaselineResponded++
		if !at.Valid {
			continue
		}
		rep.BaselineAnswered++
		if x, ok := ParseNumber(v); ok {
			rep.Baseline += x
		} else {
			again = append(again, contact)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return db.earliestNumbers(ctx, questionID, prIn, sum, again, rep)
}

// earliestNumbers adds to the baseline each contact's earliest numeric
// answer to the question in the poll runs (prIn), for contacts whose earliest
// answer is not a number.
func (db *DB) earliestNumbers(ctx context.Context, questionID int64, prIn string, sum bool, again []int64, rep *IndicatorReport) error {
	return inChunks(again, func(ids []any) error {
		rows, err := db.QueryContext(ctx, `SELECT r.contact_id, coalesce(`+valueCol(sum)+`, '') FROM responses r
			JOIN answers a ON a.response_id = r.id AND a.question_id = ?
			WHERE r.pollrun_id IN (`+prIn+`) AND r.contact_id IN (`+inPlaceholders(len(ids))+`) ORDER BY a.submitted_on, a.response_id`,
			append([]any{questionID}, ids...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		done := map[int64]bool{}
		for rows.Next() {
			var contact int64
			var v string
			if err := rows.Scan(&contact, &v); err != nil {
				return err
			}
			if x, ok := ParseNumber(v); ok && !done[contact] {
				done[contact] = true
				rep.Baseline += x
			}
		}
		return rows.Err()
	})
}

// followUpRaw adds the responses of the poll runs from active contacts of the
// panels (field filters applied), active or not (SPEC §3.6: inactive
// responses are not excluded), with their answers, to the points; onlyInactive
// reads the inactive ones alone (the counters hold the active ones).
func (db *DB) followUpRaw(ctx context.Context, questionID int64, points map[int64]*IndicatorPoint, prs []PollrunRef, f ChartFilter, panels []int64, sum bool,
	onlyInactive bool, keep func(int64) bool, answered map[int64]bool, rep *IndicatorReport) error {
	prIn, panelIn := idList(pollrunIDs(prs)), idList(panels)
	var from string
	var args []any
	if onlyInactive {
		from = `FROM responses r JOIN contacts c ON c.id = r.contact_id AND r.pollrun_id IN (` + prIn + `) AND r.is_active = 0`
	} else {
		from, args = f.from(prIn, panelIn)
	}
	rows, err := db.QueryContext(ctx, `SELECT r.pollrun_id, c.region_id, a.question_id IS NOT NULL, coalesce(`+valueCol(sum)+`, '')
		`+from+` LEFT JOIN answers a ON a.response_id = r.id AND a.question_id = ?
		WHERE c.is_active = 1 AND c.region_id IN (`+panelIn+`)`, append(args, questionID)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pr, region int64
		var isAnswer bool
		var v string
		if err := rows.Scan(&pr, &region, &isAnswer, &v); err != nil {
			return err
		}
		if isAnswer {
			answered[region] = true
		}
		if !keep(region) {
			continue
		}
		p := points[pr]
		p.Responses++
		if isAnswer {
			p.Answers++
			rep.Answers++
			if x, ok := ParseNumber(v); ok {
				p.Sum += x
			}
		}
	}
	return rows.Err()
}

// followUpCounters adds the active responses of the poll runs, and their
// answers, from the counters (migration 0003: active responses of active
// contacts by panel) to the points.
func (db *DB) followUpCounters(ctx context.Context, questionID int64, points map[int64]*IndicatorPoint, prs []PollrunRef, panels []int64, sum bool,
	keep func(int64) bool, answered map[int64]bool, rep *IndicatorReport) error {
	prIn, panelIn := idList(pollrunIDs(prs)), idList(panels)
	rows, err := db.QueryContext(ctx, `SELECT pollrun_id, region_id, empty + partial + complete FROM response_counters
		WHERE pollrun_id IN (`+prIn+`) AND region_id IN (`+panelIn+`)`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var pr, region int64
		var n int
		if err := rows.Scan(&pr, &region, &n); err != nil {
			rows.Close()
			return err
		}
		if keep(region) {
			points[pr].Responses += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	total := "sum(sum_last)"
	if sum {
		total = "sum(sum_sum)"
	}
	rows, err = db.QueryContext(ctx, `SELECT pollrun_id, region_id, sum(answers), `+total+` FROM answer_counters
		WHERE pollrun_id IN (`+prIn+`) AND question_id = ? AND region_id IN (`+panelIn+`) GROUP BY pollrun_id, region_id`, questionID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pr, region int64
		var n int
		var total float64
		if err := rows.Scan(&pr, &region, &n, &total); err != nil {
			return err
		}
		if n > 0 {
			answered[region] = true
		}
		if !keep(region) {
			continue
		}
		p := points[pr]
		p.Answers += n
		p.Sum += total
		rep.Answers += n
	}
	return rows.Err()
}

// IndicatorReport computes an indicator's figures (SPEC §3.6) in the
// filter's scope: the poll runs of each question's poll in [From, To) — only
// universal and spoofed ones without a selected panel, the panel scope rules
// otherwise —, counting responses of active contacts of the scope's panels
// (or of f.Panel) that match the field filters; as SPEC §3.6 says, inactive
// (superseded) responses are not left out. goal, when set, replaces the
// baseline value. Without field filters the follow-up figures come from the
// counters (plus the few inactive responses) and the baseline from
// first_counters when the poll runs left out hold none of the panels'
// responses (indicator_fast.go); otherwise the baseline is reduced to one row
// per responding contact in SQLite.
func (db *DB) IndicatorReport(ctx context.Context, ind *Indicator, f IndicatorFilter, goal *float64) (*IndicatorReport, error) {
	cf, err := db.ResolveFilter(ctx, f.ChartFilter)
	if err != nil {
		return nil, err
	}
	onlyUniversal := cf.Scope.Selected == 0
	rep := &IndicatorReport{}
	panels := cf.panels()
	keep := func(region int64) bool { return f.Panel == 0 || region == f.Panel }
	answered := map[int64]bool{}

	basePrs, err := db.ChartPollruns(ctx, ind.BaselinePollID, cf, onlyUniversal)
	if err != nil {
		return nil, err
	}
	_, sum, err := db.questionOrg(ctx, ind.BaselineQuestionID, cf.Scope.OrgID)
	if err != nil {
		return nil, err
	}
	if len(basePrs) > 0 && len(panels) > 0 {
		ok, err := db.baselineCounted(ctx, ind.BaselinePollID, ind.BaselineQuestionID, basePrs, cf, panels, sum, keep, answered, rep)
		if err == nil && !ok {
			err = db.baseline(ctx, ind.BaselineQuestionID, basePrs, cf, panels, sum, keep, answered, rep)
		}
		if err != nil {
			return nil, err
		}
	}
	if goal != nil {
		rep.Baseline, rep.Goal = *goal, true
	}

	fuPrs, err := db.ChartPollruns(ctx, ind.FollowUpPollID, cf, onlyUniversal)
	if err != nil {
		return nil, err
	}
	if _, _, err := db.questionOrg(ctx, ind.FollowUpQuestionID, cf.Scope.OrgID); err != nil {
		return nil, err
	}
	rep.FollowUps = make([]IndicatorPoint, len(fuPrs))
	points := map[int64]*IndicatorPoint{}
	for i, pr := range fuPrs {
		rep.FollowUps[i].Pollrun = pr
		points[pr.ID] = &rep.FollowUps[i]
	}
	if len(fuPrs) > 0 && len(panels) > 0 {
		if cf.filtered() {
			err = db.followUpRaw(ctx, ind.FollowUpQuestionID, points, fuPrs, cf, panels, sum, false, keep, answered, rep)
		} else if err = db.followUpCounters(ctx, ind.FollowUpQuestionID, points, fuPrs, panels, sum, keep, answered, rep); err == nil {
			err = db.followUpRaw(ctx, ind.FollowUpQuestionID, points, fuPrs, cf, panels, sum, true, keep, answered, rep)
		}
		if err != nil {
			return nil, err
		}
	}
	for id := range answered {
		rep.Panels = append(rep.Panels, id)
	}
	sort.Slice(rep.Panels, func(i, j int) bool { return rep.Panels[i] < rep.Panels[j] })
	return rep, nil
}

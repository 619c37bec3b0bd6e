package models

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Counters (migrations/0003_counters.sql) hold, per poll run × question ×
// panel × category, the answers counted and the count, sum and sum of squares
// of their numeric value_to_use under both same-day settings, and per poll run
// × panel the responses by status. Counted = active responses of active
// contacts, under the contact's panel. Every function that changes those rows
// collects the change in a counterDelta and applies it, one upsert per key, in
// its own transaction.

type counterKey struct {
	pollrun, question, region int64
	category                  string
}

type counterVal struct {
	answers, nLast, nSum           int64
	sumLast, sqLast, sumSum, sqSum float64
}

func (v *counterVal) zero() bool {
	return v.answers == 0 && v.nLast == 0 && v.nSum == 0 && v.sumLast == 0 && v.sqLast == 0 && v.sumSum == 0 && v.sqSum == 0
}

type respKey struct{ pollrun, region int64 }

type respVal struct{ e, p, c int64 }

// counterDelta accumulates counter changes in Go, so a transaction writes
// each distinct key once.
type counterDelta struct {
	answers map[counterKey]*counterVal
	resps   map[respKey]*respVal
	nums    map[numKey]int64 // value_counters (migration 0006)
}

// numKey is one number of the answers to a question in a poll run and panel:
// with sum false, how many answers' last value it is; with sum true, how many
// more answers have it as their same-day sum than as their last value (the
// sum setting's count is the two added up; most answers' sum is their last
// value and need no second row).
type numKey struct {
	pollrun, question, region int64
	sum                       bool
	number                    float64
}

func newCounterDelta() *counterDelta {
	return &counterDelta{answers: map[counterKey]*counterVal{}, resps: map[respKey]*respVal{}, nums: map[numKey]int64{}}
}

// number counts the numeric values of an answer in or out of value_counters.
func (d *counterDelta) number(k counterKey, last, sum string, sign int64) {
	lf, lok := ParseNumber(last)
	sf, sok := ParseNumber(sum)
	if lok {
		d.nums[numKey{k.pollrun, k.question, k.region, false, lf}] += sign
	}
	if lok && sok && lf == sf {
		return
	}
	if sok {
		d.nums[numKey{k.pollrun, k.question, k.region, true, sf}] += sign
	}
	if lok {
		d.nums[numKey{k.pollrun, k.question, k.region, true, lf}] -= sign
	}
}

func (d *counterDelta) response(pollrun, region int64, status string, sign int64) {
	k := respKey{pollrun, region}
	v := d.resps[k]
	if v == nil {
		v = &respVal{}
		d.resps[k] = v
	}
	switch status {
	case StatusEmpty:
		v.e += sign
	case StatusPartial:
		v.p += sign
	default:
		v.c += sign
	}
}

func (d *counterDelta) val(k counterKey) *counterVal {
	v := d.answers[k]
	if v == nil {
		v = &counterVal{}
		d.answers[k] = v
	}
	return v
}

// answer counts one answer in or out (sign ±1).
func (d *counterDelta) answer(k counterKey, last, sum string, sign int64) {
	v := d.val(k)
	v.answers += sign
	v.numeric(last, sum, sign)
	d.number(k, last, sum, sign)
}

// values moves an answer's numeric contribution when its last/sum values change.
func (d *counterDelta) values(k counterKey, oldLast, oldSum, last, sum string) {
	v := d.val(k)
	v.numeric(oldLast, oldSum, -1)
	v.numeric(last, sum, 1)
	d.number(k, oldLast, oldSum, -1)
	d.number(k, last, sum, 1)
}

func (v *counterVal) numeric(last, sum string, sign int64) {
	if f, ok := ParseNumber(last); ok {
		v.nLast += sign
		v.sumLast += float64(sign) * f
		v.sqLast += float64(sign) * f * f
	}
	if f, ok := ParseNumber(sum); ok {
		v.nSum += sign
		v.sumSum += float64(sign) * f
		v.sqSum += float64(sign) * f * f
	}
}

// storedResponse is a response with what it contributes to the counters.
type storedResponse struct {
	id, pollrun, contact, region int64
	contactActive, active        bool
	status                       string
	answers                      []storedAnswer
}

type storedAnswer struct {
	question  int64
	category  string
	last, sum string
}

// add counts the response (and its answers) in or out under a panel.
func (d *counterDelta) add(s *storedResponse, region int64, sign int64) {
	d.response(s.pollrun, region, s.status, sign)
	for _, a := range s.answers {
		d.answer(counterKey{s.pollrun, a.question, region, a.category}, a.last, a.sum, sign)
	}
}

// loadResponses reads responses (with their contact's panel and activity and
// their answers) matching a condition on r (responses) and c (contacts).
func loadResponses(ctx context.Context, q querier, where string, args ...any) ([]*storedResponse, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.pollrun_id, r.contact_id, coalesce(c.region_id, 0), c.is_active, r.is_active, r.status,
		a.question_id, coalesce(a.category, ''), coalesce(a.last_value, ''), coalesce(a.sum_value, '')
		FROM responses r JOIN contacts c ON c.id = r.contact_id LEFT JOIN answers a ON a.response_id = r.id WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*storedResponse
	byID := map[int64]*storedResponse{}
	for rows.Next() {
		var s storedResponse
		var qid sql.NullInt64
		var a storedAnswer
		if err := rows.Scan(&s.id, &s.pollrun, &s.contact, &s.region, &s.contactActive, &s.active, &s.status, &qid, &a.category, &a.last, &a.sum); err != nil {
			return nil, err
		}
		p := byID[s.id]
		if p == nil {
			p = &s
			byID[s.id] = p
			out = append(out, p)
		}
		if qid.Valid {
			a.question = qid.Int64
			p.answers = append(p.answers, a)
		}
	}
	return out, rows.Err()
}

// inChunks calls fn with ids in slices of at most 500.
func inChunks(ids []int64, fn func([]any) error) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := fn(args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// loadResponsesByID reads the given responses.
func loadResponsesByID(ctx context.Context, q querier, ids []int64) ([]*storedResponse, error) {
	var out []*storedResponse
	err := inChunks(ids, func(args []any) error {
		rs, err := loadResponses(ctx, q, `r.id IN (`+inPlaceholders(len(args))+`)`, args...)
		out = append(out, rs...)
		return err
	})
	return out, err
}

// contactMove is a contact's counted state before and after a change.
type contactMove struct {
	oldActive, newActive bool
	oldRegion, newRegion int64
}

func (m contactMove) changed() bool {
	return m.oldActive != m.newActive || (m.newActive && m.oldRegion != m.newRegion)
}

// moveContacts moves the counted contributions of the contacts' active
// responses from their old state to the new one and applies them. Responses
// are found poll run by poll run through the (poll run, contact) index.
func moveContacts(ctx context.Context, tx *sql.Tx, orgID int64, moves map[int64]contactMove) error {
	var ids []int64
	for id, m := range moves {
		if m.changed() {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	d := newCounterDelta()
	err := inChunks(ids, func(args []any) error {
		rs, err := loadResponses(ctx, tx, `r.pollrun_id IN (SELECT id FROM pollruns WHERE org_id = ?) AND r.contact_id IN (`+inPlaceholders(len(args))+`) AND r.is_active = 1`,
			append([]any{orgID}, args...)...)
		if err != nil {
			return err
		}
		for _, s := range rs {
			m := moves[s.contact]
			if m.oldActive {
				d.add(s, m.oldRegion, -1)
			}
			if m.newActive {
				d.add(s, m.newRegion, 1)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return d.flush(ctx, tx)
}

// flush applies the accumulated changes: one upsert per distinct key.
func (d *counterDelta) flush(ctx context.Context, tx *sql.Tx) error {
	var vals []any
	for k, v := range d.answers {
		if !v.zero() {
			vals = append(vals, k.pollrun, k.question, k.region, k.category, v.answers, v.nLast, v.sumLast, v.sqLast, v.nSum, v.sumSum, v.sqSum)
		}
	}
	if err := upsertMulti(ctx, tx, `INSERT INTO answer_counters (pollrun_id, question_id, region_id, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)`,
		11, vals, ` ON CONFLICT (pollrun_id, question_id, region_id, category) DO UPDATE SET answers = answers + excluded.answers,
		n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
		n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum`); err != nil {
		return err
	}
	vals = vals[:0]
	for k, v := range d.resps {
		if v.e != 0 || v.p != 0 || v.c != 0 {
			vals = append(vals, k.pollrun, k.region, v.e, v.p, v.c)
		}
	}
	if err := upsertMulti(ctx, tx, `INSERT INTO response_counters (pollrun_id, region_id, empty, partial, complete)`, 5, vals,
		` ON CONFLICT (pollrun_id, region_id) DO UPDATE SET empty = empty + excluded.empty, partial = partial + excluded.partial, complete = complete + excluded.complete`); err != nil {
		return err
	}
	vals = vals[:0]
	for k, n := range d.nums {
		if n != 0 {
			vals = append(vals, k.pollrun, k.question, k.region, k.sum, k.number, n)
		}
	}
	if err := upsertMulti(ctx, tx, `INSERT INTO value_counters (pollrun_id, question_id, region_id, same_day_sum, number, answers)`, 6, vals,
		` ON CONFLICT (pollrun_id, question_id, same_day_sum, region_id, number) DO UPDATE SET answers = answers + excluded.answers`); err != nil {
		return err
	}
	d.answers, d.resps, d.nums = map[counterKey]*counterVal{}, map[respKey]*respVal{}, map[numKey]int64{}
	return nil
}

// upsertMulti runs head VALUES (…), (…) tail over flat groups of cols values.
func upsertMulti(ctx context.Context, tx *sql.Tx, head string, cols int, vals []any, tail string) error {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for len(vals) > 0 {
		n := min(len(vals)/cols, rowsPerInsert)
		st := stmts[n]
		if st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, head+" VALUES "+strings.TrimSuffix(strings.Repeat(row+",", n), ",")+tail); err != nil {
				return err
			}
			stmts[n] = st
		}
		if _, err := st.ExecContext(ctx, vals[:n*cols]...); err != nil {
			return err
		}
		vals = vals[n*cols:]
	}
	return nil
}

// CounterDrift is one counter that differs from the raw rows.
type CounterDrift struct {
	Key         string // e.g. "answers pollrun=3 question=7 panel=2 category=\"Yes\""
	Stored, Raw string
}

// RecountReport is what a recount found.
type RecountReport struct {
	Checked, Drifted int            // Drifted includes cohort counters
	CohortsChecked   int            // cohort counters checked (migration 0005), not in Checked
	FieldsChecked    int            // field counters checked (migration 0006), not in Checked
	FirstChecked     int            // first answers and their counters checked (migration 0014), not in Checked
	Drifts           []CounterDrift // the first maxReportedDrifts
	Fixed            bool
}

const maxReportedDrifts = 1000

// RecountOrg compares the org's counters with its raw rows, poll run by poll
// run (one transaction each), and with fix rewrites the counters of every poll
// run that drifted. Needed after restoring counters-less data or, as a check,
// at any time; changes of the org's same-day setting need no recount (both
// variants are counted).
func (db *DB) RecountOrg(ctx context.Context, orgID int64, fix bool) (*RecountReport, error) {
	rep := &RecountReport{Fixed: fix}
	var prs []int64
	rows, err := db.QueryContext(ctx, `SELECT id FROM pollruns WHERE org_id = ? ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		prs = append(prs, id)
	}
	rows.Close()
	for _, pr := range prs {
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return recountPollrun(ctx, tx, pr, fix, rep) }); err != nil {
			return rep, err
		}
	}
	return rep, db.recountOrgFirsts(ctx, orgID, fix, rep)
}

// rawCounters computes a poll run's counters from its rows.
func rawCounters(ctx context.Context, q querier, pollrun int64) (*counterDelta, error) {
	rs, err := loadResponses(ctx, q, `r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1`, pollrun)
	if err != nil {
		return nil, err
	}
	d := newCounterDelta()
	for _, s := range rs {
		d.add(s, s.region, 1)
	}
	return d, nil
}

func recountPollrun(ctx context.Context, tx *sql.Tx, pollrun int64, fix bool, rep *RecountReport) error {
	raw, err := rawCounters(ctx, tx, pollrun)
	if err != nil {
		return err
	}
	stored := newCounterDelta()
	rows, err := tx.QueryContext(ctx, `SELECT question_id, region_id, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum
		FROM answer_counters WHERE pollrun_id = ?`, pollrun)
	if err != nil {
		return err
	}
	for rows.Next() {
		k := counterKey{pollrun: pollrun}
		var v counterVal
		if err := rows.Scan(&k.question, &k.region, &k.category, &v.answers, &v.nLast, &v.sumLast, &v.sqLast, &v.nSum, &v.sumSum, &v.sqSum); err != nil {
			rows.Close()
			return err
		}
		stored.answers[k] = &v
	}
	rows.Close()
	if rows, err = tx.QueryContext(ctx, `SELECT region_id, empty, partial, complete FROM response_counters WHERE pollrun_id = ?`, pollrun); err != nil {
		return err
	}
	for rows.Next() {
		k := respKey{pollrun: pollrun}
		var v respVal
		if err := rows.Scan(&k.region, &v.e, &v.p, &v.c); err != nil {
			rows.Close()
			return err
		}
		stored.resps[k] = &v
	}
	rows.Close()
	drifted := false
	drift := func(key, s, r string) {
		drifted = true
		rep.Drifted++
		if len(rep.Drifts) < maxReportedDrifts {
			rep.Drifts = append(rep.Drifts, CounterDrift{Key: key, Stored: s, Raw: r})
		}
	}
	var zero counterVal
	for _, k := range unionKeys(raw.answers, stored.answers) {
		r, s := raw.answers[k], stored.answers[k]
		if r == nil {
			r = &zero
		}
		if s == nil {
			s = &zero
		}
		rep.Checked++
		if !r.equal(s) {
			drift(fmt.Sprintf("answers pollrun=%d question=%d panel=%d category=%q", k.pollrun, k.question, k.region, k.category), s.String(), r.String())
		}
	}
	var zr respVal
	for _, k := range unionKeys(raw.resps, stored.resps) {
		r, s := raw.resps[k], stored.resps[k]
		if r == nil {
			r = &zr
		}
		if s == nil {
			s = &zr
		}
		rep.Checked++
		if *r != *s {
			drift(fmt.Sprintf("responses pollrun=%d panel=%d", k.pollrun, k.region), s.String(), r.String())
		}
	}
	if rows, err = tx.QueryContext(ctx, `SELECT question_id, region_id, same_day_sum, number, answers FROM value_counters WHERE pollrun_id = ?`, pollrun); err != nil {
		return err
	}
	for rows.Next() {
		k := numKey{pollrun: pollrun}
		var n int64
		if err := rows.Scan(&k.question, &k.region, &k.sum, &k.number, &n); err != nil {
			rows.Close()
			return err
		}
		stored.nums[k] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range unionKeys(numMap(raw.nums), numMap(stored.nums)) {
		rep.Checked++
		if r, s := raw.nums[k], stored.nums[k]; r != s {
			drift(fmt.Sprintf("values pollrun=%d question=%d panel=%d sum=%t number=%s", k.pollrun, k.question, k.region, k.sum, fnum(k.number)), strconv.FormatInt(s, 10), strconv.FormatInt(r, 10))
		}
	}
	mainDrifted := drifted
	if _, err := recountCohorts(ctx, tx, pollrun, fix, rep, drift); err != nil {
		return err
	}
	if err := recountFields(ctx, tx, pollrun, fix, rep, drift); err != nil {
		return err
	}
	if !fix || !mainDrifted {
		return nil
	}
	for _, t := range []string{"answer_counters", "response_counters", "value_counters"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE pollrun_id = ?`, pollrun); err != nil {
			return err
		}
	}
	return raw.flush(ctx, tx)
}

// unionKeys returns the keys not zero in a or in b, sorted.
func unionKeys[K comparable, V interface{ isZero() bool }](a, b map[K]V) []K {
	seen := map[K]bool{}
	var out []K
	for _, m := range []map[K]V{a, b} {
		for k, v := range m {
			if !v.isZero() && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func (v *counterVal) isZero() bool { return v.zero() }

// numCount is a value_counters count for unionKeys.
type numCount int64

func (n numCount) isZero() bool { return n == 0 }

func numMap(m map[numKey]int64) map[numKey]numCount {
	out := make(map[numKey]numCount, len(m))
	for k, v := range m {
		out[k] = numCount(v)
	}
	return out
}

func (v *respVal) isZero() bool { return v.e == 0 && v.p == 0 && v.c == 0 }

// closeEnough compares sums accumulated in different orders.
func closeEnough(a, b float64) bool {
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func (v *counterVal) equal(o *counterVal) bool {
	return v.answers == o.answers && v.nLast == o.nLast && v.nSum == o.nSum && closeEnough(v.sumLast, o.sumLast) &&
		closeEnough(v.sqLast, o.sqLast) && closeEnough(v.sumSum, o.sumSum) && closeEnough(v.sqSum, o.sqSum)
}

func fnum(f float64) string { return strconv.FormatFloat(f, 'g', 10, 64) }

func (v *counterVal) String() string {
	return fmt.Sprintf("answers=%d last(n=%d sum=%s sq=%s) sum(n=%d sum=%s sq=%s)", v.answers, v.nLast, fnum(v.sumLast), fnum(v.sqLast), v.nSum, fnum(v.sumSum), fnum(v.sqSum))
}

func (v *respVal) String() string { return fmt.Sprintf("E=%d P=%d C=%d", v.e, v.p, v.c) }

type cohortKey struct{ cohort, region int64 }

// recountCohorts compares a poll run's cohort counters (kept by the triggers
// of migrations/0005_cohort_counters.sql) with its raw rows, reports each
// drifted key through drift and, with fix, rewrites them when one drifted.
func recountCohorts(ctx context.Context, tx *sql.Tx, pollrun int64, fix bool, rep *RecountReport, drift func(key, s, r string)) (bool, error) {
	read := func(q string) (map[cohortKey]*respVal, error) {
		out := map[cohortKey]*respVal{}
		rows, err := tx.QueryContext(ctx, q, pollrun, pollrun, pollrun)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var k cohortKey
			var e, p, c int64
			if err := rows.Scan(&k.cohort, &k.region, &e, &p, &c); err != nil {
				return nil, err
			}
			v := out[k]
			if v == nil {
				v = &respVal{}
				out[k] = v
			}
			v.e, v.p, v.c = v.e+e, v.p+p, v.c+c
		}
		return out, rows.Err()
	}
	counts := `sum(r.status = 'E'), sum(r.status = 'P'), sum(r.status NOT IN ('E', 'P'))`
	raw, err := read(`SELECT cc.cohort_id, coalesce(c.region_id, 0), ` + counts + ` FROM responses r JOIN contacts c ON c.id = r.contact_id
		JOIN contact_cohorts cc ON cc.contact_id = r.contact_id WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 GROUP BY 1, 2
		UNION ALL SELECT 0, coalesce(c.region_id, 0), ` + counts + ` FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 AND EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = r.contact_id) GROUP BY 2
		UNION ALL SELECT -1, coalesce(c.region_id, 0), ` + counts + ` FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1 GROUP BY 2`)
	if err != nil {
		return false, err
	}
	stored, err := read(`SELECT cohort_id, region_id, empty, partial, complete FROM cohort_counters WHERE pollrun_id = ? AND ? IS NOT NULL AND ? IS NOT NULL`)
	if err != nil {
		return false, err
	}
	drifted := false
	var zr respVal
	for _, k := range unionKeys(raw, stored) {
		r, s := raw[k], stored[k]
		if r == nil {
			r = &zr
		}
		if s == nil {
			s = &zr
		}
		rep.CohortsChecked++
		if *r != *s {
			drifted = true
			drift(fmt.Sprintf("cohorts pollrun=%d cohort=%d panel=%d", pollrun, k.cohort, k.region), s.String(), r.String())
		}
	}
	if !fix || !drifted {
		return drifted, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cohort_counters WHERE pollrun_id = ?`, pollrun); err != nil {
		return drifted, err
	}
	var vals []any
	for k, v := range raw {
		if !v.isZero() {
			vals = append(vals, pollrun, k.cohort, k.region, v.e, v.p, v.c)
		}
	}
	return drifted, upsertMulti(ctx, tx, `INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)`, 6, vals, "")
}

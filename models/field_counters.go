package models

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Field counters (migrations/0006_field_counters.sql): the answer and response
// counters per value of each data field shown on TracPro, kept by triggers.
// A chart filtered on one shown field sums the rows whose value contains the
// filter text — the raw query's own test — instead of reading every matching
// contact's responses.

// fieldCounted returns the data field whose counters serve f: exactly one
// field filter with text, on a field shown on TracPro (the triggers keep only
// those). ok is false when the raw rows must be read.
func (db *DB) fieldCounted(ctx context.Context, f ChartFilter) (fieldID int64, text string, ok bool, err error) {
	if f.Scope == nil || !f.filtered() {
		return 0, "", false, nil
	}
	var key string
	for k, v := range f.Fields {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if text != "" {
			return 0, "", false, nil // two fields: the raw rows
		}
		key, text = k, v
	}
	err = db.QueryRowContext(ctx, `SELECT id FROM data_fields WHERE org_id = ? AND key = ? AND show_on_tracpro = 1`, f.Scope.OrgID, key).Scan(&fieldID)
	if err == sql.ErrNoRows {
		return 0, "", false, nil
	}
	return fieldID, text, err == nil, err
}

// fieldCells is cells read from the field counters.
func (db *DB) fieldCells(ctx context.Context, questionID, fieldID int64, text string, sum bool, prIn, panelIn string,
	cell func(pr, region int64) *QuestionStats, byPanel bool) error {
	group, regionCol := "pollrun_id", "0"
	if byPanel {
		group, regionCol = "pollrun_id, region_id", "region_id"
	}
	cols := "sum(n_last), sum(sum_last), sum(sumsq_last)"
	if sum {
		cols = "sum(n_sum), sum(sum_sum), sum(sumsq_sum)"
	}
	rows, err := db.QueryContext(ctx, `SELECT pollrun_id, `+regionCol+`, question_id, category, sum(answers), `+cols+` FROM field_counters
		WHERE field_id = ? AND pollrun_id IN (`+prIn+`) AND question_id IN (0, ?) AND region_id IN (`+panelIn+`)
		AND instr(lower(value), lower(?)) > 0 GROUP BY `+group+`, question_id, category`, fieldID, questionID, text)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pr, region, question int64
		var category string
		var n, numeric int
		var total, sq float64
		if err := rows.Scan(&pr, &region, &question, &category, &n, &numeric, &total, &sq); err != nil {
			return err
		}
		if n == 0 && numeric == 0 {
			continue
		}
		s := cell(pr, region)
		if question == 0 {
			s.Responses += n
			continue
		}
		s.Answers += n
		s.Categories[category] += n
		s.Numeric += numeric
		s.Sum += total
		s.SumSq += sq
	}
	return rows.Err()
}

// fieldCounterKey is one field counter of a poll run.
type fieldCounterKey struct {
	field, question, region int64
	value, category         string
}

// recountFields compares a poll run's field counters with its raw rows,
// reports each drifted key through drift and, with fix, rewrites them when
// one drifted.
func recountFields(ctx context.Context, tx *sql.Tx, pollrun int64, fix bool, rep *RecountReport, drift func(key, s, r string)) error {
	// The raw rows, grouped by value so that each distinct number is parsed
	// once, here in Go (ParseNumber, as the ingest and the triggers).
	raw := map[fieldCounterKey]*counterVal{}
	const visible = `cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1`
	rows, err := tx.QueryContext(ctx, `SELECT cf.field_id, 0, coalesce(c.region_id, 0), cf.value, '', NULL, NULL, count(*)
		FROM responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND `+visible+`
		GROUP BY cf.field_id, c.region_id, cf.value
		UNION ALL
		SELECT cf.field_id, a.question_id, coalesce(c.region_id, 0), cf.value, coalesce(a.category, ''), a.last_value, a.sum_value, count(*)
		FROM responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df CROSS JOIN answers a
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND `+visible+`
			AND a.response_id = r.id
		GROUP BY cf.field_id, c.region_id, cf.value, a.question_id, a.category, a.last_value, a.sum_value`, pollrun, pollrun)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k fieldCounterKey
		var last, sum sql.NullString
		var n int64
		if err := rows.Scan(&k.field, &k.question, &k.region, &k.value, &k.category, &last, &sum, &n); err != nil {
			rows.Close()
			return err
		}
		v := raw[k]
		if v == nil {
			v = &counterVal{}
			raw[k] = v
		}
		v.answers += n
		if x, ok := ParseNumber(last.String); ok && last.Valid {
			v.nLast, v.sumLast, v.sqLast = v.nLast+n, v.sumLast+float64(n)*x, v.sqLast+float64(n)*x*x
		}
		if x, ok := ParseNumber(sum.String); ok && sum.Valid {
			v.nSum, v.sumSum, v.sqSum = v.nSum+n, v.sumSum+float64(n)*x, v.sqSum+float64(n)*x*x
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	stored := map[fieldCounterKey]*counterVal{}
	if rows, err = tx.QueryContext(ctx, `SELECT field_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum
		FROM field_counters WHERE pollrun_id = ?`, pollrun); err != nil {
		return err
	}
	for rows.Next() {
		var k fieldCounterKey
		var v counterVal
		if err := rows.Scan(&k.field, &k.question, &k.region, &k.value, &k.category, &v.answers, &v.nLast, &v.sumLast, &v.sqLast, &v.nSum, &v.sumSum, &v.sqSum); err != nil {
			rows.Close()
			return err
		}
		stored[k] = &v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	drifted := false
	var zero counterVal
	keys := make([]fieldCounterKey, 0, len(raw))
	seen := map[fieldCounterKey]bool{}
	for _, m := range []map[fieldCounterKey]*counterVal{raw, stored} {
		for k, v := range m {
			if !v.zero() && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		r, s := raw[k], stored[k]
		if r == nil {
			r = &zero
		}
		if s == nil {
			s = &zero
		}
		rep.FieldsChecked++
		if !r.equal(s) {
			drifted = true
			drift(fmt.Sprintf("field pollrun=%d field=%d value=%q question=%d panel=%d category=%q", pollrun, k.field, k.value, k.question, k.region, k.category), s.String(), r.String())
		}
	}
	if !fix || !drifted {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM field_counters WHERE pollrun_id = ?`, pollrun); err != nil {
		return err
	}
	var vals []any
	for k, v := range raw {
		if !v.zero() {
			vals = append(vals, k.field, pollrun, k.question, k.region, k.value, k.category, v.answers, v.nLast, v.sumLast, v.sqLast, v.nSum, v.sumSum, v.sqSum)
		}
	}
	return upsertMulti(ctx, tx, `INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)`, 13, vals, "")
}

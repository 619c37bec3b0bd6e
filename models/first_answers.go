package models

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// first_answers / first_counters (migrations/0014) are kept by triggers; the
// recount here compares them, poll by poll, with the raw rows and with fix
// rewrites a poll's rows.

// firstKey is one row of first_answers within a poll (question 0 = the
// contact responded to the poll).
type firstKey struct{ contact, question int64 }

// firstRow is what a first_answers row holds. For question 0 only the panel
// and activity are compared (which response it points at does not matter).
type firstRow struct {
	region   int64
	counted  bool
	response int64
	at       int64
	last     sql.NullFloat64
	sum      sql.NullFloat64
}

func (r firstRow) String() string {
	return fmt.Sprintf("panel=%d counted=%v response=%d at=%d last=%v sum=%v", r.region, r.counted, r.response, r.at, nullNum(r.last), nullNum(r.sum))
}

func nullNum(n sql.NullFloat64) string {
	if !n.Valid {
		return "-"
	}
	return fnum(n.Float64)
}

type firstCounter struct {
	contacts, nLast, nSum int64
	sumLast, sumSum       float64
}

func (v firstCounter) String() string {
	return fmt.Sprintf("contacts=%d last(n=%d sum=%s) sum(n=%d sum=%s)", v.contacts, v.nLast, fnum(v.sumLast), v.nSum, fnum(v.sumSum))
}

func (v firstCounter) equal(o firstCounter) bool {
	return v.contacts == o.contacts && v.nLast == o.nLast && v.nSum == o.nSum && closeEnough(v.sumLast, o.sumLast) && closeEnough(v.sumSum, o.sumSum)
}

type firstCounterKey struct{ question, region int64 }

// rawFirstsSQL computes a poll's first_answers rows from the raw rows: one
// response per responding contact, and each contact's earliest answer by
// (submitted_on, response_id) to each numeric question; none unless the poll
// is an indicator's baseline poll.
const rawFirstsSQL = `SELECT contact_id, 0, region_id, counted, response_id, created_on, NULL, NULL FROM (
	SELECT r.contact_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, r.id AS response_id, r.created_on,
		row_number() OVER (PARTITION BY r.contact_id ORDER BY r.created_on, r.id) AS n
	FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c WHERE pr.poll_id = ?1 AND r.pollrun_id = pr.id AND c.id = r.contact_id
		AND EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = ?1))
WHERE n = 1
UNION ALL
SELECT contact_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num FROM (
	SELECT r.contact_id, a.question_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, a.response_id, a.submitted_on,
		tracpro_num(coalesce(a.last_value, a.value)) AS last_num, tracpro_num(coalesce(a.sum_value, a.value)) AS sum_num,
		row_number() OVER (PARTITION BY r.contact_id, a.question_id ORDER BY a.submitted_on, a.response_id) AS n
	FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a CROSS JOIN questions q CROSS JOIN contacts c
	WHERE pr.poll_id = ?1 AND r.pollrun_id = pr.id AND a.response_id = r.id AND q.id = a.question_id AND q.question_type = 'N'
		AND c.id = r.contact_id AND EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = ?1))
WHERE n = 1`

func readFirsts(ctx context.Context, tx *sql.Tx, q string, poll int64) (map[firstKey]firstRow, error) {
	rows, err := tx.QueryContext(ctx, q, poll)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[firstKey]firstRow{}
	for rows.Next() {
		var k firstKey
		var r firstRow
		if err := rows.Scan(&k.contact, &k.question, &r.region, &r.counted, &r.response, &r.at, &r.last, &r.sum); err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, rows.Err()
}

func sameFirst(q int64, a, b firstRow) bool {
	if a.region != b.region || a.counted != b.counted {
		return false
	}
	if q == 0 {
		return true
	}
	numEq := func(x, y sql.NullFloat64) bool { return x.Valid == y.Valid && (!x.Valid || x.Float64 == y.Float64) }
	return a.response == b.response && a.at == b.at && numEq(a.last, b.last) && numEq(a.sum, b.sum)
}

// countFirsts adds up first_answers rows into first_counters' figures.
func countFirsts(rows map[firstKey]firstRow) map[firstCounterKey]firstCounter {
	out := map[firstCounterKey]firstCounter{}
	for k, r := range rows {
		if !r.counted {
			continue
		}
		ck := firstCounterKey{k.question, r.region}
		v := out[ck]
		v.contacts++
		if r.last.Valid {
			v.nLast++
			v.sumLast += r.last.Float64
		}
		if r.sum.Valid {
			v.nSum++
			v.sumSum += r.sum.Float64
		}
		out[ck] = v
	}
	return out
}

// recountFirsts checks one poll's first_answers and first_counters against
// its raw rows; with fix it rewrites them when they drifted.
func recountFirsts(ctx context.Context, tx *sql.Tx, poll int64, fix bool, rep *RecountReport, drift func(key, s, r string)) error {
	raw, err := readFirsts(ctx, tx, rawFirstsSQL, poll)
	if err != nil {
		return err
	}
	stored, err := readFirsts(ctx, tx, `SELECT contact_id, question_id, region_id, counted, coalesce(response_id, 0), coalesce(submitted_on, 0), last_num, sum_num
		FROM first_answers WHERE poll_id = ?`, poll)
	if err != nil {
		return err
	}
	drifted := false
	for _, k := range firstKeysOf(raw, stored, func(x, y firstKey) bool {
		return x.contact < y.contact || x.contact == y.contact && x.question < y.question
	}) {
		r, rok := raw[k]
		s, sok := stored[k]
		rep.FirstChecked++
		if rok != sok || !sameFirst(k.question, r, s) {
			drifted = true
			rs, ss := r.String(), s.String()
			if !rok {
				rs = "none"
			}
			if !sok {
				ss = "none"
			}
			drift(fmt.Sprintf("first answer poll=%d question=%d contact=%d", poll, k.question, k.contact), ss, rs)
		}
	}
	counts := map[firstCounterKey]firstCounter{}
	rows, err := tx.QueryContext(ctx, `SELECT question_id, region_id, contacts, n_last, sum_last, n_sum, sum_sum FROM first_counters WHERE poll_id = ?`, poll)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k firstCounterKey
		var v firstCounter
		if err := rows.Scan(&k.question, &k.region, &v.contacts, &v.nLast, &v.sumLast, &v.nSum, &v.sumSum); err != nil {
			rows.Close()
			return err
		}
		counts[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rawCounts := countFirsts(raw)
	for _, k := range firstKeysOf(rawCounts, counts, func(x, y firstCounterKey) bool {
		return x.question < y.question || x.question == y.question && x.region < y.region
	}) {
		r, s := rawCounts[k], counts[k]
		rep.FirstChecked++
		if !r.equal(s) {
			drifted = true
			drift(fmt.Sprintf("first counters poll=%d question=%d panel=%d", poll, k.question, k.region), s.String(), r.String())
		}
	}
	if !fix || !drifted {
		return nil
	}
	for _, q := range []string{`DELETE FROM first_answers WHERE poll_id = ?1`, `DELETE FROM first_counters WHERE poll_id = ?1`,
		`INSERT INTO first_answers (contact_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num, poll_id)
		SELECT *, ?1 FROM (` + rawFirstsSQL + `)`} {
		if _, err := tx.ExecContext(ctx, q, poll); err != nil {
			return err
		}
	}
	return nil
}

// recountOrgFirsts runs recountFirsts for every poll of the org, one
// transaction each.
func (db *DB) recountOrgFirsts(ctx context.Context, orgID int64, fix bool, rep *RecountReport) error {
	var polls []int64
	rows, err := db.QueryContext(ctx, `SELECT id FROM polls WHERE org_id = ? ORDER BY id`, orgID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		polls = append(polls, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	drift := func(key, s, r string) {
		rep.Drifted++
		if len(rep.Drifts) < maxReportedDrifts {
			rep.Drifts = append(rep.Drifts, CounterDrift{Key: key, Stored: s, Raw: r})
		}
	}
	for _, p := range polls {
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return recountFirsts(ctx, tx, p, fix, rep, drift) }); err != nil {
			return err
		}
	}
	return nil
}

// firstKeysOf returns the keys of a and b once each, sorted by less.
func firstKeysOf[K comparable, V any](a, b map[K]V, less func(x, y K) bool) []K {
	out := make([]K, 0, len(a))
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

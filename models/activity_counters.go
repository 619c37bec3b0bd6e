package models

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
)

// activityKey is one row of activity_counters (migration 0019) within an org.
type activityKey struct {
	day, cohort, region int64
	spoofed             bool
}

// rawActivity counts an org's activity from its rows, as the triggers of
// migration 0019 keep it: active, non-empty responses of active contacts by
// UTC day of updated_on, cohort of the contact (-1 = every contact), panel
// and spoofed poll run.
const rawActivity = `SELECT r.updated_on / 86400000, -1, coalesce(c.region_id, 0), pr.pollrun_type = 's', count(*)
	FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN pollruns pr ON pr.id = r.pollrun_id
	WHERE r.org_id = ?1 AND r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1 GROUP BY 1, 3, 4
	UNION ALL SELECT r.updated_on / 86400000, cc.cohort_id, coalesce(c.region_id, 0), pr.pollrun_type = 's', count(*)
	FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN pollruns pr ON pr.id = r.pollrun_id
		JOIN contact_cohorts cc ON cc.contact_id = r.contact_id
	WHERE r.org_id = ?1 AND r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1 GROUP BY 1, 2, 3, 4`

// recountActivity compares the org's activity counters with its raw rows in
// one transaction, reports each drifted key and, with fix, rewrites the
// org's counters when one drifted.
func (db *DB) recountActivity(ctx context.Context, orgID int64, fix bool, rep *RecountReport) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		read := func(q string) (map[activityKey]int64, error) {
			out := map[activityKey]int64{}
			rows, err := tx.QueryContext(ctx, q, orgID)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			for rows.Next() {
				var k activityKey
				var n int64
				if err := rows.Scan(&k.day, &k.cohort, &k.region, &k.spoofed, &n); err != nil {
					return nil, err
				}
				out[k] += n
			}
			return out, rows.Err()
		}
		raw, err := read(rawActivity)
		if err != nil {
			return err
		}
		stored, err := read(`SELECT day, cohort_id, region_id, spoofed, responses FROM activity_counters WHERE org_id = ?`)
		if err != nil {
			return err
		}
		keys := unionKeys(numMap(raw), numMap(stored))
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if a.day != b.day {
				return a.day < b.day
			}
			if a.cohort != b.cohort {
				return a.cohort < b.cohort
			}
			if a.region != b.region {
				return a.region < b.region
			}
			return !a.spoofed && b.spoofed
		})
		drifted := false
		for _, k := range keys {
			rep.ActivityChecked++
			if r, s := raw[k], stored[k]; r != s {
				drifted = true
				rep.Drifted++
				if len(rep.Drifts) < maxReportedDrifts {
					rep.Drifts = append(rep.Drifts, CounterDrift{Key: fmt.Sprintf("activity day=%s cohort=%d panel=%d spoofed=%t",
						FromMs(k.day*msPerDay).Format("2006-01-02"), k.cohort, k.region, k.spoofed), Stored: strconv.FormatInt(s, 10), Raw: strconv.FormatInt(r, 10)})
				}
			}
		}
		if !fix || !drifted {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM activity_counters WHERE org_id = ?`, orgID); err != nil {
			return err
		}
		var vals []any
		for k, n := range raw {
			if n != 0 {
				vals = append(vals, orgID, k.day, k.cohort, k.region, k.spoofed, n)
			}
		}
		return upsertMulti(ctx, tx, `INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)`, 6, vals, "")
	})
}

package models

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RecentPollrun is a poll run on the home page with its response counts in
// the viewer's scope (SPEC §3.7: E, P and C always present).
type RecentPollrun struct {
	ID          int64
	PollID      int64
	PollName    string
	Type        string // u, s, r, p
	RegionID    int64
	RegionName  string // "" for universal and spoofed poll runs ("All")
	ConductedOn int64
	Empty       int
	Partial     int
	Complete    int
}

// Participants is the number of responses of any status.
func (r RecentPollrun) Participants() int { return r.Empty + r.Partial + r.Complete }

// spoofFilter hides spoofed poll runs unless the org shows spoofed data
// (the original always showed them, SPEC §8).
func spoofFilter(alias string) string {
	return `(` + alias + `.pollrun_type <> 's' OR (SELECT show_spoof_data FROM orgs WHERE id = ` + alias + `.org_id) = 1)`
}

// HasParticipants returns an SQL condition on a pollruns alias: the poll
// run has a response of a contact of the scope's panels, from the counters;
// or it was started from TracPro for a panel (regional or propagated: its
// starter follows it before the first answer). A universal poll run is made
// for any answer that arrives on a new day, late answers of another panel's
// contacts included, and would lead the "most recent" lists with nothing
// to show.
func (s *Scope) HasParticipants(alias string) string {
	return `(` + alias + `.pollrun_type IN ('r', 'p') OR EXISTS (SELECT 1 FROM cohort_counters hp WHERE hp.pollrun_id = ` + alias + `.id
		AND hp.cohort_id = -1 AND ` + s.PanelFilter("hp.region_id") + ` AND hp.empty + hp.partial + hp.complete > 0))`
}

// RecentPollruns returns the limit newest poll runs of tracked polls visible
// in the scope that have participants in it (Scope.HasParticipants), with
// their responses counted over active contacts of the scope's panels.
func (db *DB) RecentPollruns(ctx context.Context, scope *Scope, limit int) ([]RecentPollrun, error) {
	rows, err := db.QueryContext(ctx, `SELECT pr.id, pr.poll_id, coalesce(nullif(p.name, ''), p.rapidpro_name), pr.pollrun_type, pr.region_id, r.name, pr.conducted_on
		FROM pollruns pr JOIN polls p ON p.id = pr.poll_id LEFT JOIN regions r ON r.id = pr.region_id
		WHERE pr.org_id = ? AND p.is_active = 1 AND p.in_rapidpro = 1 AND `+scope.PollrunFilter("pr")+` AND `+spoofFilter("pr")+`
		AND `+scope.HasParticipants("pr")+`
		ORDER BY pr.conducted_on DESC, pr.id DESC LIMIT ?`, scope.OrgID, limit)
	if err != nil {
		return nil, err
	}
	var out []RecentPollrun
	for rows.Next() {
		var pr RecentPollrun
		var region sql.NullInt64
		var name sql.NullString
		if err := rows.Scan(&pr.ID, &pr.PollID, &pr.PollName, &pr.Type, &region, &name, &pr.ConductedOn); err != nil {
			rows.Close()
			return nil, err
		}
		pr.RegionID, pr.RegionName = region.Int64, name.String
		out = append(out, pr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := db.countStatuses(ctx, scope, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// countStatuses counts a poll run's active responses per status over the
// active contacts of the scope's panels, from cohort_counters' "all
// contacts" rows (cohort -1, keyed by the contact's panel; "All panels" sums
// every key, contacts without a panel included, as the raw count did).
func (db *DB) countStatuses(ctx context.Context, scope *Scope, pr *RecentPollrun) error {
	return db.QueryRowContext(ctx, `SELECT coalesce(sum(empty), 0), coalesce(sum(partial), 0), coalesce(sum(complete), 0) FROM cohort_counters
		WHERE pollrun_id = ? AND cohort_id = -1 AND `+scope.PanelFilter("region_id"), pr.ID).Scan(&pr.Empty, &pr.Partial, &pr.Complete)
}

// ActiveCount is a panel or cohort with its number of responses.
type ActiveCount struct {
	ID    int64
	Name  string
	Count int
}

// ActivityWindow is how far back "most active" looks.
const ActivityWindow = 30 * 24 * time.Hour

// MostActive returns the top limit panels and cohorts by responses updated
// since since (SPEC §3.7), whenever their poll run was conducted: active,
// non-empty responses of active contacts of the scope's panels, in poll runs
// visible in the scope, counted by the contact's (active) panel and by each
// of its active cohorts; only counts above zero. Unlike the original (SPEC
// §8), it is limited to the viewer's panels.
//
// It reads cohort_counters (migration 0005: per poll run × cohort × panel)
// of the poll runs conducted since, then corrects them from the rows through
// responses_pollrun_updated: plus the responses of older poll runs updated
// since (a run started 31 days ago and answered 5 days ago), minus those of
// the recent poll runs last updated before since. One index probe per poll
// run of the org, and only the few late answers are read: no counter to
// keep, no cost to the ingest.
func (db *DB) MostActive(ctx context.Context, scope *Scope, since time.Time, limit int) (panels, cohorts []ActiveCount, err error) {
	visible := `pr.org_id = ? AND ` + scope.PollrunFilter("pr") + ` AND ` + spoofFilter("pr")
	prs := `SELECT pr.id FROM pollruns pr WHERE ` + visible + ` AND pr.conducted_on >= ?`
	t := Ms(since)
	byPanel, byCohort := map[int64]int{}, map[int64]int{}
	if err := db.countInto(ctx, byPanel, `SELECT region_id, sum(partial + complete) FROM cohort_counters
		WHERE pollrun_id IN (`+prs+`) AND cohort_id = -1 AND region_id <> 0 AND `+scope.PanelFilter("region_id")+` GROUP BY region_id`, scope.OrgID, t); err != nil {
		return nil, nil, err
	}
	if err := db.countInto(ctx, byCohort, `SELECT cohort_id, sum(partial + complete) FROM cohort_counters
		WHERE pollrun_id IN (`+prs+`) AND cohort_id > 0 AND `+scope.PanelFilter("region_id")+` GROUP BY cohort_id`, scope.OrgID, t); err != nil {
		return nil, nil, err
	}
	// The late answers: one row per response and cohort of its contact.
	late := func(when string, sign int) string {
		return `SELECT r.id, coalesce(c.region_id, 0), coalesce(cc.cohort_id, 0), ` + strconv.Itoa(sign) + `
			FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c LEFT JOIN contact_cohorts cc ON cc.contact_id = c.id
			WHERE ` + visible + ` AND ` + when + ` AND r.pollrun_id = pr.id AND r.is_active = 1 AND r.status <> 'E'
			AND c.id = r.contact_id AND c.is_active = 1 AND ` + scope.PanelFilter("coalesce(c.region_id, 0)")
	}
	rows, err := db.QueryContext(ctx, late(`pr.conducted_on < ? AND r.updated_on >= ?`, 1)+` UNION ALL `+
		late(`pr.conducted_on >= ? AND r.updated_on < ?`, -1), scope.OrgID, t, t, scope.OrgID, t, t)
	if err != nil {
		return nil, nil, err
	}
	counted := map[int64]bool{}
	for rows.Next() {
		var resp, region, cohort int64
		var sign int
		if err := rows.Scan(&resp, &region, &cohort, &sign); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if !counted[resp] {
			counted[resp] = true
			byPanel[region] += sign
		}
		if cohort != 0 {
			byCohort[cohort] += sign
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for id, n := range byPanel {
		if r, ok := scope.Tree.Get(id); ok && n > 0 {
			panels = append(panels, ActiveCount{ID: id, Name: r.Name, Count: n})
		}
	}
	if len(byCohort) > 0 {
		rows, err := db.QueryContext(ctx, `SELECT id, name FROM cohorts WHERE org_id = ? AND is_active = 1`, scope.OrgID)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var c ActiveCount
			if err := rows.Scan(&c.ID, &c.Name); err != nil {
				rows.Close()
				return nil, nil, err
			}
			if c.Count = byCohort[c.ID]; c.Count > 0 {
				cohorts = append(cohorts, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return topActive(panels, limit), topActive(cohorts, limit), nil
}

// countInto adds the (id, count) rows of query to into.
func (db *DB) countInto(ctx context.Context, into map[int64]int, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		into[id] += n
	}
	return rows.Err()
}

// topActive sorts by count (then name) and keeps the first limit.
func topActive(list []ActiveCount, limit int) []ActiveCount {
	sort.Slice(list, func(i, j int) bool {
		if list[i].Count != list[j].Count {
			return list[i].Count > list[j].Count
		}
		return strings.ToLower(list[i].Name) < strings.ToLower(list[j].Name)
	})
	if len(list) > limit {
		list = list[:limit]
	}
	return list
}

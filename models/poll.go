package models

import (
	"context"
	"database/sql"
	"strings"
)

// Poll is a RapidPro flow known to TracPro; IsActive means tracked.
type Poll struct {
	ID           int64
	OrgID        int64
	FlowUUID     string
	RapidProName string
	Name         string // override; "" means RapidProName
	IsActive     bool
	InRapidPro   bool
}

// DisplayName is the override name, else RapidPro's.
func (p *Poll) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	return p.RapidProName
}

// FlowInfo is what the flows pull reports about one flow.
type FlowInfo struct {
	UUID     string
	Name     string
	Archived bool
}

// SyncFlows stores the full flow list: upserts polls by flow UUID (RapidPro
// renames propagate; a local override equal to the new name is cleared so later
// renames keep propagating), skips single-message flows, and deactivates —
// never deletes — polls whose flow disappeared.
func (db *DB) SyncFlows(ctx context.Context, orgID int64, flows []FlowInfo) (created, updated, gone int, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		have, err := stringSet(ctx, tx, `SELECT flow_uuid FROM polls WHERE org_id = ?`, orgID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, f := range flows {
			if strings.HasPrefix(f.Name, "Single Message") {
				continue
			}
			seen[f.UUID] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO polls (org_id, flow_uuid, rapidpro_name, is_archived) VALUES (?, ?, ?, ?)
				ON CONFLICT (org_id, flow_uuid) DO UPDATE SET rapidpro_name = excluded.rapidpro_name, is_archived = excluded.is_archived,
				in_rapidpro = 1, name = CASE WHEN polls.name = excluded.rapidpro_name THEN '' ELSE polls.name END`,
				orgID, f.UUID, f.Name, boolInt(f.Archived)); err != nil {
				return err
			}
			if have[f.UUID] {
				updated++
			} else {
				created++
			}
		}
		for u := range have {
			if !seen[u] {
				res, err := tx.ExecContext(ctx, `UPDATE polls SET in_rapidpro = 0, is_active = 0 WHERE org_id = ? AND flow_uuid = ? AND in_rapidpro = 1`, orgID, u)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n > 0 {
					gone++
				}
			}
		}
		return nil
	})
	return
}

const pollCols = `id, org_id, flow_uuid, rapidpro_name, name, is_active, in_rapidpro`

func scanPolls(rows *sql.Rows) ([]Poll, error) {
	defer rows.Close()
	var out []Poll
	for rows.Next() {
		var p Poll
		if err := rows.Scan(&p.ID, &p.OrgID, &p.FlowUUID, &p.RapidProName, &p.Name, &p.IsActive, &p.InRapidPro); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ListPolls returns the org's polls present in RapidPro (tracked only when activeOnly).
func (db *DB) ListPolls(ctx context.Context, orgID int64, activeOnly bool) ([]Poll, error) {
	q := `SELECT ` + pollCols + ` FROM polls WHERE org_id = ? AND in_rapidpro = 1`
	if activeOnly {
		q += ` AND is_active = 1`
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY coalesce(nullif(name, ''), rapidpro_name) COLLATE NOCASE`, orgID)
	if err != nil {
		return nil, err
	}
	return scanPolls(rows)
}

// TrackPolls makes exactly the polls referenced (flow names or UUIDs) tracked.
// It returns the polls that became tracked by this call.
func (db *DB) TrackPolls(ctx context.Context, orgID int64, refs []string) ([]Poll, error) {
	all, err := db.ListPolls(ctx, orgID, false)
	if err != nil {
		return nil, err
	}
	want := map[int64]bool{}
	var unknown []string
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		found := false
		for _, p := range all {
			if p.FlowUUID == ref || strings.EqualFold(p.RapidProName, ref) || strings.EqualFold(p.DisplayName(), ref) {
				want[p.ID], found = true, true
				break
			}
		}
		if !found {
			unknown = append(unknown, ref)
		}
	}
	if len(unknown) > 0 {
		return nil, Invalid("unknown flow(s): %s (run `tracpro sync --only flows` first?)", strings.Join(unknown, ", "))
	}
	var added []Poll
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		for _, p := range all {
			if want[p.ID] != p.IsActive {
				if _, err := tx.ExecContext(ctx, `UPDATE polls SET is_active = ? WHERE id = ?`, boolInt(want[p.ID]), p.ID); err != nil {
					return err
				}
				if want[p.ID] {
					added = append(added, p)
				}
			}
		}
		return nil
	})
	return added, err
}

package models

import (
	"context"
	"database/sql"
	"strings"
)

// RapidProGroup is a RapidPro contact group as last pulled.
type RapidProGroup struct {
	UUID  string
	Name  string
	Query string // "" for manual groups
	Count int
}

// Region is a panel: a tracked regional RapidPro group, part of a tree.
type Region struct {
	ID         int64
	UUID       string
	Name       string
	IsActive   bool
	ParentID   int64 // 0 = top level
	BoundaryID int64 // 0 = none
}

// SyncGroups stores the full group list pulled from RapidPro: upserts every
// group, marks the ones no longer returned as absent, keeps tracked panel and
// cohort names in step with RapidPro and deactivates tracked ones that vanished.
// It returns how many groups were created and updated.
func (db *DB) SyncGroups(ctx context.Context, orgID int64, groups []RapidProGroup) (created, updated int, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		now := NowMs()
		existing, err := stringSet(ctx, tx, `SELECT uuid FROM rapidpro_groups WHERE org_id = ?`, orgID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rapidpro_groups SET is_present = 0 WHERE org_id = ?`, orgID); err != nil {
			return err
		}
		seen := make([]any, 0, len(groups)+1)
		seen = append(seen, orgID)
		for _, g := range groups {
			var q any
			if g.Query != "" {
				q = g.Query
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO rapidpro_groups (org_id, uuid, name, query, count, is_present, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?)
				ON CONFLICT (org_id, uuid) DO UPDATE SET name = excluded.name, query = excluded.query, count = excluded.count, is_present = 1, updated_at = excluded.updated_at`,
				orgID, g.UUID, g.Name, q, g.Count, now); err != nil {
				return err
			}
			if existing[g.UUID] {
				updated++
			} else {
				created++
			}
			for _, t := range []string{"regions", "cohorts"} {
				if _, err := tx.ExecContext(ctx, `UPDATE `+t+` SET name = ? WHERE org_id = ? AND uuid = ? AND name <> ?`, g.Name, orgID, g.UUID, g.Name); err != nil {
					return err
				}
			}
			seen = append(seen, g.UUID)
		}
		// Tracked groups that RapidPro no longer has are deactivated, never deleted.
		for _, t := range []string{"regions", "cohorts"} {
			if _, err := tx.ExecContext(ctx, `UPDATE `+t+` SET is_active = 0 WHERE org_id = ? AND is_active = 1
				AND uuid IN (SELECT uuid FROM rapidpro_groups WHERE org_id = ? AND is_present = 0)`, orgID, orgID); err != nil {
				return err
			}
		}
		return reparentOrphans(ctx, tx, orgID)
	})
	return
}

// reparentOrphans moves the children of inactive panels to the inactive
// panel's parent (SPEC §1: deactivating a panel re-parents its children) and
// moves the inactive panel to the top level.
func reparentOrphans(ctx context.Context, tx *sql.Tx, orgID int64) error {
	for i := 0; i < 32; i++ { // bounded: each pass lifts children one level
		res, err := tx.ExecContext(ctx, `UPDATE regions SET parent_id = (SELECT p.parent_id FROM regions p WHERE p.id = regions.parent_id)
			WHERE org_id = ? AND parent_id IN (SELECT id FROM regions WHERE org_id = ? AND is_active = 0)`, orgID, orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE regions SET parent_id = NULL WHERE org_id = ? AND is_active = 0 AND parent_id IS NOT NULL`, orgID)
	return err
}

// ListRapidProGroups returns the pulled groups present in RapidPro, by name.
func (db *DB) ListRapidProGroups(ctx context.Context, orgID int64) ([]RapidProGroup, error) {
	rows, err := db.QueryContext(ctx, `SELECT uuid, name, coalesce(query, ''), count FROM rapidpro_groups WHERE org_id = ? AND is_present = 1 ORDER BY name COLLATE NOCASE`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RapidProGroup
	for rows.Next() {
		var g RapidProGroup
		if err := rows.Scan(&g.UUID, &g.Name, &g.Query, &g.Count); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ResolveGroups maps comma-separated group names or UUIDs to pulled groups.
// Unknown references are an invalid-input error naming them.
func (db *DB) ResolveGroups(ctx context.Context, orgID int64, refs []string) ([]RapidProGroup, error) {
	all, err := db.ListRapidProGroups(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []RapidProGroup
	var unknown []string
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		found := false
		for _, g := range all {
			if g.UUID == ref || strings.EqualFold(g.Name, ref) {
				out = append(out, g)
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, ref)
		}
	}
	if len(unknown) > 0 {
		return nil, Invalid("unknown RapidPro group(s): %s (run `tracpro sync --only groups` first?)", strings.Join(unknown, ", "))
	}
	return out, nil
}

// TrackGroups makes exactly the given groups the org's panels (table "regions")
// or cohorts (table "cohorts"): they are created or reactivated, the others
// deactivated. Smart groups cannot be panels or cohorts. It returns whether the
// tracked set changed.
func (db *DB) TrackGroups(ctx context.Context, orgID int64, table string, groups []RapidProGroup) (bool, error) {
	if table != "regions" && table != "cohorts" {
		return false, Invalid("unknown group kind %q", table)
	}
	for _, g := range groups {
		if g.Query != "" {
			return false, Invalid("%q is a smart group (query %q): only manual groups can be panels or cohorts", g.Name, g.Query)
		}
	}
	changed := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		want := map[string]bool{}
		for _, g := range groups {
			want[g.UUID] = true
			res, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (org_id, uuid, name, is_active) VALUES (?, ?, ?, 1)
				ON CONFLICT (org_id, uuid) DO UPDATE SET name = excluded.name, is_active = 1 WHERE is_active = 0 OR name <> excluded.name`, orgID, g.UUID, g.Name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				changed = true
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, uuid FROM `+table+` WHERE org_id = ? AND is_active = 1`, orgID)
		if err != nil {
			return err
		}
		var drop []int64
		for rows.Next() {
			var id int64
			var u string
			rows.Scan(&id, &u)
			if !want[u] {
				drop = append(drop, id)
			}
		}
		rows.Close()
		for _, id := range drop {
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET is_active = 0 WHERE id = ?`, id); err != nil {
				return err
			}
			changed = true
		}
		if table == "regions" {
			return reparentOrphans(ctx, tx, orgID)
		}
		return nil
	})
	return changed, err
}

// ListRegions returns the org's panels (active only when activeOnly), by name.
func (db *DB) ListRegions(ctx context.Context, orgID int64, activeOnly bool) ([]Region, error) {
	q := `SELECT id, uuid, name, is_active, coalesce(parent_id, 0), coalesce(boundary_id, 0) FROM regions WHERE org_id = ?`
	if activeOnly {
		q += ` AND is_active = 1`
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY name COLLATE NOCASE`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Region
	for rows.Next() {
		var r Region
		if err := rows.Scan(&r.ID, &r.UUID, &r.Name, &r.IsActive, &r.ParentID, &r.BoundaryID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LinkRegionsToBoundaries gives every active panel without a boundary the
// boundary of the same name, and every top-level panel the panel of its
// boundary's parent as parent. It returns the number of panels changed.
func (db *DB) LinkRegionsToBoundaries(ctx context.Context, orgID int64) (int, error) {
	n := 0
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE regions SET boundary_id = (SELECT b.id FROM boundaries b WHERE b.org_id = regions.org_id AND lower(b.name) = lower(regions.name) ORDER BY b.level LIMIT 1)
			WHERE org_id = ? AND is_active = 1 AND boundary_id IS NULL
			AND EXISTS (SELECT 1 FROM boundaries b WHERE b.org_id = regions.org_id AND lower(b.name) = lower(regions.name))`, orgID)
		if err != nil {
			return err
		}
		a, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, `UPDATE regions SET parent_id = (
				SELECT p.id FROM boundaries b JOIN regions p ON p.boundary_id = b.parent_id AND p.org_id = regions.org_id AND p.is_active = 1
				WHERE b.id = regions.boundary_id LIMIT 1)
			WHERE org_id = ? AND is_active = 1 AND parent_id IS NULL AND boundary_id IS NOT NULL
			AND EXISTS (SELECT 1 FROM boundaries b JOIN regions p ON p.boundary_id = b.parent_id AND p.org_id = regions.org_id AND p.is_active = 1 WHERE b.id = regions.boundary_id)`, orgID)
		if err != nil {
			return err
		}
		b, _ := res.RowsAffected()
		n = int(a + b)
		return nil
	})
	return n, err
}

// BoundaryChoice is a boundary offered in the panel tree's boundary select.
type BoundaryChoice struct {
	ID    int64
	Name  string
	Level int
}

// ListBoundaryChoices returns the org's boundaries by level and name.
func (db *DB) ListBoundaryChoices(ctx context.Context, orgID int64) ([]BoundaryChoice, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, name, level FROM boundaries WHERE org_id = ? ORDER BY level, name COLLATE NOCASE`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BoundaryChoice
	for rows.Next() {
		var b BoundaryChoice
		if err := rows.Scan(&b.ID, &b.Name, &b.Level); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// RegionContactCounts returns the number of active contacts of each panel.
func (db *DB) RegionContactCounts(ctx context.Context, orgID int64) (map[int64]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT region_id, count(*) FROM contacts WHERE org_id = ? AND is_active = 1 AND region_id IS NOT NULL GROUP BY region_id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// UpdateRegion sets the parent (0 = top level) and boundary (0 = none) of an
// active panel of the org. The parent must be another active panel of the org
// that is not below this one; the boundary must belong to the org.
func (db *DB) UpdateRegion(ctx context.Context, orgID, regionID, parentID, boundaryID int64) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE id = ? AND org_id = ? AND is_active = 1`, regionID, orgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return NotFound("no panel with id %d", regionID)
		}
		var parent, boundary any
		if parentID != 0 {
			if parentID == regionID {
				return InvalidField("parent", "A panel cannot be placed under itself or one of its sub-panels.")
			}
			// Walk up from the proposed parent: meeting this panel means a cycle.
			cur, seen := parentID, map[int64]bool{}
			for cur != 0 && !seen[cur] {
				seen[cur] = true
				var up sql.NullInt64
				err := tx.QueryRowContext(ctx, `SELECT parent_id FROM regions WHERE id = ? AND org_id = ? AND is_active = 1`, cur, orgID).Scan(&up)
				if err == sql.ErrNoRows {
					if cur == parentID {
						return InvalidField("parent", "Choose a parent among the active panels of this organization.")
					}
					break
				}
				if err != nil {
					return err
				}
				if up.Int64 == regionID {
					return InvalidField("parent", "A panel cannot be placed under itself or one of its sub-panels.")
				}
				cur = up.Int64
			}
			parent = parentID
		}
		if boundaryID != 0 {
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM boundaries WHERE id = ? AND org_id = ?`, boundaryID, orgID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return InvalidField("boundary", "Choose a boundary of this organization.")
			}
			boundary = boundaryID
		}
		_, err := tx.ExecContext(ctx, `UPDATE regions SET parent_id = ?, boundary_id = ? WHERE id = ?`, parent, boundary, regionID)
		return err
	})
}

// TrackedGroupUUIDs returns the RapidPro UUIDs of the org's active panels
// (table "regions") or cohorts (table "cohorts").
func (db *DB) TrackedGroupUUIDs(ctx context.Context, orgID int64, table string) (map[string]bool, error) {
	if table != "regions" && table != "cohorts" {
		return nil, Invalid("unknown group kind %q", table)
	}
	return stringSet(ctx, db, `SELECT uuid FROM `+table+` WHERE org_id = ? AND is_active = 1`, orgID)
}

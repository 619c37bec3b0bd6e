package models

import (
	"context"
	"database/sql"
	"sort"
)

// Boundary is an administrative area pulled from RapidPro (OSM id, GeoJSON).
type Boundary struct {
	ID       int64
	OSMID    string
	Name     string
	Level    int
	ParentID string // parent OSM id ("" = none)
	Geometry string // GeoJSON geometry, "" when RapidPro gave none
}

// SyncBoundaries stores the full boundary list: upserts ordered by level so
// parents exist first (a parent missing from the set is tolerated), and deletes
// boundaries no longer returned (panels linked to them lose the link).
// updated_at moves only when the geometry changes: it is the version the
// simplified map shapes are cached by.
func (db *DB) SyncBoundaries(ctx context.Context, orgID int64, bs []Boundary) (created, updated, deleted int, err error) {
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Level < bs[j].Level })
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		now := NowMs()
		ids := map[string]int64{}
		rows, err := tx.QueryContext(ctx, `SELECT osm_id, id FROM boundaries WHERE org_id = ?`, orgID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var o string
			var id int64
			rows.Scan(&o, &id)
			ids[o] = id
		}
		rows.Close()
		seen := map[string]bool{}
		for _, b := range bs {
			var parent, geom any
			if pid, ok := ids[b.ParentID]; ok && b.ParentID != "" {
				parent = pid
			}
			if b.Geometry != "" {
				geom = b.Geometry
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO boundaries (org_id, osm_id, name, level, parent_id, geometry, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (org_id, osm_id) DO UPDATE SET name = excluded.name, level = excluded.level, parent_id = excluded.parent_id,
				geometry = excluded.geometry,
				updated_at = CASE WHEN boundaries.geometry IS excluded.geometry THEN boundaries.updated_at ELSE excluded.updated_at END RETURNING id`,
				orgID, b.OSMID, b.Name, b.Level, parent, geom, now).Scan(&id); err != nil {
				return err
			}
			if _, ok := ids[b.OSMID]; ok {
				updated++
			} else {
				created++
			}
			ids[b.OSMID] = id
			seen[b.OSMID] = true
		}
		for o, id := range ids {
			if !seen[o] {
				if _, err := tx.ExecContext(ctx, `DELETE FROM boundaries WHERE id = ?`, id); err != nil {
					return err
				}
				deleted++
			}
		}
		return nil
	})
	return
}

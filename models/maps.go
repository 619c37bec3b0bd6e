package models

import (
	"context"
)

// BoundaryVersion is a boundary's id and the time its geometry was last
// stored (the version the map cache is keyed by).
type BoundaryVersion struct {
	ID, UpdatedAt int64
	HasGeometry   bool
}

// BoundaryVersions returns the versions of the org's boundaries among ids
// (boundaries of other orgs are left out).
func (db *DB) BoundaryVersions(ctx context.Context, orgID int64, ids []int64) (map[int64]BoundaryVersion, error) {
	out := map[int64]BoundaryVersion{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT id, updated_at, geometry IS NOT NULL FROM boundaries WHERE org_id = ? AND id IN (`+idList(ids)+`)`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v BoundaryVersion
		if err := rows.Scan(&v.ID, &v.UpdatedAt, &v.HasGeometry); err != nil {
			return nil, err
		}
		out[v.ID] = v
	}
	return out, rows.Err()
}

// BoundaryGeometries returns the GeoJSON geometry and version of the org's
// boundaries among ids that have one.
func (db *DB) BoundaryGeometries(ctx context.Context, orgID int64, ids []int64) (map[int64]BoundaryVersion, map[int64]string, error) {
	vs, geoms := map[int64]BoundaryVersion{}, map[int64]string{}
	if len(ids) == 0 {
		return vs, geoms, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT id, updated_at, geometry FROM boundaries WHERE org_id = ? AND geometry IS NOT NULL AND id IN (`+idList(ids)+`)`, orgID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		var g string
		if err := rows.Scan(&id, &at, &g); err != nil {
			return nil, nil, err
		}
		vs[id] = BoundaryVersion{ID: id, UpdatedAt: at, HasGeometry: true}
		geoms[id] = g
	}
	return vs, geoms, rows.Err()
}

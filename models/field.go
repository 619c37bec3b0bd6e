package models

import (
	"context"
	"database/sql"
)

// DataField is a RapidPro contact field definition.
type DataField struct {
	ID            int64
	Key           string
	Label         string
	ValueType     string // T text, N numeric, D datetime, S state, I district, W ward
	ShowOnTracPro bool
}

// FieldTypeCode maps a RapidPro field type (any API generation) to SPEC's one-letter code.
func FieldTypeCode(t string) string {
	switch t {
	case "number", "numeric", "N", "decimal":
		return "N"
	case "datetime", "D":
		return "D"
	case "state", "S":
		return "S"
	case "district", "I":
		return "I"
	case "ward", "W":
		return "W"
	}
	return "T"
}

// SyncFields stores the full field list pulled from RapidPro: upsert by key
// with label and type; fields no longer in RapidPro are deleted with their values.
func (db *DB) SyncFields(ctx context.Context, orgID int64, fields []DataField) (created, updated, deleted int, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		have, err := stringSet(ctx, tx, `SELECT key FROM data_fields WHERE org_id = ?`, orgID)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, f := range fields {
			keep[f.Key] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO data_fields (org_id, key, label, value_type) VALUES (?, ?, ?, ?)
				ON CONFLICT (org_id, key) DO UPDATE SET label = excluded.label, value_type = excluded.value_type`,
				orgID, f.Key, f.Label, FieldTypeCode(f.ValueType)); err != nil {
				return err
			}
			if have[f.Key] {
				updated++
			} else {
				created++
			}
		}
		for k := range have {
			if !keep[k] {
				if _, err := tx.ExecContext(ctx, `DELETE FROM data_fields WHERE org_id = ? AND key = ?`, orgID, k); err != nil {
					return err
				}
				deleted++
			}
		}
		return nil
	})
	return
}

// ListFields returns the org's data fields by key.
func (db *DB) ListFields(ctx context.Context, orgID int64) ([]DataField, error) {
	return queryFields(ctx, db, `WHERE org_id = ? ORDER BY key`, orgID)
}

// queryFields reads the data fields that the clause (WHERE … ORDER BY …)
// selects.
func queryFields(ctx context.Context, q querier, clause string, args ...any) ([]DataField, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, key, label, value_type, show_on_tracpro FROM data_fields `+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DataField
	for rows.Next() {
		var f DataField
		if err := rows.Scan(&f.ID, &f.Key, &f.Label, &f.ValueType, &f.ShowOnTracPro); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

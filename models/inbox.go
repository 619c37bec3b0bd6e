package models

import (
	"context"
	"database/sql"
	"time"
)

// InboxRow is a RapidPro message as pulled for the inbox.
type InboxRow struct {
	ID          string // message uuid, or legacy integer id as text
	ContactUUID string
	Text        string
	Direction   string // in, out
	Status      string
	CreatedOn   time.Time
	SentOn      *time.Time
}

// UpsertInbox stores pulled messages whose contact exists in this org (matched
// by UUID within the org — the original matched across orgs). Messages of
// unknown contacts are counted as skipped.
func (db *DB) UpsertInbox(ctx context.Context, orgID int64, msgs []InboxRow, st *SyncState) (created, updated, skipped int, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		created, updated, skipped = 0, 0, 0
		for _, m := range msgs {
			var cid int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM contacts WHERE org_id = ? AND uuid = ?`, orgID, m.ContactUUID).Scan(&cid)
			if err == sql.ErrNoRows {
				skipped++
				continue
			}
			if err != nil {
				return err
			}
			dir := "I"
			if m.Direction == "out" {
				dir = "O"
			}
			var sent any
			if m.SentOn != nil {
				sent = Ms(*m.SentOn)
			}
			var existed int
			tx.QueryRowContext(ctx, `SELECT count(*) FROM inbox_messages WHERE org_id = ? AND rapidpro_message_id = ?`, orgID, m.ID).Scan(&existed)
			if _, err := tx.ExecContext(ctx, `INSERT INTO inbox_messages (org_id, rapidpro_message_id, contact_id, text, created_on, sent_on, direction, status)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (org_id, rapidpro_message_id) WHERE rapidpro_message_id IS NOT NULL DO UPDATE SET text = excluded.text, sent_on = excluded.sent_on, status = excluded.status`,
				orgID, m.ID, cid, m.Text, Ms(m.CreatedOn), sent, dir, m.Status); err != nil {
				return err
			}
			if existed > 0 {
				updated++
			} else {
				created++
			}
		}
		if st != nil {
			return saveSyncState(ctx, tx, st)
		}
		return nil
	})
	return
}

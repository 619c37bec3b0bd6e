package models

import (
	"context"
	"database/sql"
	"sort"
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

// InboxEntry is a contact's conversation as the inbox lists it: its latest
// message in either direction and how many new messages it has.
type InboxEntry struct {
	MessageID int64
	ContactID int64
	Name      string
	URN       string
	Panel     string
	Text      string
	Incoming  bool  // the latest message came from the contact
	CreatedOn int64 // the latest message's time
	New       int   // unarchived incoming (unsolicited) messages
}

// inboxLatest is the SQL of the conversations in the inbox (args: org id):
// the active contacts in the scope's panels with new messages — unarchived
// incoming (unsolicited) ones, which alone bring a contact into the inbox —
// with the time of the latest and their number, read in one pass over the
// inbox_messages_org index.
func inboxLatest(scope *Scope) string {
	return `SELECT l.contact_id AS contact_id, l.created_on AS created_on, l.new AS new
		FROM (SELECT contact_id, max(created_on) AS created_on, count(*) AS new FROM inbox_messages
			WHERE org_id = ? AND direction = 'I' AND archived = 0 GROUP BY contact_id) l
		JOIN contacts c ON c.id = l.contact_id
		WHERE c.is_active = 1 AND c.region_id IS NOT NULL AND ` + panelScope(scope, "c.region_id")
}

// Inbox lists, by their latest new message (newest first), the
// conversations of the active contacts in the scope (SPEC §2.3
// /inboxmessage/), one page, with the total. Each shows the contact's latest
// message in either direction, as the original did: a reply (mirrored from
// RapidPro's sent folder) shows the conversation answered.
func (db *DB) Inbox(ctx context.Context, scope *Scope, page, perPage int) ([]InboxEntry, int, error) {
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (`+inboxLatest(scope)+`)`, scope.OrgID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := db.QueryContext(ctx, `SELECT m.id, l.contact_id, c.name, c.urn, coalesce(r.name, ''), m.text, m.direction = 'I', m.created_on, l.new
		FROM (`+inboxLatest(scope)+` ORDER BY l.created_on DESC, l.contact_id DESC LIMIT ? OFFSET ?) l
		JOIN contacts c ON c.id = l.contact_id LEFT JOIN regions r ON r.id = c.region_id
		JOIN inbox_messages m ON m.id = (SELECT x.id FROM inbox_messages x WHERE x.contact_id = l.contact_id AND x.org_id = ?
			ORDER BY x.created_on DESC, x.id DESC LIMIT 1)
		ORDER BY l.created_on DESC, l.contact_id DESC`, scope.OrgID, perPage, (max(page, 1)-1)*perPage, scope.OrgID)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []InboxEntry
	for rows.Next() {
		var e InboxEntry
		if err := rows.Scan(&e.MessageID, &e.ContactID, &e.Name, &e.URN, &e.Panel, &e.Text, &e.Incoming, &e.CreatedOn, &e.New); err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// ConversationItem is one message of a conversation: incoming, outgoing as
// mirrored from RapidPro, or sent from TracPro (a message or a reply, with
// the state of its broadcast).
type ConversationItem struct {
	At        int64
	Incoming  bool
	Text      string
	FromUs    bool   // sent from TracPro
	Status    string // TracPro messages: pending, sent, failed, unknown; mirrored: RapidPro's status
	Error     string
	PollrunID int64
}

// conversationLimit bounds the messages a conversation shows.
const conversationLimit = 100

// Conversation returns an active contact in the scope (NotFound otherwise)
// and its conversation, newest first: the messages mirrored from RapidPro
// (incoming, and outgoing ones) and the messages TracPro sent it. An
// outgoing mirror of a message TracPro sent (same text, not before it was
// queued) is shown once, as TracPro's.
func (db *DB) Conversation(ctx context.Context, orgID, contactID int64, scope *Scope) (*ContactInScope, []ConversationItem, error) {
	ct, err := db.messageContact(ctx, orgID, contactID, scope)
	if err != nil {
		return nil, nil, err
	}
	var active bool
	if err := db.QueryRowContext(ctx, `SELECT is_active FROM contacts WHERE id = ?`, contactID).Scan(&active); err != nil {
		return nil, nil, err
	}
	if !active {
		return nil, nil, NotFound("no such contact")
	}
	_, ours, err := db.ContactMessages(ctx, orgID, contactID, scope)
	if err != nil {
		return nil, nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT created_on, direction, text, status FROM inbox_messages
		WHERE org_id = ? AND contact_id = ? ORDER BY created_on DESC, id DESC LIMIT ?`, orgID, contactID, conversationLimit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var mirrored []ConversationItem
	for rows.Next() {
		var it ConversationItem
		var dir string
		if err := rows.Scan(&it.At, &dir, &it.Text, &it.Status); err != nil {
			return nil, nil, err
		}
		it.Incoming = dir == "I"
		mirrored = append(mirrored, it)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	used := make([]bool, len(mirrored))
	var out []ConversationItem
	for _, m := range ours {
		out = append(out, ConversationItem{At: m.SentOn, Text: m.Text, FromUs: true, Status: m.Status, Error: m.Error, PollrunID: m.PollrunID})
		// Its mirror: the oldest unmatched outgoing copy created since a
		// minute before it was queued (clocks differ a little).
		for i := len(mirrored) - 1; i >= 0; i-- {
			mi := mirrored[i]
			if !used[i] && !mi.Incoming && mi.Text == m.Text && mi.At >= m.SentOn-60_000 {
				used[i] = true
				break
			}
		}
	}
	for i, m := range mirrored {
		if !used[i] {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At > out[j].At })
	if len(out) > conversationLimit {
		out = out[:conversationLimit]
	}
	return ct, out, nil
}

// ArchiveConversation archives the incoming messages of a contact in the
// scope (NotFound otherwise): the contact leaves the inbox until it writes
// again. It returns how many messages were archived.
func (db *DB) ArchiveConversation(ctx context.Context, orgID, contactID int64, scope *Scope) (int, error) {
	if _, err := db.messageContact(ctx, orgID, contactID, scope); err != nil {
		return 0, err
	}
	res, err := db.ExecContext(ctx, `UPDATE inbox_messages SET archived = 1 WHERE org_id = ? AND contact_id = ? AND direction = 'I' AND archived = 0`,
		orgID, contactID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

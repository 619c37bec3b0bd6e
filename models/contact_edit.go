package models

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Contact edits in TracPro (SPEC §2.3–§2.4, §4.4): the local change and its
// RapidPro push (an outbox row, ordering key "contact:<id>") are written in
// one transaction; jobs/outbox_contacts.go delivers the pushes.

// The outbox kinds of contact pushes.
const (
	OutboxContactCreate = "contact_create"
	OutboxContactUpdate = "contact_update"
	OutboxContactDelete = "contact_delete"
)

// ContactPushKinds are the outbox kinds of contact pushes.
var ContactPushKinds = []string{OutboxContactCreate, OutboxContactUpdate, OutboxContactDelete}

// ContactOrdering is the outbox ordering key of a contact's pushes: they are
// delivered one after the other, in the order they were made.
func ContactOrdering(id int64) string { return "contact:" + strconv.FormatInt(id, 10) }

// ContactPushPayload is the outbox payload of a contact push: the contact's
// full state when the change was made (creates and updates), which RapidPro
// gets as an overwrite of name, language, URNs and groups; fields are
// merged by RapidPro, so the payload names every non-empty field and, with
// "", each visible field the user emptied.
type ContactPushPayload struct {
	Contact  int64             `json:"contact"`
	Name     string            `json:"name,omitempty"`
	Language string            `json:"language,omitempty"`
	URNs     []string          `json:"urns,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
	Groups   []string          `json:"groups,omitempty"`
}

// ContactInput is what the contact form submits.
type ContactInput struct {
	Name     string
	Scheme   string
	Path     string // the URN value as typed
	RegionID int64
	Cohorts  []int64
	Language string            // a code or a name of ContactLanguages
	Fields   map[string]string // visible field key → value as typed
	UserID   int64
}

// FormErrors are the messages of an invalid contact form, by field.
type FormErrors map[string]string

// Error lists the messages.
func (e FormErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return strings.Join(parts, "; ")
}

// set records msg for field unless the field already has one.
func (e FormErrors) set(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// setErr records an application error under its field.
func (e FormErrors) setErr(err error) {
	var ae *Error
	if errors.As(err, &ae) {
		e.set(ae.Field, ae.Message)
	}
}

// contactState is a contact's validated values.
type contactState struct {
	name, urn, language string
	region              int64
	cohorts             []int64
	fields              map[int64]string // field id → value ("" = none)
}

// validateContact checks the form against the org (in the caller's
// transaction): the panel one of the user's, cohorts active ones of the
// org, a URN no other active contact has, a known language and typed field
// values. It returns every problem at once.
func validateContact(ctx context.Context, tx *sql.Tx, org *Org, scope *Scope, id int64, in ContactInput, old map[int64]string) (*contactState, error) {
	errs := FormErrors{}
	st := &contactState{name: strings.TrimSpace(in.Name), region: in.RegionID, fields: map[int64]string{}}
	switch n := len([]rune(st.name)); {
	case n == 0:
		errs.setErr(InvalidField("name", "Enter a name."))
	case n > 64:
		errs.setErr(InvalidField("name", "A name has at most 64 characters."))
	}
	urn, err := NormalizeURN(in.Scheme, in.Path, OrgCountry(org))
	if err != nil {
		errs.setErr(err)
	} else {
		st.urn = urn
		var other int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM contacts WHERE org_id = ? AND urn = ? AND is_active = 1 AND id <> ? LIMIT 1`, org.ID, urn, id).Scan(&other)
		if err == nil {
			errs.setErr(InvalidField("urn", "Another contact already has this phone number or ID."))
		} else if err != sql.ErrNoRows {
			return nil, err
		}
	}
	if in.RegionID == 0 || scope == nil || !scope.CanAccess(in.RegionID) {
		errs.setErr(InvalidField("region", "Choose one of your panels."))
	}
	seen := map[int64]bool{}
	for _, c := range in.Cohorts {
		if seen[c] {
			continue
		}
		seen[c] = true
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM cohorts WHERE id = ? AND org_id = ? AND is_active = 1`, c, org.ID).Scan(&ok); err != nil {
			return nil, err
		}
		if !ok {
			errs.setErr(InvalidField("cohorts", "Choose cohorts of this organization."))
			continue
		}
		st.cohorts = append(st.cohorts, c)
	}
	if code, ok := LanguageCode(in.Language); ok {
		st.language = code
	} else {
		errs.setErr(InvalidField("language", "Choose a language from the list."))
	}
	fields, err := visibleFields(ctx, tx, org.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		raw := strings.TrimSpace(in.Fields[f.Key])
		if raw == "" {
			st.fields[f.ID] = ""
			continue
		}
		switch f.ValueType {
		case "N":
			if _, ok := ParseNumber(raw); !ok {
				errs.setErr(InvalidField("field_"+f.Key, "Enter a number."))
				continue
			}
		case "D":
			if prev := old[f.ID]; len(prev) >= 10 && prev[:10] == raw {
				raw = prev // unchanged date: keep RapidPro's full value
				break
			}
			d, err := time.ParseInLocation("2006-01-02", raw, org.Location())
			if err != nil {
				errs.setErr(InvalidField("field_"+f.Key, "Enter a date."))
				continue
			}
			raw = d.Format(time.RFC3339)
		}
		if len(raw) > 255 {
			errs.setErr(InvalidField("field_"+f.Key, "At most 255 characters."))
			continue
		}
		st.fields[f.ID] = raw
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return st, nil
}

// visibleFields are the org's data fields shown on TracPro, by label.
func visibleFields(ctx context.Context, q querier, orgID int64) ([]DataField, error) {
	return queryFields(ctx, q, `WHERE org_id = ? AND show_on_tracpro = 1 ORDER BY lower(coalesce(nullif(label, ''), key)), id`, orgID)
}

// VisibleFields are the org's data fields shown on TracPro (the contact
// form's typed inputs), by label.
func (db *DB) VisibleFields(ctx context.Context, orgID int64) ([]DataField, error) {
	return visibleFields(ctx, db, orgID)
}

// writeContactState stores cohorts and field values: memberships of active
// cohorts are replaced by the chosen ones (those of untracked cohorts are
// kept); each visible field is set or cleared.
func writeContactState(ctx context.Context, tx *sql.Tx, orgID, id int64, st *contactState) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM contact_cohorts WHERE contact_id = ?
		AND cohort_id IN (SELECT id FROM cohorts WHERE org_id = ? AND is_active = 1)`, id, orgID); err != nil {
		return err
	}
	for _, c := range st.cohorts {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO contact_cohorts (contact_id, cohort_id) VALUES (?, ?)`, id, c); err != nil {
			return err
		}
	}
	for fid, v := range st.fields {
		var err error
		if v == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM contact_fields WHERE contact_id = ? AND field_id = ?`, id, fid)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO contact_fields (contact_id, field_id, value) VALUES (?, ?, ?)
				ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value`, id, fid, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pushPayload reads back the contact's full state for its push: groups are
// its cohorts (tracked or not) plus its panel; fields every non-empty value
// plus "" for the visible fields the form emptied.
func pushPayload(ctx context.Context, tx *sql.Tx, id int64, cleared map[int64]string) (*ContactPushPayload, error) {
	p := &ContactPushPayload{Contact: id, Fields: map[string]string{}, Groups: []string{}}
	var urn, panel string
	if err := tx.QueryRowContext(ctx, `SELECT c.name, c.language, c.urn, coalesce(r.uuid, '') FROM contacts c
		LEFT JOIN regions r ON r.id = c.region_id WHERE c.id = ?`, id).Scan(&p.Name, &p.Language, &urn, &panel); err != nil {
		return nil, err
	}
	if urn != "" {
		p.URNs = []string{urn}
	}
	rows, err := tx.QueryContext(ctx, `SELECT g.uuid FROM contact_cohorts cc JOIN cohorts g ON g.id = cc.cohort_id WHERE cc.contact_id = ? ORDER BY g.uuid`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var u string
		rows.Scan(&u)
		p.Groups = append(p.Groups, u)
	}
	rows.Close()
	if panel != "" {
		p.Groups = append(p.Groups, panel)
	}
	rows, err = tx.QueryContext(ctx, `SELECT f.id, f.key, coalesce(cf.value, '') FROM data_fields f
		LEFT JOIN contact_fields cf ON cf.field_id = f.id AND cf.contact_id = ? WHERE f.org_id = (SELECT org_id FROM contacts WHERE id = ?)`, id, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var fid int64
		var k, v string
		if err := rows.Scan(&fid, &k, &v); err != nil {
			return nil, err
		}
		if v != "" {
			p.Fields[k] = v
		} else if c, ok := cleared[fid]; ok && c == "" {
			p.Fields[k] = ""
		}
	}
	return p, rows.Err()
}

// CreateContact creates a contact of one of the user's panels with a
// temporary UUID and queues its RapidPro create in the same transaction.
// Invalid input gives FormErrors and writes nothing.
func (db *DB) CreateContact(ctx context.Context, org *Org, scope *Scope, in ContactInput) (int64, error) {
	var id int64
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		st, err := validateContact(ctx, tx, org, scope, 0, in, nil)
		if err != nil {
			return err
		}
		now := NowMs()
		if err := tx.QueryRowContext(ctx, `INSERT INTO contacts (org_id, uuid, name, urn, region_id, language, is_active, local_only,
			created_by, created_on, modified_by, modified_on) VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?) RETURNING id`,
			org.ID, uuid.NewString(), st.name, st.urn, st.region, st.language, nullID(in.UserID), now, nullID(in.UserID), now).Scan(&id); err != nil {
			return err
		}
		if err := writeContactState(ctx, tx, org.ID, id, st); err != nil {
			return err
		}
		p, err := pushPayload(ctx, tx, id, nil)
		if err != nil {
			return err
		}
		_, err = enqueueOutbox(ctx, tx, org.ID, OutboxContactCreate, ContactOrdering(id), p, now)
		return err
	})
	return id, err
}

// editableContact loads an active contact of the org in the scope's panels
// (not found otherwise) with its panel and field values.
func editableContact(ctx context.Context, q querier, orgID, id int64, scope *Scope) (region int64, fields map[int64]string, err error) {
	err = q.QueryRowContext(ctx, `SELECT c.region_id FROM contacts c WHERE c.org_id = ? AND c.id = ? AND c.is_active = 1
		AND c.region_id IS NOT NULL AND `+panelScope(scope, "c.region_id"), orgID, id).Scan(&region)
	if err == sql.ErrNoRows {
		return 0, nil, NotFound("no such contact")
	} else if err != nil {
		return 0, nil, err
	}
	fields = map[int64]string{}
	rows, err := q.QueryContext(ctx, `SELECT field_id, coalesce(value, '') FROM contact_fields WHERE contact_id = ?`, id)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var fid int64
		var v string
		rows.Scan(&fid, &v)
		fields[fid] = v
	}
	return region, fields, rows.Err()
}

// UpdateContact saves an edit of a contact in the scope and queues the
// RapidPro update (the full state, an overwrite) in the same transaction.
func (db *DB) UpdateContact(ctx context.Context, org *Org, scope *Scope, id int64, in ContactInput) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		oldRegion, old, err := editableContact(ctx, tx, org.ID, id, scope)
		if err != nil {
			return err
		}
		st, err := validateContact(ctx, tx, org, scope, id, in, old)
		if err != nil {
			return err
		}
		now := NowMs()
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET name = ?, urn = ?, region_id = ?, language = ?, modified_by = ?, modified_on = ? WHERE id = ?`,
			st.name, st.urn, st.region, st.language, nullID(in.UserID), now, id); err != nil {
			return err
		}
		if err := writeContactState(ctx, tx, org.ID, id, st); err != nil {
			return err
		}
		if err := moveContacts(ctx, tx, org.ID, map[int64]contactMove{id: {oldActive: true, newActive: true, oldRegion: oldRegion, newRegion: st.region}}); err != nil {
			return err
		}
		p, err := pushPayload(ctx, tx, id, st.fields)
		if err != nil {
			return err
		}
		_, err = enqueueOutbox(ctx, tx, org.ID, OutboxContactUpdate, ContactOrdering(id), p, now)
		return err
	})
}

// DeleteContact soft-deletes a contact in the scope (is_active = 0) and
// queues its RapidPro DELETE in the same transaction.
func (db *DB) DeleteContact(ctx context.Context, org *Org, scope *Scope, id, userID int64) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		region, _, err := editableContact(ctx, tx, org.ID, id, scope)
		if err != nil {
			return err
		}
		now := NowMs()
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET is_active = 0, modified_by = ?, modified_on = ? WHERE id = ?`, nullID(userID), now, id); err != nil {
			return err
		}
		if err := moveContacts(ctx, tx, org.ID, map[int64]contactMove{id: {oldActive: true, oldRegion: region, newRegion: region}}); err != nil {
			return err
		}
		_, err = enqueueOutbox(ctx, tx, org.ID, OutboxContactDelete, ContactOrdering(id), ContactPushPayload{Contact: id}, now)
		return err
	})
}

// ContactPushTarget is what the outbox worker needs of a contact: its
// current UUID, whether that UUID is still the temporary one, and its URN.
type ContactPushTarget struct {
	UUID      string
	LocalOnly bool
	URN       string
}

// ContactPushTarget reads the push target of a contact of the org.
func (db *DB) ContactPushTarget(ctx context.Context, orgID, id int64) (*ContactPushTarget, error) {
	var t ContactPushTarget
	err := db.QueryRowContext(ctx, `SELECT uuid, local_only, urn FROM contacts WHERE org_id = ? AND id = ?`, orgID, id).Scan(&t.UUID, &t.LocalOnly, &t.URN)
	if err == sql.ErrNoRows {
		return nil, NotFound("no such contact")
	}
	return &t, err
}

// SettleContactCreated records a contact RapidPro now has under uuid (its
// create succeeded, or the contact was found by URN after an uncertain
// create): the outbox row is sent and the temporary UUID replaced, in one
// transaction. A copy of the same contact pulled meanwhile under that UUID
// (possible only if a pull ran between the create and this call) is merged
// away when it has no responses.
func (db *DB) SettleContactCreated(ctx context.Context, outboxID, orgID, contactID int64, rapidUUID, result string) error {
	return db.SettleOutbox(ctx, outboxID, OutboxSent, rapidUUID, result, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE org_id = ? AND uuid = ? AND id <> ?
			AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.contact_id = contacts.id)`, orgID, rapidUUID, contactID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE contacts SET uuid = ?, local_only = 0 WHERE org_id = ? AND id = ?`, rapidUUID, orgID, contactID)
		return err
	})
}

// ContactPush is one push of a contact as its page lists it.
type ContactPush struct {
	ID        int64
	ContactID int64
	Contact   string // name
	Kind      string // create, update, delete
	State     string
	Attempts  int
	Message   string // RapidPro's message or the last error
	CreatedAt int64
	UpdatedAt int64
}

const contactPushCols = `o.id, cast(substr(o.ordering_key, 9) AS INTEGER), coalesce(c.name, ''), substr(o.kind, 9), o.state, o.attempts,
	CASE WHEN o.state = 'sent' THEN '' ELSE o.last_error END, o.created_at, o.updated_at`

func scanContactPushes(rows *sql.Rows) ([]ContactPush, error) {
	defer rows.Close()
	var out []ContactPush
	for rows.Next() {
		var p ContactPush
		if err := rows.Scan(&p.ID, &p.ContactID, &p.Contact, &p.Kind, &p.State, &p.Attempts, &p.Message, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return nil, err
		}
		if p.Message == outboxSending {
			p.Message = ""
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ContactPushes returns the pushes of a contact, newest first (at most 20).
func (db *DB) ContactPushes(ctx context.Context, orgID, contactID int64) ([]ContactPush, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+contactPushCols+` FROM outbox o LEFT JOIN contacts c ON c.id = ?
		WHERE o.org_id = ? AND o.ordering_key = ? ORDER BY o.id DESC LIMIT 20`, contactID, orgID, ContactOrdering(contactID))
	if err != nil {
		return nil, err
	}
	return scanContactPushes(rows)
}

// OrgContactPushes returns the org's contact pushes that are not sent
// (pending, failed, unknown), newest first, and how many were sent.
func (db *DB) OrgContactPushes(ctx context.Context, orgID int64, limit int) ([]ContactPush, int, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+contactPushCols+` FROM outbox o
		LEFT JOIN contacts c ON c.org_id = o.org_id AND c.id = cast(substr(o.ordering_key, 9) AS INTEGER)
		WHERE o.org_id = ? AND o.kind IN ('contact_create', 'contact_update', 'contact_delete') AND o.state <> 'sent'
		ORDER BY o.id DESC LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanContactPushes(rows)
	if err != nil {
		return nil, 0, err
	}
	var sent int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE org_id = ? AND state = 'sent'
		AND kind IN ('contact_create', 'contact_update', 'contact_delete')`, orgID).Scan(&sent)
	return out, sent, err
}

// pendingContactPushes returns the ids of the org's contacts with a push
// still pending, with their URNs: the sync leaves them alone until the push
// is sent (a local edit is never overwritten by an older RapidPro state, and
// a contact just created in RapidPro is not pulled in a second time).
func pendingContactPushes(ctx context.Context, q querier, orgID int64) (ids map[int64]bool, urns map[string]bool, err error) {
	rows, err := q.QueryContext(ctx, `SELECT c.id, c.urn FROM contacts c WHERE c.org_id = ? AND c.id IN (
		SELECT cast(substr(ordering_key, 9) AS INTEGER) FROM outbox WHERE org_id = ? AND state = 'pending'
		AND kind IN ('contact_create', 'contact_update', 'contact_delete'))`, orgID, orgID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	ids, urns = map[int64]bool{}, map[string]bool{}
	for rows.Next() {
		var id int64
		var urn string
		if err := rows.Scan(&id, &urn); err != nil {
			return nil, nil, err
		}
		ids[id] = true
		if urn != "" {
			urns[urn] = true
		}
	}
	return ids, urns, rows.Err()
}

// ValidateContact checks a contact form without saving it (create when id
// is 0), so that the handler can ask RapidPro about the URN only for
// otherwise valid input. It returns FormErrors, or not found for a contact
// outside the scope.
func (db *DB) ValidateContact(ctx context.Context, org *Org, scope *Scope, id int64, in ContactInput) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		var old map[int64]string
		if id != 0 {
			var err error
			if _, old, err = editableContact(ctx, tx, org.ID, id, scope); err != nil {
				return err
			}
		}
		_, err := validateContact(ctx, tx, org, scope, id, in, old)
		return err
	})
}

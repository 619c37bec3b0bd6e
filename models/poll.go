package models

import (
	"context"
	"database/sql"
	"strconv"
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
		gone, err = retireMissing(ctx, tx, `UPDATE polls SET in_rapidpro = 0, is_active = 0 WHERE org_id = ? AND flow_uuid = ? AND in_rapidpro = 1`, orgID, have, seen)
		return err
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

// PollByID returns one of the org's polls (tracked or not); not found when it
// belongs to another org.
func (db *DB) PollByID(ctx context.Context, orgID, id int64) (*Poll, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+pollCols+` FROM polls WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return nil, err
	}
	ps, err := scanPolls(rows)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, NotFound("no such poll")
	}
	return &ps[0], nil
}

// PollSummary is a line of the poll list (SPEC §2.3 /poll/).
type PollSummary struct {
	Poll
	Questions     int   // active questions
	Pollruns      int   // poll runs visible in the scope
	LastConducted int64 // newest of those poll runs (unix ms; 0 = none)
}

// ListPollSummaries returns the org's tracked polls with their active
// question count and the poll runs visible in scope (nil scope = all).
func (db *DB) ListPollSummaries(ctx context.Context, orgID int64, scope *Scope) ([]PollSummary, error) {
	rows, err := db.QueryContext(ctx, `SELECT p.id, p.org_id, p.flow_uuid, p.rapidpro_name, p.name, p.is_active, p.in_rapidpro,
		(SELECT count(*) FROM questions q WHERE q.poll_id = p.id AND q.is_active = 1 AND q.in_rapidpro = 1),
		(SELECT count(*) FROM pollruns pr WHERE pr.poll_id = p.id AND `+pollrunScope(scope, "pr")+`),
		coalesce((SELECT max(pr.conducted_on) FROM pollruns pr WHERE pr.poll_id = p.id AND `+pollrunScope(scope, "pr")+`), 0)
		FROM polls p WHERE p.org_id = ? AND p.is_active = 1 AND p.in_rapidpro = 1
		ORDER BY coalesce(nullif(p.name, ''), p.rapidpro_name) COLLATE NOCASE`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PollSummary
	for rows.Next() {
		var s PollSummary
		if err := rows.Scan(&s.ID, &s.OrgID, &s.FlowUUID, &s.RapidProName, &s.Name, &s.IsActive, &s.InRapidPro,
			&s.Questions, &s.Pollruns, &s.LastConducted); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// pollrunScope is the scope's poll run condition (every poll run without a
// scope), leaving out spoofed poll runs unless the org shows spoof data (the
// original always showed them, SPEC §8).
func pollrunScope(s *Scope, alias string) string {
	if s == nil {
		return spoofFilter(alias)
	}
	return s.PollrunFilter(alias) + " AND " + spoofFilter(alias)
}

// panelScope restricts a contact panel column to the scope's data panels, or
// to active panels for "All panels" and without a scope (SPEC §3.2: contacts
// whose panel is inactive do not count).
func panelScope(s *Scope, col string) string {
	if s == nil || s.DataPanels == nil {
		return col + " IN (SELECT id FROM regions WHERE is_active = 1)"
	}
	return s.PanelFilter(col)
}

// PollEdit is an administrator's edit of a poll (SPEC §2.3 /poll/update/):
// its name and, per question, name, type, visibility and order.
type PollEdit struct {
	Name      string
	Questions []QuestionEdit
}

// QuestionEdit is the edit of one question.
type QuestionEdit struct {
	ID       int64
	Name     string
	Type     string
	IsActive bool
	Order    int
}

// validQuestionTypes are the types an administrator may choose (SPEC §1).
var validQuestionTypes = map[string]bool{QuestionOpen: true, QuestionChoice: true, QuestionNumeric: true,
	QuestionMenu: true, QuestionKeypad: true, QuestionRecording: true}

// overrideName applies SPEC §1's override rule: a name equal to RapidPro's (or
// blank) is stored as ” so later RapidPro renames keep propagating.
func overrideName(name, rapidpro string) string {
	name = strings.TrimSpace(name)
	if name == rapidpro {
		return ""
	}
	return name
}

// UpdatePoll saves an administrator's edit of one of the org's polls. Names
// equal to RapidPro's are stored blank; a question whose type changes keeps
// it through later flow syncs.
func (db *DB) UpdatePoll(ctx context.Context, orgID, pollID int64, e PollEdit) error {
	if len([]rune(strings.TrimSpace(e.Name))) > 64 {
		return InvalidField("name", "Use at most 64 characters.")
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		var rpName string
		if err := tx.QueryRowContext(ctx, `SELECT rapidpro_name FROM polls WHERE org_id = ? AND id = ?`, orgID, pollID).Scan(&rpName); err == sql.ErrNoRows {
			return NotFound("no such poll")
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE polls SET name = ? WHERE id = ?`, overrideName(e.Name, rpName), pollID); err != nil {
			return err
		}
		for _, q := range e.Questions {
			if !validQuestionTypes[q.Type] {
				return InvalidField("type_"+strconv.FormatInt(q.ID, 10), "Choose a question type.")
			}
			if len([]rune(strings.TrimSpace(q.Name))) > 255 {
				return InvalidField("name_"+strconv.FormatInt(q.ID, 10), "Use at most 255 characters.")
			}
			var qName, qType string
			err := tx.QueryRowContext(ctx, `SELECT rapidpro_name, question_type FROM questions WHERE poll_id = ? AND id = ?`, pollID, q.ID).Scan(&qName, &qType)
			if err == sql.ErrNoRows {
				return NotFound("no such question")
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE questions SET name = ?, question_type = ?, is_active = ?, display_order = ?,
				type_set = CASE WHEN question_type <> ? THEN 1 ELSE type_set END,
				order_set = CASE WHEN display_order <> ? THEN 1 ELSE order_set END WHERE id = ?`,
				overrideName(q.Name, qName), q.Type, boolInt(q.IsActive), q.Order, q.Type, q.Order, q.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

package models

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
)

// Poll run types (SPEC §1).
const (
	PollrunUniversal  = "u"
	PollrunSpoofed    = "s"
	PollrunRegional   = "r"
	PollrunPropagated = "p"
)

// PollrunRow is a poll run as lists and detail pages show it, with the
// response counts of its active responses from active contacts in scope.
type PollrunRow struct {
	ID          int64
	PollID      int64
	PollName    string
	Type        string
	RegionID    int64  // 0 for universal and spoofed runs
	RegionName  string // "" = all panels
	ConductedOn int64
	LocalDate   string
	Empty       int
	Partial     int
	Complete    int
}

// Participants counts every response (empty, partial and complete).
func (r PollrunRow) Participants() int { return r.Empty + r.Partial + r.Complete }

// Ref is the poll run as the chart queries take it.
func (r PollrunRow) Ref() PollrunRef {
	return PollrunRef{ID: r.ID, PollID: r.PollID, RegionID: r.RegionID, Type: r.Type, ConductedOn: r.ConductedOn, LocalDate: r.LocalDate}
}

// pollrunSelect reads PollrunRow columns; the counts are correlated
// subqueries probing responses_pollrun (pollrun_id, contact_id, …).
func pollrunSelect(scope *Scope) string {
	count := func(status string) string {
		return `(SELECT count(*) FROM responses r JOIN contacts c ON c.id = r.contact_id WHERE r.pollrun_id = pr.id AND r.is_active = 1
			AND r.status = '` + status + `' AND c.is_active = 1 AND ` + panelScope(scope, "c.region_id") + `)`
	}
	return `SELECT pr.id, pr.poll_id, coalesce(nullif(p.name, ''), p.rapidpro_name), pr.pollrun_type, coalesce(pr.region_id, 0),
		coalesce(rg.name, ''), pr.conducted_on, pr.local_date, ` + count(StatusEmpty) + `, ` + count(StatusPartial) + `, ` + count(StatusComplete) + `
		FROM pollruns pr JOIN polls p ON p.id = pr.poll_id LEFT JOIN regions rg ON rg.id = pr.region_id`
}

func scanPollruns(rows *sql.Rows) ([]PollrunRow, error) {
	defer rows.Close()
	var out []PollrunRow
	for rows.Next() {
		var r PollrunRow
		if err := rows.Scan(&r.ID, &r.PollID, &r.PollName, &r.Type, &r.RegionID, &r.RegionName, &r.ConductedOn, &r.LocalDate,
			&r.Empty, &r.Partial, &r.Complete); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListPollruns returns a page (1-based, perPage rows) of the org's poll runs
// of tracked polls visible in scope, newest first; pollID 0 = every poll. It
// also returns how many there are in all.
func (db *DB) ListPollruns(ctx context.Context, orgID int64, scope *Scope, pollID int64, page, perPage int) ([]PollrunRow, int, error) {
	where := ` WHERE pr.org_id = ? AND p.is_active = 1 AND ` + pollrunScope(scope, "pr")
	args := []any{orgID}
	if pollID != 0 {
		where += ` AND pr.poll_id = ?`
		args = append(args, pollID)
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pollruns pr JOIN polls p ON p.id = pr.poll_id`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if page < 1 {
		page = 1
	}
	rows, err := db.QueryContext(ctx, pollrunSelect(scope)+where+` ORDER BY pr.conducted_on DESC, pr.id DESC LIMIT ? OFFSET ?`,
		append(args, perPage, (page-1)*perPage)...)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanPollruns(rows)
	return out, total, err
}

// PollrunInScope returns a poll run of a tracked poll of the org that the
// scope may see, with its counts; not found otherwise (another org's, another
// panel's, or unknown).
func (db *DB) PollrunInScope(ctx context.Context, orgID, id int64, scope *Scope) (*PollrunRow, error) {
	rows, err := db.QueryContext(ctx, pollrunSelect(scope)+` WHERE pr.org_id = ? AND pr.id = ? AND p.is_active = 1 AND `+pollrunScope(scope, "pr"), orgID, id)
	if err != nil {
		return nil, err
	}
	out, err := scanPollruns(rows)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, NotFound("no such poll run")
	}
	return &out[0], nil
}

// ResponseRow is a line of a poll run's responses tab.
type ResponseRow struct {
	ID        int64
	UpdatedOn int64
	ContactID int64
	Contact   string
	URN       string
	Panel     string
	Cohorts   string           // active cohort names, sorted, ", "-joined
	Answers   map[int64]Answer // by question id
}

// Answer is one stored answer.
type Answer struct {
	Value    string
	Category string
}

// PollrunResponses returns a page (1-based) of the non-empty active
// responses of a poll run from active contacts in scope, newest first, with
// their answers; and how many there are in all.
func (db *DB) PollrunResponses(ctx context.Context, pollrunID int64, scope *Scope, page, perPage int) ([]ResponseRow, int, error) {
	where := ` FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1 AND ` + panelScope(scope, "c.region_id")
	// The total from the counters (non-empty = partial + complete; counted =
	// active responses of active contacts under their panel, as here).
	var total int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(sum(partial + complete), 0) FROM response_counters k WHERE k.pollrun_id = ? AND `+
		panelScope(scope, "k.region_id"), pollrunID).Scan(&total); err != nil {
		return nil, 0, err
	}
	if page < 1 {
		page = 1
	}
	rows, err := db.QueryContext(ctx, `SELECT r.id, r.updated_on, c.id, c.name, c.urn,
		coalesce((SELECT name FROM regions WHERE id = c.region_id), ''),
		coalesce((SELECT group_concat(name, char(31)) FROM (SELECT co.name FROM contact_cohorts cc JOIN cohorts co ON co.id = cc.cohort_id
			WHERE cc.contact_id = c.id AND co.is_active = 1 ORDER BY co.name COLLATE NOCASE)), '')`+where+`
		ORDER BY r.updated_on DESC, r.id DESC LIMIT ? OFFSET ?`, pollrunID, perPage, (page-1)*perPage)
	if err != nil {
		return nil, 0, err
	}
	var out []ResponseRow
	byID := map[int64]*ResponseRow{}
	for rows.Next() {
		var r ResponseRow
		var cohorts string
		if err := rows.Scan(&r.ID, &r.UpdatedOn, &r.ContactID, &r.Contact, &r.URN, &r.Panel, &cohorts); err != nil {
			rows.Close()
			return nil, 0, err
		}
		r.Cohorts = joinCohorts(cohorts)
		r.Answers = map[int64]Answer{}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	ids := make([]string, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i]
		ids[i] = strconv.FormatInt(out[i].ID, 10)
	}
	if len(ids) > 0 {
		if err := db.loadAnswers(ctx, strings.Join(ids, ","), func(resp int64, q int64, a Answer) {
			byID[resp].Answers[q] = a
		}); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// loadAnswers calls fn for every answer of the responses (a list of ids from
// the database).
func (db *DB) loadAnswers(ctx context.Context, ids string, fn func(resp, q int64, a Answer)) error {
	rows, err := db.QueryContext(ctx, `SELECT response_id, question_id, value, coalesce(category, '') FROM answers WHERE response_id IN (`+ids+`)`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var resp, q int64
		var a Answer
		if err := rows.Scan(&resp, &q, &a.Value, &a.Category); err != nil {
			return err
		}
		fn(resp, q, a)
	}
	return rows.Err()
}

// joinCohorts turns a char(31)-separated list into SPEC §5's ", "-joined one
// (sorted by name).
func joinCohorts(s string) string {
	if s == "" {
		return ""
	}
	parts := strings.Split(s, "\x1f")
	sort.SliceStable(parts, func(i, j int) bool { return strings.ToLower(parts[i]) < strings.ToLower(parts[j]) })
	return strings.Join(parts, ", ")
}

// ContactInScope is a contact as the responses-by-contact page heads it.
type ContactInScope struct {
	ID    int64
	Name  string
	URN   string
	Panel string
}

// ContactResponse is one response of a contact with its answers in question
// order.
type ContactResponse struct {
	ID        int64
	UpdatedOn int64
	PollrunID int64
	PollName  string
	LocalDate string
	Status    string
	Spoofed   bool // a spoofed poll run's (SPEC §3.6)
	Answers   []NumberedAnswer
}

// NumberedAnswer is "n. question: answer" (open-ended → value, else category).
type NumberedAnswer struct {
	N        int
	Question string
	Answer   string
}

// ContactResponses returns a contact of the org in the scope's panels (not
// found otherwise) and its non-empty active responses to tracked polls, newest
// first.
func (db *DB) ContactResponses(ctx context.Context, orgID, contactID int64, scope *Scope) (*ContactInScope, []ContactResponse, error) {
	var ct ContactInScope
	err := db.QueryRowContext(ctx, `SELECT c.id, c.name, c.urn, coalesce((SELECT name FROM regions WHERE id = c.region_id), '')
		FROM contacts c WHERE c.org_id = ? AND c.id = ? AND c.region_id IS NOT NULL AND `+panelScope(scope, "c.region_id"), orgID, contactID).
		Scan(&ct.ID, &ct.Name, &ct.URN, &ct.Panel)
	if err == sql.ErrNoRows {
		return nil, nil, NotFound("no such contact")
	} else if err != nil {
		return nil, nil, err
	}
	// Responses are indexed by (poll run, contact): probe poll run by poll run.
	rows, err := db.QueryContext(ctx, `SELECT r.id, r.updated_on, pr.id, coalesce(nullif(p.name, ''), p.rapidpro_name), pr.local_date, r.status, p.id,
		pr.pollrun_type = 's'
		FROM pollruns pr CROSS JOIN responses r JOIN polls p ON p.id = pr.poll_id
		WHERE pr.org_id = ? AND r.pollrun_id = pr.id AND r.contact_id = ? AND r.is_active = 1 AND r.status <> 'E' AND p.is_active = 1
		AND `+spoofFilter("pr")+`
		ORDER BY r.updated_on DESC, r.id DESC`, orgID, contactID)
	if err != nil {
		return nil, nil, err
	}
	var out []ContactResponse
	var polls []int64
	for rows.Next() {
		var r ContactResponse
		var poll int64
		if err := rows.Scan(&r.ID, &r.UpdatedOn, &r.PollrunID, &r.PollName, &r.LocalDate, &r.Status, &poll, &r.Spoofed); err != nil {
			rows.Close()
			return nil, nil, err
		}
		out = append(out, r)
		polls = append(polls, poll)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	questions := map[int64][]Question{}
	for i := range out {
		qs, ok := questions[polls[i]]
		if !ok {
			all, err := db.PollQuestions(ctx, polls[i])
			if err != nil {
				return nil, nil, err
			}
			qs = ActiveQuestions(all)
			questions[polls[i]] = qs
		}
		answers := map[int64]Answer{}
		if err := db.loadAnswers(ctx, strconv.FormatInt(out[i].ID, 10), func(_, q int64, a Answer) { answers[q] = a }); err != nil {
			return nil, nil, err
		}
		for n, q := range qs {
			a, ok := answers[q.ID]
			if !ok {
				continue
			}
			text := a.Category
			if q.Type == QuestionOpen || text == "" {
				text = a.Value
			}
			out[i].Answers = append(out[i].Answers, NumberedAnswer{N: n + 1, Question: q.DisplayName(), Answer: text})
		}
	}
	return &ct, out, nil
}

package models

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Response statuses (SPEC §1).
const (
	StatusEmpty    = "E"
	StatusPartial  = "P"
	StatusComplete = "C"
)

// RunRow is a RapidPro run as pulled (live API or archive).
type RunRow struct {
	UUID        string // run uuid, or the legacy integer id as text
	ID          int64
	FlowUUID    string
	ContactUUID string
	StartUUID   string
	ExitType    string
	Values      []RunValueRow
	CreatedOn   time.Time
	ModifiedOn  time.Time
}

// RunValueRow is one result of a run.
type RunValueRow struct {
	Key      string
	Node     string
	Value    string
	Category *string
	Time     time.Time
}

// Status derives the response status from a run (SPEC §3.1).
func (r *RunRow) Status() string {
	switch {
	case r.ExitType == "completed":
		return StatusComplete
	case len(r.Values) > 0:
		return StatusPartial
	}
	return StatusEmpty
}

// UpdatedOn is the time of the latest value, else the run's creation.
func (r *RunRow) UpdatedOn() time.Time {
	t := r.CreatedOn
	for _, v := range r.Values {
		if v.Time.After(t) {
			t = v.Time
		}
	}
	return t
}

// RunStats counts what a runs page did.
type RunStats struct {
	Created, Updated, Unchanged int
	SkippedFlow                 int // run of an untracked flow
	SkippedContact              int // contact not tracked here
}

// Add accumulates o into s.
func (s *RunStats) Add(o RunStats) {
	s.Created += o.Created
	s.Updated += o.Updated
	s.Unchanged += o.Unchanged
	s.SkippedFlow += o.SkippedFlow
	s.SkippedContact += o.SkippedContact
}

// ParseNumber reads an answer as a decimal number. Values that look like phone
// numbers or identifiers (a leading "+", more than 12 digits) are not numbers.
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "+") {
		return 0, false
	}
	digits := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || c == '-':
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 12 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// cut on a rune boundary
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// ResponseSnapshot is a stored response as a comparable value (used by the
// convergence test and `tracpro sync` diagnostics).
type ResponseSnapshot struct {
	FlowUUID    string
	ContactUUID string
	PollrunType string
	Status      string
	Active      bool
	Answers     map[string][2]string // result key -> value, category ("" = none)
}

// SnapshotResponses returns every response of the org keyed by run UUID.
func (db *DB) SnapshotResponses(ctx context.Context, orgID int64) (map[string]ResponseSnapshot, error) {
	rows, err := db.QueryContext(ctx, `SELECT r.run_uuid, p.flow_uuid, c.uuid, pr.pollrun_type, r.status, r.is_active,
		coalesce((SELECT json_group_object(q.result_key, json_array(a.value, coalesce(a.category, ''))) FROM answers a JOIN questions q ON q.id = a.question_id WHERE a.response_id = r.id), '{}')
		FROM responses r JOIN pollruns pr ON pr.id = r.pollrun_id JOIN polls p ON p.id = pr.poll_id JOIN contacts c ON c.id = r.contact_id WHERE r.org_id = ?`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ResponseSnapshot{}
	for rows.Next() {
		var run, answers string
		var s ResponseSnapshot
		if err := rows.Scan(&run, &s.FlowUUID, &s.ContactUUID, &s.PollrunType, &s.Status, &s.Active, &answers); err != nil {
			return nil, err
		}
		raw := map[string][]string{}
		_ = json.Unmarshal([]byte(answers), &raw)
		s.Answers = map[string][2]string{}
		for k, v := range raw {
			if len(v) == 2 {
				s.Answers[k] = [2]string{v[0], v[1]}
			}
		}
		out[run] = s
	}
	return out, rows.Err()
}

package models

import (
	"context"
	"database/sql"
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

type questionRef struct {
	id      int64
	numeric bool
}

type pollRef struct {
	id     int64
	byKey  map[string]questionRef
	byNode map[string]questionRef
}

// RunIngester turns pulled runs into responses and answers for one org. It
// caches the org's tracked polls and questions and its universal poll runs;
// make a new one per pull.
type RunIngester struct {
	db       *DB
	org      *Org
	loc      *time.Location
	polls    map[string]*pollRef
	pollruns map[string]int64
}

// NewRunIngester loads the org's tracked polls and their questions.
func (db *DB) NewRunIngester(ctx context.Context, org *Org) (*RunIngester, error) {
	ri := &RunIngester{db: db, org: org, loc: org.Location(), polls: map[string]*pollRef{}, pollruns: map[string]int64{}}
	polls, err := db.ListPolls(ctx, org.ID, true)
	if err != nil {
		return nil, err
	}
	for _, p := range polls {
		pr := &pollRef{id: p.ID, byKey: map[string]questionRef{}, byNode: map[string]questionRef{}}
		qs, err := db.PollQuestions(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			ref := questionRef{id: q.ID, numeric: q.Type == QuestionNumeric}
			if q.ResultKey != "" {
				pr.byKey[q.ResultKey] = ref
			}
			pr.byNode[q.UUID] = ref
		}
		ri.polls[p.FlowUUID] = pr
	}
	return ri, nil
}

// Tracks reports whether runs of this flow are stored.
func (ri *RunIngester) Tracks(flowUUID string) bool { return ri.polls[flowUUID] != nil }

// TrackedFlows returns the UUIDs of the tracked flows.
func (ri *RunIngester) TrackedFlows() []string {
	out := make([]string, 0, len(ri.polls))
	for u := range ri.polls {
		out = append(out, u)
	}
	return out
}

type existingResponse struct {
	id, modified, pollrun, contact int64
}

type pair struct{ pollrun, contact int64 }

type sameDayKey struct {
	question, contact int64
	day               string
}

// ApplyPage stores one page of runs in one transaction, and the sync state st
// (when non-nil) in the same transaction. A run is applied only when its
// modified_on is not older than the stored one; it lands in the poll run of
// its flow start when TracPro made that start, otherwise in the universal poll
// run of its org-local creation day; only the newest response per contact per
// poll run stays active; same-day answers get their last and sum values.
func (ri *RunIngester) ApplyPage(ctx context.Context, runs []RunRow, st *SyncState) (RunStats, error) {
	var stats RunStats
	err := ri.db.Tx(ctx, func(tx *sql.Tx) error {
		stats = RunStats{}
		var keep []*RunRow
		contactSet := map[string]bool{}
		startSet := map[string]bool{}
		// A run can appear twice in a batch of pages (modified between two
		// page reads): keep its newest copy only.
		pos := make(map[string]int, len(runs))
		for i := range runs {
			r := &runs[i]
			if ri.polls[r.FlowUUID] == nil {
				stats.SkippedFlow++
				continue
			}
			if j, dup := pos[r.UUID]; dup {
				stats.Unchanged++
				if r.ModifiedOn.After(keep[j].ModifiedOn) {
					keep[j] = r
				}
				continue
			}
			pos[r.UUID] = len(keep)
			keep = append(keep, r)
			contactSet[r.ContactUUID] = true
			if r.StartUUID != "" {
				startSet[r.StartUUID] = true
			}
		}
		if len(keep) > 0 {
			if err := ri.applyRuns(ctx, tx, keep, contactSet, startSet, &stats); err != nil {
				return err
			}
		}
		if st != nil {
			return saveSyncState(ctx, tx, st)
		}
		return nil
	})
	return stats, err
}

func keysOf(m map[string]bool) []any {
	out := make([]any, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (ri *RunIngester) lookup(ctx context.Context, tx *sql.Tx, query string, keys map[string]bool, fn func(*sql.Rows) error) error {
	if len(keys) == 0 {
		return nil
	}
	args := append([]any{ri.org.ID}, keysOf(keys)...)
	rows, err := tx.QueryContext(ctx, strings.Replace(query, "(?*)", "("+inPlaceholders(len(keys))+")", 1), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (ri *RunIngester) applyRuns(ctx context.Context, tx *sql.Tx, runs []*RunRow, contactSet, startSet map[string]bool, stats *RunStats) error {
	contacts := map[string]int64{}
	if err := ri.lookup(ctx, tx, `SELECT uuid, id FROM contacts WHERE org_id = ? AND uuid IN (?*)`, contactSet, func(rows *sql.Rows) error {
		var u string
		var id int64
		err := rows.Scan(&u, &id)
		contacts[u] = id
		return err
	}); err != nil {
		return err
	}
	starts := map[string]int64{}
	if err := ri.lookup(ctx, tx, `SELECT uuid, pollrun_id FROM flow_starts WHERE org_id = ? AND uuid IN (?*)`, startSet, func(rows *sql.Rows) error {
		var u string
		var id int64
		err := rows.Scan(&u, &id)
		starts[u] = id
		return err
	}); err != nil {
		return err
	}
	runSet := make(map[string]bool, len(runs))
	for _, r := range runs {
		runSet[r.UUID] = true
	}
	existing := map[string]existingResponse{}
	if err := ri.lookup(ctx, tx, `SELECT run_uuid, id, modified_on, pollrun_id, contact_id FROM responses WHERE org_id = ? AND run_uuid IN (?*)`, runSet, func(rows *sql.Rows) error {
		var u string
		var e existingResponse
		err := rows.Scan(&u, &e.id, &e.modified, &e.pollrun, &e.contact)
		existing[u] = e
		return err
	}); err != nil {
		return err
	}

	insResp, err := tx.PrepareContext(ctx, `INSERT INTO responses (org_id, pollrun_id, contact_id, run_uuid, flow_run_id, created_on, updated_on, modified_on, status, is_active)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`)
	if err != nil {
		return err
	}
	defer insResp.Close()
	var answers []any // 9 values per answer, inserted in multi-row statements

	recheck := map[pair]bool{}  // pairs whose active flag must be recomputed
	inserted := map[pair]bool{} // pairs that got a new response
	sameDay := map[sameDayKey]bool{}
	touchedContacts := map[int64]bool{}
	for _, r := range runs {
		cid, ok := contacts[r.ContactUUID]
		if !ok {
			stats.SkippedContact++
			continue
		}
		poll := ri.polls[r.FlowUUID]
		mod := Ms(r.ModifiedOn)
		e, found := existing[r.UUID]
		if found && e.modified >= mod {
			stats.Unchanged++
			continue
		}
		prID, ok := starts[r.StartUUID]
		if !ok || r.StartUUID == "" {
			if prID, err = ri.universal(ctx, tx, poll.id, r.CreatedOn); err != nil {
				return err
			}
		}
		var respID int64
		if found {
			respID = e.id
			// Old answers leave their same-day groups: recompute those too.
			if err := collectSameDay(ctx, tx, respID, cid, sameDay); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM answers WHERE response_id = ?`, respID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE responses SET pollrun_id = ?, contact_id = ?, updated_on = ?, modified_on = ?, status = ? WHERE id = ?`,
				prID, cid, Ms(r.UpdatedOn()), mod, r.Status(), respID); err != nil {
				return err
			}
			recheck[pair{e.pollrun, e.contact}] = true
			recheck[pair{prID, cid}] = true
			stats.Updated++
		} else {
			var legacyID any
			if r.ID != 0 {
				legacyID = r.ID
			}
			res, err := insResp.ExecContext(ctx, ri.org.ID, prID, cid, r.UUID, legacyID, Ms(r.CreatedOn), Ms(r.UpdatedOn()), mod, r.Status())
			if err != nil {
				return err
			}
			if respID, err = res.LastInsertId(); err != nil {
				return err
			}
			inserted[pair{prID, cid}] = true
			stats.Created++
		}
		touchedContacts[cid] = true
		seenQ := map[int64]bool{}
		for _, v := range r.Values {
			q, ok := poll.byKey[v.Key]
			if !ok {
				if q, ok = poll.byNode[v.Node]; !ok {
					continue
				}
			}
			if seenQ[q.id] {
				continue
			}
			seenQ[q.id] = true
			var cat any
			if v.Category != nil && *v.Category != "" && *v.Category != "All Responses" {
				cat = truncate(*v.Category, 36)
			}
			t := v.Time
			if t.IsZero() {
				t = r.ModifiedOn
			}
			day := t.In(ri.loc).Format("2006-01-02")
			val := truncate(v.Value, 640)
			answers = append(answers, respID, q.id, cid, val, cat, Ms(t), day, val, val)
			if found {
				sameDay[sameDayKey{q.id, cid, day}] = true
			}
		}
	}
	if err := insertAnswers(ctx, tx, answers); err != nil {
		return err
	}
	if err := ri.fixActive(ctx, tx, inserted, recheck); err != nil {
		return err
	}
	return fixSameDay(ctx, tx, touchedContacts, sameDay)
}

// answersPerInsert is how many answers one INSERT statement carries.
const answersPerInsert = 100

// insertAnswers inserts answers given as flat groups of 9 values.
func insertAnswers(ctx context.Context, tx *sql.Tx, vals []any) error {
	const cols = 9
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for len(vals) > 0 {
		n := min(len(vals)/cols, answersPerInsert)
		st := stmts[n]
		if st == nil {
			var err error
			st, err = tx.PrepareContext(ctx, `INSERT INTO answers (response_id, question_id, contact_id, value, category, submitted_on, local_date, last_value, sum_value) VALUES `+
				strings.TrimSuffix(strings.Repeat(row+",", n), ","))
			if err != nil {
				return err
			}
			stmts[n] = st
		}
		if _, err := st.ExecContext(ctx, vals[:n*cols]...); err != nil {
			return err
		}
		vals = vals[n*cols:]
	}
	return nil
}

// universal returns the universal poll run of the poll on the org-local day of t,
// creating it when needed.
func (ri *RunIngester) universal(ctx context.Context, tx *sql.Tx, pollID int64, t time.Time) (int64, error) {
	day := t.In(ri.loc).Format("2006-01-02")
	key := strconv.FormatInt(pollID, 10) + "|" + day
	if id, ok := ri.pollruns[key]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM pollruns WHERE poll_id = ? AND local_date = ? AND pollrun_type = 'u'`, pollID, day).Scan(&id)
	if err == sql.ErrNoRows {
		err = tx.QueryRowContext(ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, conducted_on, local_date) VALUES (?, ?, 'u', ?, ?) RETURNING id`,
			ri.org.ID, pollID, Ms(t), day).Scan(&id)
	}
	if err != nil {
		return 0, err
	}
	ri.pollruns[key] = id
	return id, nil
}

// fixActive keeps only the newest response (by created_on) per contact per
// poll run active, for the pairs this page touched.
func (ri *RunIngester) fixActive(ctx context.Context, tx *sql.Tx, inserted, recheck map[pair]bool) error {
	if len(inserted) > 0 {
		contactIDs := map[int64]bool{}
		for p := range inserted {
			contactIDs[p.contact] = true
		}
		args := make([]any, 0, len(contactIDs))
		for c := range contactIDs {
			args = append(args, c)
		}
		rows, err := tx.QueryContext(ctx, `SELECT pollrun_id, contact_id FROM responses WHERE contact_id IN (`+inPlaceholders(len(args))+`)
			GROUP BY pollrun_id, contact_id HAVING count(*) > 1`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p pair
			rows.Scan(&p.pollrun, &p.contact)
			if inserted[p] {
				recheck[p] = true
			}
		}
		rows.Close()
	}
	for p := range recheck {
		if _, err := tx.ExecContext(ctx, `UPDATE responses SET is_active = (id = (SELECT r2.id FROM responses r2 WHERE r2.pollrun_id = ?1 AND r2.contact_id = ?2
			ORDER BY r2.created_on DESC, r2.id DESC LIMIT 1)) WHERE pollrun_id = ?1 AND contact_id = ?2`, p.pollrun, p.contact); err != nil {
			return err
		}
	}
	return nil
}

func collectSameDay(ctx context.Context, tx *sql.Tx, responseID, contactID int64, into map[sameDayKey]bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT question_id, local_date FROM answers WHERE response_id = ?`, responseID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		k := sameDayKey{contact: contactID}
		if err := rows.Scan(&k.question, &k.day); err != nil {
			return err
		}
		into[k] = true
	}
	return rows.Err()
}

// fixSameDay recomputes last_value and sum_value (SPEC §3.1, on the org-local
// day) for every (question, contact, day) group of the touched contacts that has
// several answers, plus the groups an update left.
func fixSameDay(ctx context.Context, tx *sql.Tx, contacts map[int64]bool, groups map[sameDayKey]bool) error {
	if len(contacts) > 0 {
		args := make([]any, 0, len(contacts))
		for c := range contacts {
			args = append(args, c)
		}
		rows, err := tx.QueryContext(ctx, `SELECT question_id, contact_id, local_date FROM answers WHERE contact_id IN (`+inPlaceholders(len(args))+`)
			GROUP BY contact_id, question_id, local_date HAVING count(*) > 1`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k sameDayKey
			rows.Scan(&k.question, &k.contact, &k.day)
			groups[k] = true
		}
		rows.Close()
	}
	for k := range groups {
		if err := recomputeSameDay(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

func recomputeSameDay(ctx context.Context, tx *sql.Tx, k sameDayKey) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, value FROM answers WHERE question_id = ? AND contact_id = ? AND local_date = ? ORDER BY submitted_on, id`, k.question, k.contact, k.day)
	if err != nil {
		return err
	}
	var ids []int64
	var vals []string
	for rows.Next() {
		var id int64
		var v string
		rows.Scan(&id, &v)
		ids, vals = append(ids, id), append(vals, v)
	}
	rows.Close()
	if len(ids) == 0 {
		return nil
	}
	last := vals[len(vals)-1]
	var sum float64
	numeric := false
	for _, v := range vals {
		if f, ok := ParseNumber(v); ok {
			sum += f
			numeric = true
		}
	}
	for i, id := range ids {
		s := vals[i]
		if numeric {
			s = strconv.FormatFloat(sum, 'f', -1, 64)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE answers SET last_value = ?, sum_value = ? WHERE id = ?`, last, s, id); err != nil {
			return err
		}
	}
	return nil
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

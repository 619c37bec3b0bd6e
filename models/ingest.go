package models

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
	contacts map[uuidKey]int64 // contact uuid -> id, for contacts known to exist (rows are never deleted)
	// inserted holds the runs this ingester inserted, when the org had no
	// responses at its start (a first import): a run absent from it cannot
	// exist yet, so its existence lookup is skipped.
	inserted *bloom
}

// uuidKey is a UUID in 16 bytes: a compact map key.
type uuidKey [16]byte

// parseUUIDKey reads a canonical 36-character UUID.
func parseUUIDKey(s string) (uuidKey, bool) {
	var k uuidKey
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return k, false
	}
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		h, ok := hexVal(s[i])
		l, ok2 := hexVal(s[i+1])
		if !ok || !ok2 {
			return k, false
		}
		k[j] = h<<4 | l
		j++
		i++
	}
	return k, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// maxCachedContacts bounds the ingester's contact cache (~40 bytes an entry).
const maxCachedContacts = 250000

// contactIDs resolves contact UUIDs to local ids, from the cache where it can;
// unknown contacts are absent from the result.
func (ri *RunIngester) contactIDs(ctx context.Context, q querier, uuids map[string]bool) (map[string]int64, error) {
	out := make(map[string]int64, len(uuids))
	ask := map[string]bool{}
	for u := range uuids {
		if k, ok := parseUUIDKey(u); ok {
			if id, ok := ri.contacts[k]; ok {
				out[u] = id
				continue
			}
		}
		ask[u] = true
	}
	if len(ask) == 0 {
		return out, nil
	}
	args := append([]any{ri.org.ID}, keysOf(ask)...)
	rows, err := q.QueryContext(ctx, `SELECT uuid, id FROM contacts WHERE org_id = ? AND uuid IN (`+inPlaceholders(len(ask))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var id int64
		if err := rows.Scan(&u, &id); err != nil {
			return nil, err
		}
		out[u] = id
		if k, ok := parseUUIDKey(u); ok && len(ri.contacts) < maxCachedContacts {
			ri.contacts[k] = id
		}
	}
	return out, rows.Err()
}

// MissingContacts returns those of uuids (deduplicated) that have no local contact.
func (ri *RunIngester) MissingContacts(ctx context.Context, uuids []string) ([]string, error) {
	set := make(map[string]bool, len(uuids))
	for _, u := range uuids {
		set[u] = true
	}
	found, err := ri.contactIDs(ctx, ri.db.DB, set)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range uuids {
		if _, ok := found[u]; !ok && set[u] {
			out = append(out, u)
			set[u] = false
		}
	}
	return out, nil
}

// NewRunIngester loads the org's tracked polls and their questions.
func (db *DB) NewRunIngester(ctx context.Context, org *Org) (*RunIngester, error) {
	ri := &RunIngester{db: db, org: org, loc: org.Location(), polls: map[string]*pollRef{}, pollruns: map[string]int64{}, contacts: map[uuidKey]int64{}}
	polls, err := db.ListPolls(ctx, org.ID, true)
	if err != nil {
		return nil, err
	}
	var any int
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM responses WHERE org_id = ?)`, org.ID).Scan(&any); err != nil {
		return nil, err
	}
	if any == 0 {
		ri.inserted = newBloom(1 << 24)
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
	active                         bool
}

type pair struct{ pollrun, contact int64 }

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
		d := newCounterDelta()
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
			if err := ri.applyRuns(ctx, tx, keep, contactSet, startSet, &stats, d); err != nil {
				return err
			}
			if err := d.flush(ctx, tx); err != nil {
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

func (ri *RunIngester) applyRuns(ctx context.Context, tx *sql.Tx, runs []*RunRow, contactSet, startSet map[string]bool, stats *RunStats, d *counterDelta) error {
	contacts, err := ri.contactIDs(ctx, tx, contactSet)
	if err != nil {
		return err
	}
	counted, err := countedContacts(ctx, tx, contacts)
	if err != nil {
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
		if ri.inserted == nil || ri.inserted.has(r.UUID) {
			runSet[r.UUID] = true
		}
	}
	existing := map[string]existingResponse{}
	if err := ri.lookup(ctx, tx, `SELECT run_uuid, id, modified_on, pollrun_id, contact_id, is_active FROM responses WHERE org_id = ? AND run_uuid IN (?*)`, runSet, func(rows *sql.Rows) error {
		var u string
		var e existingResponse
		err := rows.Scan(&u, &e.id, &e.modified, &e.pollrun, &e.contact, &e.active)
		existing[u] = e
		return err
	}); err != nil {
		return err
	}

	// Counters: updated responses leave with what they counted (read before
	// the update), then every written response enters with its new values.
	var updating []int64
	for _, r := range runs {
		if _, known := contacts[r.ContactUUID]; !known {
			continue // skipped below, left as it is
		}
		if e, found := existing[r.UUID]; found && e.active && e.modified < Ms(r.ModifiedOn) {
			updating = append(updating, e.id)
		}
	}
	old, err := loadResponsesByID(ctx, tx, updating)
	if err != nil {
		return err
	}
	for _, s := range old {
		if s.contactActive {
			d.add(s, s.region, -1)
		}
	}

	var answers []any // 8 values per answer, inserted in multi-row statements
	// addAnswers queues the run's answers; count (ok false when not counted) is
	// the response's poll run and its contact's panel.
	addAnswers := func(r *RunRow, poll *pollRef, respID int64, count respKey, ok bool) {
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
			val := truncate(v.Value, 640)
			answers = append(answers, respID, q.id, val, cat, Ms(t), t.In(ri.loc).Format("2006-01-02"), val, val)
			if ok {
				c, _ := cat.(string)
				d.answer(counterKey{count.pollrun, q.id, count.region, c}, val, val, 1)
			}
		}
	}

	touched := map[pair]bool{} // (poll run, contact) pairs that got a response
	moved := map[pair]bool{}   // pairs an updated response left or changed
	var newRows []any          // 9 values per new response
	var newRuns []*RunRow
	var newCount []respKey // the counted poll run and panel of each new run (pollrun 0 = not counted)
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
		touched[pair{prID, cid}] = true
		region, isCounted := counted[cid]
		if !found {
			var legacyID any
			if r.ID != 0 {
				legacyID = r.ID
			}
			newRows = append(newRows, ri.org.ID, prID, cid, r.UUID, legacyID, Ms(r.CreatedOn), Ms(r.UpdatedOn()), mod, r.Status())
			if ri.inserted != nil {
				ri.inserted.add(r.UUID)
			}
			newRuns = append(newRuns, r)
			if isCounted { // inserted active
				d.response(prID, region, r.Status(), 1)
				newCount = append(newCount, respKey{prID, region})
			} else {
				newCount = append(newCount, respKey{})
			}
			stats.Created++
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM answers WHERE response_id = ?`, e.id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE responses SET pollrun_id = ?, contact_id = ?, updated_on = ?, modified_on = ?, status = ? WHERE id = ?`,
			prID, cid, Ms(r.UpdatedOn()), mod, r.Status(), e.id); err != nil {
			return err
		}
		moved[pair{e.pollrun, e.contact}] = true
		moved[pair{prID, cid}] = true
		stats.Updated++
		if isCounted && e.active { // an update keeps the activity flag; settle may change it
			d.response(prID, region, r.Status(), 1)
		}
		addAnswers(r, poll, e.id, respKey{prID, region}, isCounted && e.active)
	}
	ids, err := ri.insertResponses(ctx, tx, newRows)
	if err != nil {
		return err
	}
	for i, r := range newRuns {
		addAnswers(r, ri.polls[r.FlowUUID], ids[i], newCount[i], newCount[i].pollrun != 0)
	}
	if err := insertAnswers(ctx, tx, answers); err != nil {
		return err
	}
	return ri.settle(ctx, tx, touched, moved, d)
}

// insertAnswers inserts answers given as flat groups of 8 values.
func insertAnswers(ctx context.Context, tx *sql.Tx, vals []any) error {
	return insertMulti(ctx, tx, `INSERT INTO answers (response_id, question_id, value, category, submitted_on, local_date, last_value, sum_value)`, 8, vals, nil)
}

// insertResponses inserts new responses (flat groups of 9 values, the run
// UUID 4th) and returns their ids in order. SQLite gives the rows of one
// multi-row INSERT consecutive rowids ending at the last insert id; that is
// checked on each statement's first row, falling back to a lookup.
func (ri *RunIngester) insertResponses(ctx context.Context, tx *sql.Tx, vals []any) ([]int64, error) {
	const cols = 9
	ids := make([]int64, 0, len(vals)/cols)
	err := insertMulti(ctx, tx, `INSERT INTO responses (org_id, pollrun_id, contact_id, run_uuid, flow_run_id, created_on, updated_on, modified_on, status)`, cols, vals,
		func(res sql.Result, n int) error {
			last, err := res.LastInsertId()
			if err != nil {
				return err
			}
			chunk := vals[len(ids)*cols : (len(ids)+n)*cols]
			var first int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM responses WHERE org_id = ? AND run_uuid = ?`, ri.org.ID, chunk[3]).Scan(&first); err != nil {
				return err
			}
			if first == last-int64(n)+1 {
				for i := 0; i < n; i++ {
					ids = append(ids, first+int64(i))
				}
				return nil
			}
			for i := 0; i < n; i++ {
				var id int64
				if err := tx.QueryRowContext(ctx, `SELECT id FROM responses WHERE org_id = ? AND run_uuid = ?`, ri.org.ID, chunk[i*cols+3]).Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		})
	return ids, err
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

// countedContacts returns, among the given contacts, the active ones with
// their panel: their active responses are counted. The pairs come back as one
// "id:panel,…" string: one row per page instead of one per contact.
func countedContacts(ctx context.Context, q querier, contacts map[string]int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(contacts))
	ids := make([]int64, 0, len(contacts))
	for _, id := range contacts {
		ids = append(ids, id)
	}
	err := inChunks(ids, func(args []any) error {
		var list sql.NullString
		if err := q.QueryRowContext(ctx, `SELECT group_concat(id || ':' || coalesce(region_id, 0)) FROM contacts WHERE is_active = 1 AND id IN (`+inPlaceholders(len(args))+`)`,
			args...).Scan(&list); err != nil {
			return err
		}
		for _, p := range strings.Split(list.String, ",") {
			a, b, ok := strings.Cut(p, ":")
			if !ok {
				continue
			}
			id, err1 := strconv.ParseInt(a, 10, 64)
			region, err2 := strconv.ParseInt(b, 10, 64)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("counted contacts: bad pair %q", p)
			}
			out[id] = region
		}
		return nil
	})
	return out, err
}

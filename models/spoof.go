package models

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Spoof data (SPEC §3.6): made-up poll runs with random answers, for
// demonstrating indicators before real data exists. They are poll runs of
// type "s" (spoofed), shown like universal ones, marked as spoofed wherever
// they appear and only while the org's show_spoof_data is on.

// MaxSpoofDays bounds one spoof request (one follow-up poll run per day).
const MaxSpoofDays = 366

// MaxSpoofContacts bounds the contacts of one spoof request.
const MaxSpoofContacts = 1000

// MaxSpoofValue bounds a spoofed answer's size (either sign): a range
// wider than int could hold would break the random draw.
const MaxSpoofValue = 1_000_000_000

// SpoofInput is the spoof data form (SPEC §3.6): contacts, dates, the
// baseline and follow-up questions and the range of each one's answers.
type SpoofInput struct {
	Contacts                   []int64
	StartDate, EndDate         string // org-local YYYY-MM-DD
	BaselineQuestionID         int64
	FollowUpQuestionID         int64
	BaselineMin, BaselineMax   string // whole numbers as typed
	FollowUpMin, FollowUpMax   string
	baselineLo, baselineHi     int
	followUpLo, followUpHi     int
	baselinePoll, followUpPoll int64
	start, end                 time.Time
	contactRegions             map[int64]int64 // contact -> panel, for the valid contacts
}

// SpoofResult counts what a spoof request made.
type SpoofResult struct {
	Pollruns, Responses int
}

// SpoofContact is a contact the spoof form offers.
type SpoofContact struct {
	ID    int64
	Name  string
	Panel string
}

// SpoofContacts returns the active contacts of the scope's panels (every
// active panel for "All panels"), by name, at most limit of them: those a
// user may spoof answers for. more reports that there are others.
func (db *DB) SpoofContacts(ctx context.Context, scope *Scope, limit int) (out []SpoofContact, more bool, err error) {
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.name, r.name FROM contacts c JOIN regions r ON r.id = c.region_id
		WHERE c.org_id = ? AND c.is_active = 1 AND r.is_active = 1 AND `+panelScope(scope, "c.region_id")+`
		ORDER BY c.name COLLATE NOCASE, c.id LIMIT ?`, scope.OrgID, limit+1)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var c SpoofContact
		if err := rows.Scan(&c.ID, &c.Name, &c.Panel); err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	if len(out) > limit {
		out, more = out[:limit], true
	}
	return out, more, rows.Err()
}

// spoofRange reads a min/max pair of whole numbers.
func spoofRange(fe *FieldErrors, minS, maxS, minF, maxF string) (lo, hi int) {
	lo, err1 := strconv.Atoi(strings.TrimSpace(minS))
	hi, err2 := strconv.Atoi(strings.TrimSpace(maxS))
	for _, v := range []struct {
		err   error
		n     int
		field string
	}{{err1, lo, minF}, {err2, hi, maxF}} {
		switch {
		case v.err != nil:
			fe.add(InvalidField(v.field, "Enter a whole number."))
		case v.n < -MaxSpoofValue || v.n > MaxSpoofValue:
			fe.add(InvalidField(v.field, "Enter a whole number from -1000000000 to 1000000000."))
		}
	}
	if err1 == nil && err2 == nil && hi < lo {
		fe.add(InvalidField(maxF, "The maximum must not be below the minimum."))
	}
	return lo, hi
}

// validateSpoof checks the input in the scope and resolves its questions'
// polls and its contacts' panels.
func (db *DB) validateSpoof(ctx context.Context, org *Org, scope *Scope, in *SpoofInput) error {
	var fe FieldErrors
	loc := org.Location()
	var okS, okE bool
	in.start, okS = parseDay(in.StartDate, loc)
	in.end, okE = parseDay(in.EndDate, loc)
	if !okS {
		fe.add(InvalidField("start_date", "Enter a valid date (YYYY-MM-DD)."))
	}
	if !okE {
		fe.add(InvalidField("end_date", "Enter a valid date (YYYY-MM-DD)."))
	}
	if okS && okE {
		switch {
		case in.end.Before(in.start):
			fe.add(InvalidField("end_date", "The end date must not be before the start date."))
		case in.end.Sub(in.start) > (MaxSpoofDays-1)*24*time.Hour+time.Hour: // an hour of slack for DST
			fe.add(InvalidField("end_date", "Spoof at most 366 days at once."))
		}
	}
	in.baselineLo, in.baselineHi = spoofRange(&fe, in.BaselineMin, in.BaselineMax, "baseline_min", "baseline_max")
	in.followUpLo, in.followUpHi = spoofRange(&fe, in.FollowUpMin, in.FollowUpMax, "follow_up_min", "follow_up_max")
	for _, side := range []struct {
		q    int64
		f    string
		poll *int64
	}{{in.BaselineQuestionID, "baseline_question", &in.baselinePoll}, {in.FollowUpQuestionID, "follow_up_question", &in.followUpPoll}} {
		err := db.QueryRowContext(ctx, `SELECT p.id FROM questions q JOIN polls p ON p.id = q.poll_id
			WHERE q.id = ? AND p.org_id = ? AND p.is_active = 1 AND p.in_rapidpro = 1 AND q.in_rapidpro = 1 AND q.question_type = ?`,
			side.q, org.ID, QuestionNumeric).Scan(side.poll)
		if err == sql.ErrNoRows {
			fe.add(InvalidField(side.f, "Choose a numeric question."))
		} else if err != nil {
			return err
		}
	}
	if in.BaselineQuestionID != 0 && in.BaselineQuestionID == in.FollowUpQuestionID {
		fe.add(InvalidField("follow_up_question", "The follow-up question must differ from the baseline question."))
	}
	in.contactRegions = map[int64]int64{}
	switch {
	case len(in.Contacts) == 0:
		fe.add(InvalidField("contacts", "Choose at least one contact."))
	case len(in.Contacts) > MaxSpoofContacts:
		fe.add(InvalidField("contacts", "Choose at most 1000 contacts."))
	default:
		var err error
		in.contactRegions, err = contactPanels(ctx, db, in.Contacts, `c.org_id = ? AND r.is_active = 1 AND `+panelScope(scope, "c.region_id"), org.ID)
		if err != nil {
			return err
		}
		for _, id := range in.Contacts {
			if _, ok := in.contactRegions[id]; !ok {
				fe.add(InvalidField("contacts", "Choose contacts of your panels."))
				break
			}
		}
	}
	return fe.err()
}

// spoofValue draws a random whole number in [lo, hi) — hi itself only when
// lo = hi (SPEC §3.6, like Python's randrange).
func spoofValue(r *mrand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo)
}

// CreateSpoofData makes the spoofed poll runs of SPEC §3.6 in one
// transaction: one for the baseline question's poll on the start date and
// one per day, start to end inclusive, for the follow-up question's poll;
// each with a complete response per contact answering the question with a
// random whole number in its range. The counters follow in the same
// transaction. r is the random source (nil = seeded randomly); createdBy 0 =
// nobody.
func (db *DB) CreateSpoofData(ctx context.Context, org *Org, scope *Scope, in SpoofInput, r *mrand.Rand, createdBy int64) (SpoofResult, error) {
	var res SpoofResult
	if err := db.validateSpoof(ctx, org, scope, &in); err != nil {
		return res, err
	}
	if r == nil {
		var seed [32]byte
		if _, err := rand.Read(seed[:]); err != nil {
			return res, err
		}
		r = mrand.New(mrand.NewChaCha8(seed))
	}
	var creator any
	if createdBy != 0 {
		creator = createdBy
	}
	type run struct {
		poll, question int64
		day            time.Time
		lo, hi         int
	}
	runs := []run{{in.baselinePoll, in.BaselineQuestionID, in.start, in.baselineLo, in.baselineHi}}
	for d := in.start; !d.After(in.end); d = d.AddDate(0, 0, 1) {
		runs = append(runs, run{in.followUpPoll, in.FollowUpQuestionID, d, in.followUpLo, in.followUpHi})
	}
	// Each contact once, even if listed twice.
	var contacts []int64
	seen := map[int64]bool{}
	for _, id := range in.Contacts {
		if !seen[id] {
			seen[id] = true
			contacts = append(contacts, id)
		}
	}
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		res = SpoofResult{}
		// The contacts' state inside the transaction decides what is counted.
		counted, err := contactPanels(ctx, tx, contacts, "1")
		if err != nil {
			return err
		}
		d := newCounterDelta()
		for _, rn := range runs {
			at := Ms(rn.day)
			var pr int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, conducted_on, local_date, created_by)
				VALUES (?, ?, 's', ?, ?, ?) RETURNING id`, org.ID, rn.poll, at, rn.day.Format("2006-01-02"), creator).Scan(&pr); err != nil {
				return err
			}
			res.Pollruns++
			for _, c := range contacts {
				var resp int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO responses (org_id, pollrun_id, contact_id, run_uuid, created_on, updated_on, modified_on, status, is_active)
					VALUES (?, ?, ?, ?, ?, ?, ?, 'C', 1) RETURNING id`, org.ID, pr, c, spoofUUID(), at, at, at).Scan(&resp); err != nil {
					return err
				}
				v := strconv.Itoa(spoofValue(r, rn.lo, rn.hi))
				if _, err := tx.ExecContext(ctx, `INSERT INTO answers (response_id, question_id, value, category, submitted_on, local_date, last_value, sum_value)
					VALUES (?, ?, ?, NULL, ?, ?, ?, ?)`, resp, rn.question, v, at, rn.day.Format("2006-01-02"), v, v); err != nil {
					return err
				}
				res.Responses++
				if region, ok := counted[c]; ok { // an active response of an active contact, under its panel
					d.response(pr, region, StatusComplete, 1)
					d.answer(counterKey{pr, rn.question, region, ""}, v, v, 1)
				}
			}
		}
		return d.flush(ctx, tx)
	})
	return res, err
}

// spoofUUID is a random run uuid marked as spoofed (never a RapidPro run).
func spoofUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "spoof-" + hex.EncodeToString(b[:])
}

// ClearSpoofData deletes every spoofed poll run of the org with its
// responses, answers and counters, in one transaction, and returns how many
// poll runs went. The answers go first (their counters are the poll runs'
// own rows, deleted with them); deleting the responses runs the cohort
// counter triggers, whose rows of these poll runs are then deleted too.
// Counters of other poll runs are untouched, so they stay exact.
func (db *DB) ClearSpoofData(ctx context.Context, orgID int64) (int, error) {
	n := 0
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		ids, err := queryIDs(ctx, tx, `SELECT id FROM pollruns WHERE org_id = ? AND pollrun_type = 's'`, orgID)
		if err != nil {
			return err
		}
		n = len(ids)
		return inChunks(ids, func(args []any) error {
			in := `(` + inPlaceholders(len(args)) + `)`
			for _, q := range []string{
				`DELETE FROM answers WHERE response_id IN (SELECT id FROM responses WHERE pollrun_id IN ` + in + `)`,
				`DELETE FROM responses WHERE pollrun_id IN ` + in,
				`DELETE FROM answer_counters WHERE pollrun_id IN ` + in,
				`DELETE FROM response_counters WHERE pollrun_id IN ` + in,
				`DELETE FROM cohort_counters WHERE pollrun_id IN ` + in,
				`DELETE FROM pollruns WHERE pollrun_type = 's' AND id IN ` + in,
			} {
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return n, err
}

// CountSpoofed is how many spoofed poll runs the org has.
func (db *DB) CountSpoofed(ctx context.Context, orgID int64) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM pollruns WHERE org_id = ? AND pollrun_type = 's'`, orgID).Scan(&n)
	return n, err
}

// contactPanels maps the active contacts among ids that also meet cond (SQL
// over contacts c and their panel r, with args) to their panel (0 = none).
func contactPanels(ctx context.Context, q queryer, ids []int64, cond string, args ...any) (map[int64]int64, error) {
	out := map[int64]int64{}
	err := inChunks(ids, func(chunk []any) error {
		rows, err := q.QueryContext(ctx, `SELECT c.id, coalesce(c.region_id, 0) FROM contacts c LEFT JOIN regions r ON r.id = c.region_id
			WHERE c.is_active = 1 AND `+cond+` AND c.id IN (`+inPlaceholders(len(chunk))+`)`, append(append([]any{}, args...), chunk...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, region int64
			if err := rows.Scan(&id, &region); err != nil {
				return err
			}
			out[id] = region
		}
		return rows.Err()
	})
	return out, err
}

package models

import (
	"context"
	"database/sql"
	"strconv"
	"time"
)

// FlowStartBatch is the most contacts one RapidPro flow start may name
// (RAPIDPRO.md §4.10; the original crashed past it, SPEC §8).
const FlowStartBatch = 100

// OutboxFlowStart is the outbox kind of a flow start batch.
const OutboxFlowStart = "flow_start"

// Flow start states (flow_starts.status): pending until the outbox worker
// delivered it; started once RapidPro answered with its UUID; failed when
// RapidPro refused it; unknown when the request may or may not have worked.
const (
	FlowStartPending = "pending"
	FlowStartStarted = "started"
	FlowStartFailed  = "failed"
	FlowStartUnknown = "unknown"
)

// FlowStartPayload is the outbox payload of a flow start batch.
type FlowStartPayload struct {
	Flow      string   `json:"flow"`
	Pollrun   int64    `json:"pollrun"`
	FlowStart int64    `json:"flow_start"`
	Contacts  []string `json:"contacts"`
}

// PollStart is the input of StartPoll: who starts which poll for which panel.
type PollStart struct {
	Org       *Org
	Scope     *Scope // the starter's scope; the panel must be accessible in it
	PollID    int64
	RegionID  int64
	Propagate bool // also the panel's sub-panels (a propagated poll run)
	UserID    int64
	Now       time.Time // zero = now
}

// StartResult is what a start or restart queued.
type StartResult struct {
	PollrunID int64
	Contacts  int
	Batches   int
}

// pollrunOrdering is the outbox ordering key of a poll run's flow starts.
func pollrunOrdering(id int64) string { return "pollrun:" + strconv.FormatInt(id, 10) }

// StartPoll creates a regional (or, with Propagate, propagated) poll run of
// the poll for the panel and queues, in the same transaction, its flow
// starts: one outbox row and one flow_starts row per batch of 100 active
// contacts of the panel (or of its sub-tree). The outbox worker delivers them.
func (db *DB) StartPoll(ctx context.Context, in PollStart) (*StartResult, error) {
	if in.Org == nil || in.Scope == nil {
		return nil, Invalid("no org or scope")
	}
	if in.RegionID == 0 {
		return nil, &Error{Code: CodeInvalid, Field: "region", Message: "Choose a panel first."}
	}
	if !in.Scope.CanAccess(in.RegionID) {
		return nil, &Error{Code: CodeForbidden, Field: "region", Message: "You cannot start polls for this panel."}
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	panels := []int64{in.RegionID}
	typ := "r"
	if in.Propagate {
		typ = "p"
		panels = in.Scope.Tree.Descendants(in.RegionID)
	}
	var res StartResult
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var flow string
		err := tx.QueryRowContext(ctx, `SELECT flow_uuid FROM polls WHERE id = ? AND org_id = ? AND is_active = 1 AND in_rapidpro = 1`,
			in.PollID, in.Org.ID).Scan(&flow)
		if err == sql.ErrNoRows {
			return InvalidField("poll", "Choose one of the polls.")
		}
		if err != nil {
			return err
		}
		uuids, err := startContacts(ctx, tx, in.Org.ID, panels, 0)
		if err != nil {
			return err
		}
		if len(uuids) == 0 {
			return InvalidField("poll", "This panel has no active contacts to start.")
		}
		now := Ms(in.Now)
		if err := tx.QueryRowContext(ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.Org.ID, in.PollID, typ, in.RegionID, now, in.Org.LocalDate(in.Now), nullID(in.UserID)).Scan(&res.PollrunID); err != nil {
			return err
		}
		res.Contacts = len(uuids)
		res.Batches, err = queueFlowStarts(ctx, tx, in.Org.ID, res.PollrunID, flow, uuids, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// startContacts returns the UUIDs of the active contacts of the panels, by
// id; with pollrunID set, only those without a complete active response in
// that poll run (the non-respondents).
func startContacts(ctx context.Context, q querier, orgID int64, panels []int64, pollrunID int64) ([]string, error) {
	query := `SELECT c.uuid FROM contacts c WHERE c.org_id = ? AND c.is_active = 1 AND c.region_id IN (` + idList(panels) + `)`
	args := []any{orgID}
	if pollrunID != 0 {
		query += ` AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.pollrun_id = ? AND r.contact_id = c.id AND r.is_active = 1 AND r.status = 'C')`
		args = append(args, pollrunID)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// queueFlowStarts writes one flow_starts row and one outbox row per batch of
// contacts and returns the number of batches.
func queueFlowStarts(ctx context.Context, tx *sql.Tx, orgID, pollrunID int64, flow string, uuids []string, now int64) (int, error) {
	n := 0
	for i := 0; i < len(uuids); i += FlowStartBatch {
		batch := uuids[i:min(i+FlowStartBatch, len(uuids))]
		var fsID int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO flow_starts (org_id, pollrun_id, contacts, status, created_at, updated_at)
			VALUES (?, ?, ?, 'pending', ?, ?) RETURNING id`, orgID, pollrunID, len(batch), now, now).Scan(&fsID); err != nil {
			return 0, err
		}
		p := FlowStartPayload{Flow: flow, Pollrun: pollrunID, FlowStart: fsID, Contacts: batch}
		if _, err := enqueueOutbox(ctx, tx, orgID, OutboxFlowStart, pollrunOrdering(pollrunID), p, now); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// startPollrun is a regional or propagated poll run as start and restart see it.
type startPollrun struct {
	id, pollID, regionID int64
	typ, flow            string
	pollActive           bool
}

func loadStartPollrun(ctx context.Context, q querier, orgID, id int64) (*startPollrun, error) {
	var p startPollrun
	var region sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT pr.id, pr.poll_id, pr.region_id, pr.pollrun_type, p.flow_uuid, p.is_active AND p.in_rapidpro
		FROM pollruns pr JOIN polls p ON p.id = pr.poll_id WHERE pr.id = ? AND pr.org_id = ?`, id, orgID).
		Scan(&p.id, &p.pollID, &region, &p.typ, &p.flow, &p.pollActive)
	if err == sql.ErrNoRows {
		return nil, NotFound("no such poll run")
	}
	p.regionID = region.Int64
	return &p, err
}

// LatestStartedPollrun returns the newest regional or propagated poll run
// sent to a panel (0 when none).
func (db *DB) LatestStartedPollrun(ctx context.Context, orgID, regionID int64) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, `SELECT id FROM pollruns WHERE org_id = ? AND region_id = ? AND pollrun_type IN ('r', 'p')
		ORDER BY conducted_on DESC, id DESC LIMIT 1`, orgID, regionID).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// RestartNonRespondents starts the poll again for the contacts of a poll run
// whose response is not complete (or who have none), through the outbox,
// as new flow starts of the same poll run. Only the latest regional or
// propagated poll run of the selected panel may be restarted (SPEC §4.4).
func (db *DB) RestartNonRespondents(ctx context.Context, org *Org, scope *Scope, pollrunID int64) (*StartResult, error) {
	res := StartResult{PollrunID: pollrunID}
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		pr, err := loadStartPollrun(ctx, tx, org.ID, pollrunID)
		if err != nil {
			return err
		}
		if pr.typ != "r" && pr.typ != "p" {
			return InvalidField("pollrun", "Only a poll run started for a panel can be restarted.")
		}
		if scope.Selected == 0 || pr.regionID != scope.Selected {
			return InvalidField("pollrun", "Select the panel of this poll run to restart it.")
		}
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM pollruns WHERE org_id = ? AND region_id = ? AND pollrun_type IN ('r', 'p')
			ORDER BY conducted_on DESC, id DESC LIMIT 1`, org.ID, pr.regionID).Scan(&latest); err != nil {
			return err
		}
		if latest != pr.id {
			return InvalidField("pollrun", "Only the latest poll run of the panel can be restarted.")
		}
		if !pr.pollActive {
			return InvalidField("pollrun", "This poll is no longer tracked.")
		}
		panels := []int64{pr.regionID}
		if pr.typ == "p" {
			panels = scope.Tree.Descendants(pr.regionID)
		}
		uuids, err := startContacts(ctx, tx, org.ID, panels, pr.id)
		if err != nil {
			return err
		}
		if len(uuids) == 0 {
			return InvalidField("pollrun", "Everyone has completed this poll run: there is nobody to restart.")
		}
		res.Contacts = len(uuids)
		res.Batches, err = queueFlowStarts(ctx, tx, org.ID, pr.id, pr.flow, uuids, NowMs())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// MarkFlowStartStarted records a delivered batch: the outbox row is sent and
// the flow start gets RapidPro's start UUID, so that the runs it creates are
// linked to its poll run when they are pulled (see RunIngester.ApplyPage).
// msg says how it was found when it was not the answer to the request.
func (db *DB) MarkFlowStartStarted(ctx context.Context, outboxID, flowStartID int64, startUUID, msg string) error {
	return db.SettleOutbox(ctx, outboxID, OutboxSent, startUUID, msg, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE flow_starts SET uuid = ?, status = 'started', updated_at = ? WHERE id = ?`, startUUID, NowMs(), flowStartID)
		return err
	})
}

// MarkFlowStartOutcome records a batch that failed (RapidPro refused it) or
// whose outcome is unknown (it may have started: never resent blindly).
func (db *DB) MarkFlowStartOutcome(ctx context.Context, outboxID, flowStartID int64, state, msg string) error {
	fsState := FlowStartFailed
	if state == OutboxUnknown {
		fsState = FlowStartUnknown
	}
	return db.SettleOutbox(ctx, outboxID, state, "", msg, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE flow_starts SET status = ?, updated_at = ? WHERE id = ?`, fsState, NowMs(), flowStartID)
		return err
	})
}

// StartProblem is a batch that needs a look: failed or of unknown outcome.
type StartProblem struct {
	Batch    int // 1-based, in creation order
	State    string
	Contacts int
	Message  string
	At       int64
}

// StartProgress is the progress of the flow starts of a poll run.
type StartProgress struct {
	PollrunID   int64
	PollID      int64
	PollName    string
	Type        string
	RegionID    int64
	RegionName  string
	ConductedOn int64

	Pending, Started, Failed, Unknown int // batches per state
	Contacts                          int // in all batches
	ContactsStarted                   int // in started batches
	Runs                              int // responses that arrived in the poll run (in scope)
	Problems                          []StartProblem
	// Latest reports the latest regional/propagated poll run of its panel
	// (the only one that can be restarted); NonRespondents counts the
	// contacts a restart would start again.
	Latest         bool
	NonRespondents int
}

// Batches is the number of flow start batches.
func (p *StartProgress) Batches() int { return p.Pending + p.Started + p.Failed + p.Unknown }

// PollStartProgress reads the progress of a poll run's flow starts, for a
// poll run visible in the scope (NotFound otherwise).
func (db *DB) PollStartProgress(ctx context.Context, scope *Scope, pollrunID int64) (*StartProgress, error) {
	p := StartProgress{PollrunID: pollrunID}
	var region sql.NullInt64
	var name sql.NullString
	err := db.QueryRowContext(ctx, `SELECT pr.poll_id, coalesce(nullif(p.name, ''), p.rapidpro_name), pr.pollrun_type, pr.region_id, r.name, pr.conducted_on
		FROM pollruns pr JOIN polls p ON p.id = pr.poll_id LEFT JOIN regions r ON r.id = pr.region_id
		WHERE pr.id = ? AND pr.org_id = ? AND `+scope.PollrunFilter("pr"), pollrunID, scope.OrgID).
		Scan(&p.PollID, &p.PollName, &p.Type, &region, &name, &p.ConductedOn)
	if err == sql.ErrNoRows {
		return nil, NotFound("no such poll run")
	}
	if err != nil {
		return nil, err
	}
	p.RegionID, p.RegionName = region.Int64, name.String
	rows, err := db.QueryContext(ctx, `SELECT fs.status, fs.contacts, fs.updated_at, coalesce((SELECT o.last_error FROM outbox o
			WHERE o.org_id = fs.org_id AND o.ordering_key = ? AND json_extract(o.payload, '$.flow_start') = fs.id), '')
		FROM flow_starts fs WHERE fs.pollrun_id = ? ORDER BY fs.id`, pollrunOrdering(pollrunID), pollrunID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	batch := 0
	for rows.Next() {
		var st, msg string
		var n int
		var at int64
		if err := rows.Scan(&st, &n, &at, &msg); err != nil {
			return nil, err
		}
		batch++
		p.Contacts += n
		switch st {
		case FlowStartPending:
			p.Pending++
		case FlowStartStarted:
			p.Started++
			p.ContactsStarted += n
		case FlowStartFailed:
			p.Failed++
		default:
			p.Unknown++
		}
		if st == FlowStartFailed || st == FlowStartUnknown {
			p.Problems = append(p.Problems, StartProblem{Batch: batch, State: st, Contacts: n, Message: msg, At: at})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM responses r JOIN contacts c ON c.id = r.contact_id
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND `+scope.PanelFilter("c.region_id"), pollrunID).Scan(&p.Runs); err != nil {
		return nil, err
	}
	if (p.Type == "r" || p.Type == "p") && p.RegionID != 0 {
		latest, err := db.LatestStartedPollrun(ctx, scope.OrgID, p.RegionID)
		if err != nil {
			return nil, err
		}
		p.Latest = latest == pollrunID
		if p.Latest {
			panels := []int64{p.RegionID}
			if p.Type == "p" {
				panels = scope.Tree.Descendants(p.RegionID)
			}
			uuids, err := startContacts(ctx, db.DB, scope.OrgID, panels, pollrunID)
			if err != nil {
				return nil, err
			}
			p.NonRespondents = len(uuids)
		}
	}
	return &p, nil
}

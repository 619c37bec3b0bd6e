package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
)

// OutboxInterval is how often the scheduler delivers due outbox rows.
const OutboxInterval = 5 * time.Second

// outboxBatch bounds the rows one delivery pass handles.
const outboxBatch = 200

// OutboxResult counts what one delivery pass did.
type OutboxResult struct {
	Sent, Retried, Failed, Unknown int
}

// PushClient returns a RapidPro client for writes of org: metered against
// the org's hourly budget with the push reserve (Meter.Allow with push), and
// never retrying by itself — one attempt per call, so a 429 comes back at
// once for the outbox to reschedule and a POST is never repeated.
func (s *Syncer) PushClient(org *models.Org) *rapidpro.Client {
	o := s.options(org.RapidProURL, org.APIToken, org.ID, true, nil)
	o.MaxAttempts = 1
	return rapidpro.New(o)
}

// outboxBackoff is the delay before retry n (1-based) of a write that did
// not reach RapidPro: 30 s doubling, capped at BackoffMax.
func (s *Syncer) outboxBackoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < s.Cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, s.Cfg.BackoffMax)
}

// DeliverOutbox sends the due outbox rows (flow starts, broadcasts; contact
// pushes, see outbox_contacts.go for their rules), oldest first and in
// id order per ordering key, and records each outcome (DESIGN.md §2):
//   - 201: sent; the flow start gets RapidPro's start UUID;
//   - 429 (nothing was written): pending again after Retry-After;
//   - 5xx or a timeout after the request left: unknown — kept for review,
//     never resent;
//   - 400 and other refusals: failed, with RapidPro's message;
//   - a refused connection, the hourly budget, a token error (nothing sent):
//     pending again after a back-off.
//
// A row found still claimed from an earlier pass was interrupted mid-request
// (the process stopped); such a row, and every row pending in a database
// found restored or copied, is uncertain: it is reconciled with what RapidPro
// lists before anything is sent again (outbox_reconcile.go).
func (s *Syncer) DeliverOutbox(ctx context.Context) (OutboxResult, error) {
	var res OutboxResult
	d := &delivery{clients: map[int64]*rapidpro.Client{}, held: map[int64]bool{}}
	defer func() {
		if err := s.Meter.Flush(context.WithoutCancel(ctx)); err != nil {
			s.log.Warn("api usage flush failed", "err", err)
		}
	}()
	// A row waits for the earlier pending rows of its key, so each round
	// reads the rows that became due by the previous one; it stops when a
	// round handles nothing.
	for round := 0; round < 100; round++ {
		items, err := s.DB.DueOutbox(ctx, append([]string{models.OutboxFlowStart, models.OutboxBroadcast}, models.ContactPushKinds...), models.NowMs(), outboxBatch)
		if err != nil {
			return res, err
		}
		handled, err := s.deliverRound(ctx, d, items, &res)
		if err != nil || handled == 0 {
			if res != (OutboxResult{}) {
				s.log.Info("outbox", "sent", res.Sent, "retried", res.Retried, "failed", res.Failed, "unknown", res.Unknown)
			}
			return res, err
		}
	}
	return res, nil
}

// delivery is the state of one DeliverOutbox pass.
type delivery struct {
	clients map[int64]*rapidpro.Client
	held    map[int64]bool            // orgs throttled or unreachable in this pass
	remote  map[remoteKey]*remoteList // RapidPro's lists read to reconcile uncertain rows
}

// deliverRound handles one batch of due rows and returns how many it handled.
func (s *Syncer) deliverRound(ctx context.Context, d *delivery, items []models.OutboxItem, res *OutboxResult) (int, error) {
	handled := 0
	for _, it := range items {
		if ctx.Err() != nil {
			return handled, ctx.Err()
		}
		if d.held[it.OrgID] {
			continue
		}
		if it.Interrupted() || it.VerifySince > 0 {
			// outbox_reconcile.go: never resent before RapidPro is read.
			ready, err := s.prepareUncertain(ctx, &it)
			if err != nil {
				return handled, err
			}
			if !ready {
				continue
			}
		}
		deliver := s.deliverFlowStartRow
		switch {
		case it.Kind == models.OutboxBroadcast:
			deliver = s.deliverBroadcastRow // jobs/outbox_messages.go
		case isContactPush(it.Kind):
			deliver = s.deliverContactPush // jobs/outbox_contacts.go
		}
		ok, err := deliver(ctx, d, &it, res)
		if err != nil {
			return handled, err
		}
		if ok {
			handled++
		}
	}
	return handled, nil
}

// pushClient returns the push client of an org for this pass, or nil when the
// org is held (inactive, or without a token): its rows wait.
func (s *Syncer) pushClient(ctx context.Context, d *delivery, orgID int64) (*rapidpro.Client, error) {
	if c := d.clients[orgID]; c != nil {
		return c, nil
	}
	org, err := s.DB.OrgByID(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if !org.IsActive || org.APIToken == "" {
		d.held[orgID] = true
		return nil, nil
	}
	d.clients[orgID] = s.PushClient(org)
	return d.clients[orgID], nil
}

// tally counts a delivered row's new state; a row still pending (throttled,
// unreachable, over budget) holds its org for the rest of the pass.
func (d *delivery) tally(res *OutboxResult, orgID int64, state string) {
	switch state {
	case models.OutboxSent:
		res.Sent++
	case models.OutboxFailed:
		res.Failed++
	case models.OutboxUnknown:
		res.Unknown++
	default:
		res.Retried++
		d.held[orgID] = true
	}
}

// deliverFlowStartRow handles one due flow start row of a delivery pass and
// counts its outcome. It reports whether the row was handled.
func (s *Syncer) deliverFlowStartRow(ctx context.Context, d *delivery, it *models.OutboxItem, res *OutboxResult) (bool, error) {
	var p models.FlowStartPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.Flow == "" || len(p.Contacts) == 0 {
		res.Failed++
		return true, s.DB.MarkFlowStartOutcome(ctx, it.ID, p.FlowStart, models.OutboxFailed, "invalid payload")
	}
	client, err := s.pushClient(ctx, d, it.OrgID)
	if client == nil {
		return false, err
	}
	outcome := ""
	if it.VerifySince > 0 {
		if outcome, err = s.reconcileFlowStart(ctx, d, client, it, &p); err != nil {
			return false, err
		}
	}
	if outcome == "" {
		outcome, err = s.deliverFlowStart(ctx, client, it, &p)
	}
	if err != nil {
		return false, err
	}
	d.tally(res, it.OrgID, outcome)
	return true, nil
}

// deliverFlowStart sends one flow start batch and records the outcome; it
// returns the row's new state.
func (s *Syncer) deliverFlowStart(ctx context.Context, client *rapidpro.Client, it *models.OutboxItem, p *models.FlowStartPayload) (string, error) {
	ok, err := s.DB.ClaimOutbox(ctx, it.ID, models.NowMs())
	if err != nil || !ok {
		return models.OutboxPending, err
	}
	restart := true
	w := rapidpro.FlowStartWrite{Flow: p.Flow, Contacts: p.Contacts, RestartParticipants: &restart}
	if it.UID != "" {
		// The key that finds this start in flow_starts.json if its outcome
		// is ever uncertain; under both names, for servers before params.
		key := map[string]any{models.OutboxKeyParam: it.UID}
		w.Params, w.Extra = key, key
	}
	fs, err := client.StartFlow(ctx, w)
	// Record the outcome even when ctx was cancelled during the request.
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil && fs.UUID != "":
		return models.OutboxSent, s.DB.MarkFlowStartStarted(bg, it.ID, p.FlowStart, fs.UUID, "")
	case err == nil:
		return models.OutboxUnknown, s.DB.MarkFlowStartOutcome(bg, it.ID, p.FlowStart, models.OutboxUnknown, "RapidPro answered without a start UUID")
	case errors.Is(err, rapidpro.ErrOutcomeUnknown):
		// Checked before ErrUnavailable: a 5xx or a timeout after the
		// request left may have started the contacts.
		return models.OutboxUnknown, s.DB.MarkFlowStartOutcome(bg, it.ID, p.FlowStart, models.OutboxUnknown, err.Error())
	}
	if later, rerr := s.retryLater(bg, ctx, it, err); later {
		return models.OutboxPending, rerr
	}
	return models.OutboxFailed, s.DB.MarkFlowStartOutcome(bg, it.ID, p.FlowStart, models.OutboxFailed, rapidProMessage(err))
}

// retryLater puts a row RapidPro did not act on back to pending, to be
// tried again: after Retry-After (or a back-off) when throttled (429), at
// the next hour when the hourly request budget is spent, after a back-off
// when nothing was sent (a refused connection, a rejected token, shutdown
// before the request). It reports false, writing nothing, for any other
// error. Every push kind (flow starts, broadcasts, contacts) shares it;
// callers settle an uncertain outcome (ErrOutcomeUnknown) first.
func (s *Syncer) retryLater(bg, ctx context.Context, it *models.OutboxItem, err error) (bool, error) {
	var rl *rapidpro.RateLimitError
	var at int64
	switch {
	case errors.As(err, &rl):
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = s.outboxBackoff(it.Attempts + 1)
		}
		at = models.NowMs() + wait.Milliseconds()
	case errors.Is(err, ErrBudget):
		at = time.Now().Truncate(time.Hour).Add(time.Hour).UnixMilli()
	case errors.Is(err, rapidpro.ErrUnavailable), errors.Is(err, rapidpro.ErrToken), ctx.Err() != nil:
		at = models.NowMs() + s.outboxBackoff(it.Attempts+1).Milliseconds()
	default:
		return false, nil
	}
	return true, s.DB.RetryOutbox(bg, it.ID, at, err.Error())
}

// rapidProMessage is the user-facing part of a refusal: RapidPro's own
// messages when it gave some.
func rapidProMessage(err error) string {
	var ae *rapidpro.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	var parts []string
	if ae.Detail != "" {
		parts = append(parts, ae.Detail)
	}
	parts = append(parts, ae.NonField...)
	keys := make([]string, 0, len(ae.Fields))
	for k := range ae.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(ae.Fields[k], " "))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d", ae.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", ae.Status, strings.Join(parts, "; "))
}

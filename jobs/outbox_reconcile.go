package jobs

import (
	"context"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
)

// Uncertain pushes (issue #13): a row that may have reached RapidPro without
// TracPro knowing — claimed by a process that stopped mid-request, or pending
// in a database found restored or copied at start (models.StartNode) — is
// never sent again until RapidPro has been read and shows it did not act:
//   - it waits first until its request, if one left, is over: the push
//     client's timeout after the moment it became uncertain;
//   - a flow start is looked for in flow_starts.json by the key it carries
//     in params/extra (its outbox uid): found → sent, with that start's
//     UUID; not there → started (this is then its only start). A flow start
//     queued before keys existed is matched on flow and contacts instead,
//     and one not found becomes unknown, for review;
//   - a broadcast carries no key: one RapidPro lists with the same text to
//     the same contacts since it was queued (and that no other row claims)
//     makes it sent; otherwise it becomes unknown — "needs review" on the
//     message log — never sent again automatically;
//   - contact creates, updates and deletes are read back (outbox_contacts.go).

// reconcileLookback is how far before a row's creation RapidPro's lists are
// read, for clocks that disagree.
const reconcileLookback = time.Hour

// uncertainSettle is how long after a row became uncertain it waits before
// RapidPro is read: the push client's request timeout, after which a request
// the stopped process sent has been answered or abandoned.
func (s *Syncer) uncertainSettle() time.Duration {
	if t := s.Cfg.ClientOptions.Timeout; t > 0 {
		return t
	}
	return 30 * time.Second
}

// prepareUncertain readies an uncertain row for its read-back: an
// interrupted claim becomes uncertain since its claim (and loses its
// "sending" mark), and a row whose request may still be in flight waits.
// It reports whether the row can be reconciled now.
func (s *Syncer) prepareUncertain(ctx context.Context, it *models.OutboxItem) (bool, error) {
	since, msg := it.VerifySince, "checked against RapidPro before it is sent: the database was restored or copied (or is older than this server), "+
		"and may lack the record of this push"
	if it.Interrupted() {
		msg = "interrupted while sending: checked against RapidPro before it is sent again"
		if since == 0 {
			since = it.UpdatedAt
		}
	}
	now := models.NowMs()
	until := since + s.uncertainSettle().Milliseconds()
	if it.Interrupted() || now < until {
		if err := s.DB.HoldUncertain(ctx, it.ID, since, max(now, until), msg); err != nil {
			return false, err
		}
		it.VerifySince, it.LastError = since, msg
	}
	return now >= until, nil
}

// remoteKey names a cached list: an org and an outbox kind.
type remoteKey struct {
	org  int64
	kind string
}

// remoteList is what RapidPro lists for an org since after (flow starts or
// broadcasts), with the keys already spoken for: recorded by a row as sent,
// or adopted by a row in this pass.
type remoteList struct {
	after  time.Time
	starts []rapidpro.FlowStart
	bcasts []rapidpro.Broadcast
	taken  map[string]bool
}

// remote returns RapidPro's flow starts or broadcasts of the row's org
// created (or modified) since the row was queued, read once per pass.
func (s *Syncer) remote(ctx context.Context, d *delivery, client *rapidpro.Client, it *models.OutboxItem) (*remoteList, error) {
	after := models.FromMs(it.CreatedAt).Add(-reconcileLookback)
	k := remoteKey{it.OrgID, it.Kind}
	if l := d.remote[k]; l != nil && !l.after.After(after) {
		return l, nil
	}
	l := &remoteList{after: after}
	var err error
	if it.Kind == models.OutboxFlowStart {
		err = client.FlowStarts(ctx, rapidpro.FlowStartQuery{After: after}, func(p rapidpro.Page[rapidpro.FlowStart]) error {
			l.starts = append(l.starts, p.Results...)
			return nil
		})
	} else {
		err = client.Broadcasts(ctx, rapidpro.BroadcastQuery{After: after}, func(p rapidpro.Page[rapidpro.Broadcast]) error {
			l.bcasts = append(l.bcasts, p.Results...)
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	if l.taken, err = s.DB.SentResults(ctx, it.OrgID, it.Kind, models.Ms(after)); err != nil {
		return nil, err
	}
	if d.remote == nil {
		d.remote = map[remoteKey]*remoteList{}
	}
	d.remote[k] = l
	return l, nil
}

// findStart returns RapidPro's start of an uncertain flow start row: the one
// carrying its uid in params, or (rows without a uid) the oldest start of
// the same flow and contacts made since it was queued that no row claims.
func (l *remoteList) findStart(it *models.OutboxItem, p *models.FlowStartPayload) *rapidpro.FlowStart {
	for i := len(l.starts) - 1; i >= 0; i-- { // oldest first
		fs := &l.starts[i]
		if it.UID != "" {
			if key, _ := fs.Params[models.OutboxKeyParam].(string); key == it.UID {
				return fs
			}
			continue
		}
		if !l.taken[fs.UUID] && fs.Flow.UUID == p.Flow && fs.CreatedOn.After(models.FromMs(it.CreatedAt).Add(-reconcileLookback)) &&
			sameSet(refUUIDs(fs.Contacts), p.Contacts) {
			return fs
		}
	}
	return nil
}

// findBroadcast returns the oldest broadcast RapidPro lists with the row's
// text to exactly its contacts, made since it was queued, that no row claims.
func (l *remoteList) findBroadcast(it *models.OutboxItem, p *models.BroadcastPayload) *rapidpro.Broadcast {
	for i := len(l.bcasts) - 1; i >= 0; i-- { // oldest first
		b := &l.bcasts[i]
		if l.taken[b.Key()] || b.CreatedOn.Before(models.FromMs(it.CreatedAt).Add(-reconcileLookback)) ||
			!sameSet(refUUIDs(b.Contacts), p.Contacts) {
			continue
		}
		for _, text := range b.Text {
			if text == p.Text {
				return b
			}
		}
	}
	return nil
}

func refUUIDs(refs []rapidpro.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.UUID
	}
	return out
}

// reconcileFlowStart settles an uncertain flow start from what RapidPro
// lists; it returns the row's new state, or "" when it must be sent (RapidPro
// has no start with its key).
func (s *Syncer) reconcileFlowStart(ctx context.Context, d *delivery, client *rapidpro.Client, it *models.OutboxItem, p *models.FlowStartPayload) (string, error) {
	l, err := s.remote(ctx, d, client, it)
	if err != nil {
		return s.reconcileError(ctx, it, err)
	}
	bg := context.WithoutCancel(ctx)
	if fs := l.findStart(it, p); fs != nil {
		l.taken[fs.UUID] = true
		return models.OutboxSent, s.DB.MarkFlowStartStarted(bg, it.ID, p.FlowStart, fs.UUID,
			"found in RapidPro after an uncertain attempt ("+fs.UUID+"): not started again")
	}
	if it.UID != "" {
		return "", nil
	}
	return models.OutboxUnknown, s.DB.MarkFlowStartOutcome(bg, it.ID, p.FlowStart, models.OutboxUnknown,
		"outcome unknown — needs review: this batch may have been sent before the server stopped or was restored, and it was queued "+
			"before TracPro marked its flow starts; RapidPro lists no start of this flow for exactly these contacts since. "+
			"Check the contacts' runs in RapidPro before starting them again.")
}

// reconcileBroadcast settles an uncertain broadcast from what RapidPro lists;
// it returns the row's new state. It never sends.
func (s *Syncer) reconcileBroadcast(ctx context.Context, d *delivery, client *rapidpro.Client, it *models.OutboxItem, p *models.BroadcastPayload) (string, error) {
	l, err := s.remote(ctx, d, client, it)
	if err != nil {
		return s.reconcileError(ctx, it, err)
	}
	bg := context.WithoutCancel(ctx)
	if b := l.findBroadcast(it, p); b != nil {
		l.taken[b.Key()] = true
		return models.OutboxSent, s.DB.MarkBroadcastSent(bg, it.ID, p.Batch, b.Key(),
			"found in RapidPro after an uncertain attempt (broadcast "+b.Key()+"): not sent again")
	}
	return models.OutboxUnknown, s.DB.MarkBroadcastOutcome(bg, it.ID, p.Batch, models.OutboxUnknown,
		"outcome unknown — needs review: this message may have been sent before the server stopped or was restored. "+
			"RapidPro lists no broadcast of this text to these contacts since, but a broadcast carries no mark TracPro could check: "+
			"look at the contacts' messages in RapidPro before sending it again.")
}

// reconcileError keeps an uncertain row pending (still uncertain) when
// RapidPro could not be read: after Retry-After, the budget's hour or a
// back-off.
func (s *Syncer) reconcileError(ctx context.Context, it *models.OutboxItem, err error) (string, error) {
	bg := context.WithoutCancel(ctx)
	if later, rerr := s.retryLater(bg, ctx, it, err); later {
		return models.OutboxPending, rerr
	}
	return models.OutboxPending, s.DB.RetryOutbox(bg, it.ID, models.NowMs()+s.outboxBackoff(it.Attempts+1).Milliseconds(),
		"RapidPro could not be read to check this push: "+err.Error())
}

package jobs

import (
	"context"
	"encoding/json"
	"errors"

	"tracpro/models"
	"tracpro/rapidpro"
)

// Broadcasts of messages (models/message.go): one outbox row per batch of at
// most 100 contacts, delivered like flow starts (deliverFlowStart): 201 →
// sent with RapidPro's broadcast id; 429 → pending again after Retry-After;
// 5xx or a timeout after the request left → unknown, shown for review and
// never resent; 400 → failed with RapidPro's message; nothing sent (a refused
// connection, the budget, a token error) → pending again after a back-off.
// An uncertain batch (interrupted, or pending in a restored database) is
// never sent: matched in RapidPro's broadcasts, or unknown (outbox_reconcile.go).

// deliverBroadcastRow handles one due broadcast row of a delivery pass and
// counts its outcome. It reports whether the row was handled.
func (s *Syncer) deliverBroadcastRow(ctx context.Context, d *delivery, it *models.OutboxItem, res *OutboxResult) (bool, error) {
	var p models.BroadcastPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.Batch == 0 || p.Text == "" || len(p.Contacts) == 0 {
		res.Failed++
		return true, s.DB.MarkBroadcastOutcome(ctx, it.ID, p.Batch, models.OutboxFailed, "invalid payload")
	}
	client, err := s.pushClient(ctx, d, it.OrgID)
	if client == nil {
		return false, err
	}
	var outcome string
	if it.VerifySince > 0 {
		outcome, err = s.reconcileBroadcast(ctx, d, client, it, &p)
	} else {
		outcome, err = s.deliverBroadcast(ctx, client, it, &p)
	}
	if err != nil {
		return false, err
	}
	d.tally(res, it.OrgID, outcome)
	return true, nil
}

// deliverBroadcast sends one broadcast batch and records the outcome; it
// returns the row's new state.
func (s *Syncer) deliverBroadcast(ctx context.Context, client *rapidpro.Client, it *models.OutboxItem, p *models.BroadcastPayload) (string, error) {
	ok, err := s.DB.ClaimOutbox(ctx, it.ID, models.NowMs())
	if err != nil || !ok {
		return models.OutboxPending, err
	}
	b, err := client.SendBroadcast(ctx, rapidpro.BroadcastWrite{Text: p.Text, Contacts: p.Contacts})
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil && b.Key() != "" && b.Key() != "0":
		return models.OutboxSent, s.DB.MarkBroadcastSent(bg, it.ID, p.Batch, b.Key(), "")
	case err == nil:
		return models.OutboxUnknown, s.DB.MarkBroadcastOutcome(bg, it.ID, p.Batch, models.OutboxUnknown, "RapidPro answered without a broadcast id")
	case errors.Is(err, rapidpro.ErrOutcomeUnknown):
		return models.OutboxUnknown, s.DB.MarkBroadcastOutcome(bg, it.ID, p.Batch, models.OutboxUnknown, err.Error())
	}
	if later, rerr := s.retryLater(bg, ctx, it, err); later {
		return models.OutboxPending, rerr
	}
	return models.OutboxFailed, s.DB.MarkBroadcastOutcome(bg, it.ID, p.Batch, models.OutboxFailed, rapidProMessage(err))
}

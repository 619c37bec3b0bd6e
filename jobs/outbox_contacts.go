package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"tracpro/models"
	"tracpro/rapidpro"
)

// Contact pushes (SPEC §4.4): creates, updates and deletes made in TracPro,
// delivered in order per contact (ordering key "contact:<id>").
//
// The rule for a request whose outcome is unknown (a 5xx or a timeout after
// a POST left, or a process stopped mid-request) — it is never resent
// blindly; the next attempt first reads RapidPro:
//   - a create reads the contact back by URN (contacts.json?urn=): when it
//     is there with the pushed name, it is adopted (its UUID replaces the
//     temporary one) and the create is sent; when another contact holds the
//     URN (taken while RapidPro could not be asked), the create fails with
//     that message rather than taking that contact over; only when the URN
//     is free is the POST made again;
//   - an update reads the contact by UUID: when RapidPro already holds the
//     pushed state, the push is sent without another POST; otherwise the
//     same full state is POSTed again, which is safe because it overwrites;
//   - a delete reads the contact by UUID: gone already → sent; otherwise
//     the DELETE is made (it is idempotent anyway: 404 = already gone).
//
// A push pending in a database found restored or copied (models.StartNode)
// is read back the same way, whether or not the restored row shows an
// attempt: the attempt may be among what the restore lost.
//
// So contact pushes end sent or failed (a refusal, with RapidPro's message),
// never unknown. 429 waits for Retry-After; 5xx, timeouts and refused
// connections back off (30 s doubling up to BackoffMax). An update of a
// contact whose create never reached RapidPro (it failed) is sent as a
// create; a delete of such a contact has nothing to delete. An update
// answered 404 (the contact was deleted in RapidPro) fails with that
// message rather than bringing the contact back.

// isContactPush reports whether an outbox kind is a contact push.
func isContactPush(kind string) bool { return slices.Contains(models.ContactPushKinds, kind) }

// deliverContactPush delivers one contact push of a delivery pass and
// counts its outcome; it reports whether the row was handled (false when its
// org is held: inactive, without a token).
func (s *Syncer) deliverContactPush(ctx context.Context, d *delivery, it *models.OutboxItem, res *OutboxResult) (bool, error) {
	client, err := s.pushClient(ctx, d, it.OrgID)
	if client == nil {
		return false, err
	}
	outcome, err := s.deliverContact(ctx, client, it)
	if err != nil {
		return false, err
	}
	d.tally(res, it.OrgID, outcome)
	return true, nil
}

// deliverContact sends one contact push and records the outcome; it returns
// the row's new state.
func (s *Syncer) deliverContact(ctx context.Context, client *rapidpro.Client, it *models.OutboxItem) (string, error) {
	bg := context.WithoutCancel(ctx)
	var p models.ContactPushPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.Contact == 0 {
		return models.OutboxFailed, s.DB.SettleOutbox(bg, it.ID, models.OutboxFailed, "", "invalid payload", nil)
	}
	target, err := s.DB.ContactPushTarget(ctx, it.OrgID, p.Contact)
	if models.ErrorCode(err) == models.CodeNotFound {
		return models.OutboxFailed, s.DB.SettleOutbox(bg, it.ID, models.OutboxFailed, "", "the contact no longer exists", nil)
	} else if err != nil {
		return "", err
	}
	// An earlier attempt that may have reached RapidPro, or a push pending
	// in a database found restored (its attempt may be lost): read back
	// first. (An interrupted claim was cleared by prepareUncertain.)
	verify := it.Attempts > 0 || it.VerifySince > 0
	ok, err := s.DB.ClaimOutbox(ctx, it.ID, models.NowMs())
	if err != nil || !ok {
		return models.OutboxPending, err
	}
	w := rapidpro.ContactWrite{Name: &p.Name, Language: &p.Language, URNs: p.URNs, Fields: p.Fields, Groups: p.Groups}
	if w.Groups == nil {
		w.Groups = []string{}
	}
	switch {
	case it.Kind == models.OutboxContactDelete:
		if target.LocalOnly {
			return models.OutboxSent, s.DB.SettleOutbox(bg, it.ID, models.OutboxSent, "", "never reached RapidPro: nothing to delete", nil)
		}
		if verify {
			current, err := s.contactByUUID(ctx, client, target.UUID)
			if err != nil {
				return s.contactPushError(bg, ctx, it, err)
			}
			if current == nil {
				return models.OutboxSent, s.DB.SettleOutbox(bg, it.ID, models.OutboxSent, target.UUID, "already deleted in RapidPro", nil)
			}
		}
		err := client.DeleteContact(ctx, target.UUID)
		if err == nil || errors.Is(err, rapidpro.ErrNotFound) {
			msg := ""
			if err != nil {
				msg = "already deleted in RapidPro"
			}
			return models.OutboxSent, s.DB.SettleOutbox(bg, it.ID, models.OutboxSent, target.UUID, msg, nil)
		}
		return s.contactPushError(bg, ctx, it, err)

	case it.Kind == models.OutboxContactCreate || target.LocalOnly:
		// A create, or an update of a contact whose create failed.
		if verify && len(p.URNs) > 0 {
			found, err := client.ContactByURN(ctx, p.URNs[0])
			if err != nil {
				return s.contactPushError(bg, ctx, it, err)
			}
			switch {
			case found != nil && found.Name == p.Name:
				return models.OutboxSent, s.DB.SettleContactCreated(bg, it.ID, it.OrgID, p.Contact, found.UUID, "found in RapidPro by URN after an uncertain attempt")
			case found != nil:
				// Not ours: someone else's contact holds the URN (the
				// form could not check it while RapidPro was unreachable).
				return models.OutboxFailed, s.DB.SettleOutbox(bg, it.ID, models.OutboxFailed, "",
					"This phone number or ID belongs to another contact in RapidPro.", nil)
			}
		}
		c, err := client.CreateContact(ctx, w)
		if err == nil && c.UUID != "" {
			return models.OutboxSent, s.DB.SettleContactCreated(bg, it.ID, it.OrgID, p.Contact, c.UUID, "")
		}
		if err == nil {
			err = errors.New("RapidPro answered without a contact UUID")
		}
		return s.contactPushError(bg, ctx, it, err)

	default:
		if verify {
			current, err := s.contactByUUID(ctx, client, target.UUID)
			if err != nil {
				return s.contactPushError(bg, ctx, it, err)
			}
			if current != nil && sameContactState(current, &p) {
				return models.OutboxSent, s.DB.SettleOutbox(bg, it.ID, models.OutboxSent, target.UUID, "RapidPro already had this state", nil)
			}
		}
		_, err := client.UpdateContact(ctx, target.UUID, w)
		if err == nil {
			return models.OutboxSent, s.DB.SettleOutbox(bg, it.ID, models.OutboxSent, target.UUID, "", nil)
		}
		return s.contactPushError(bg, ctx, it, err)
	}
}

// errStopPage ends a one-page read.
var errStopPage = errors.New("stop")

// contactByUUID reads a contact from RapidPro (nil when RapidPro has no
// live contact with that UUID: deleted, or never created).
func (s *Syncer) contactByUUID(ctx context.Context, client *rapidpro.Client, uuid string) (*rapidpro.Contact, error) {
	var current *rapidpro.Contact
	err := client.Contacts(ctx, rapidpro.ContactQuery{UUID: uuid}, func(pg rapidpro.Page[rapidpro.Contact]) error {
		if len(pg.Results) > 0 {
			current = &pg.Results[0]
		}
		return errStopPage
	})
	if err != nil && !errors.Is(err, errStopPage) {
		return nil, err
	}
	return current, nil
}

// contactPushError records a failed attempt: pending again after a wait when
// RapidPro may not have refused the push (throttled, unreachable, uncertain
// outcome — the next attempt reads back first), failed with RapidPro's
// message otherwise.
func (s *Syncer) contactPushError(bg, ctx context.Context, it *models.OutboxItem, err error) (string, error) {
	if errors.Is(err, rapidpro.ErrOutcomeUnknown) {
		return models.OutboxPending, s.DB.RetryOutbox(bg, it.ID, models.NowMs()+s.outboxBackoff(it.Attempts+1).Milliseconds(),
			err.Error()+" (RapidPro will be read back before any new attempt)")
	}
	if later, rerr := s.retryLater(bg, ctx, it, err); later {
		return models.OutboxPending, rerr
	}
	msg := rapidProMessage(err)
	if errors.Is(err, rapidpro.ErrNotFound) {
		msg = "The contact no longer exists in RapidPro. " + msg
	}
	return models.OutboxFailed, s.DB.SettleOutbox(bg, it.ID, models.OutboxFailed, "", msg, nil)
}

// sameContactState reports whether RapidPro's contact already holds the
// pushed state: name, language, URNs and groups equal, and each pushed field
// with the pushed value ("" = empty).
func sameContactState(c *rapidpro.Contact, p *models.ContactPushPayload) bool {
	if c.Name != p.Name || c.Language != p.Language {
		return false
	}
	if !sameSet(c.URNs, p.URNs) {
		return false
	}
	groups := make([]string, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = g.UUID
	}
	if !sameSet(groups, p.Groups) {
		return false
	}
	for k, v := range p.Fields {
		have := ""
		if c.Fields[k] != nil {
			have = *c.Fields[k]
		}
		if have != v {
			return false
		}
	}
	return true
}

// sameSet compares two string lists as sets.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

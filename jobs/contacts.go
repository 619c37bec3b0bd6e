package jobs

import (
	"context"

	"tracpro/models"
	"tracpro/rapidpro"
)

// contactRow converts a pulled contact.
func contactRow(c *rapidpro.Contact, deleted bool) models.ContactRow {
	r := models.ContactRow{UUID: c.UUID, Name: c.Name, Language: c.Language, URNs: c.URNs, Fields: c.Fields,
		Active: c.Active(), Deleted: deleted, ModifiedOn: c.ModifiedOn}
	for _, g := range c.Groups {
		r.Groups = append(r.Groups, g.UUID)
	}
	return r
}

// pullContacts pulls contacts incrementally by modified_on (oldest first, the
// cursor stored with each page), then the deleted=true pass over the same
// window. The first pull is a full pull; when it completes, active local
// contacts RapidPro no longer returned are deactivated.
func (s *Syncer) pullContacts(ctx context.Context, p *pull) error {
	st, err := s.DB.GetSyncState(ctx, p.org.ID, ResContacts, "")
	if err != nil {
		return err
	}
	resumed := st.InWindow()
	s.openWindow(&st, timeZero)
	full := st.Watermark == 0 && !resumed
	var seen map[string]bool
	if full {
		seen = map[string]bool{}
	}
	after, before := windowBounds(&st)
	var stats models.ContactStats
	apply := func(pg rapidpro.Page[rapidpro.Contact], deleted bool, state *models.SyncState) error {
		rows := make([]models.ContactRow, len(pg.Results))
		for i := range pg.Results {
			rows[i] = contactRow(&pg.Results[i], deleted)
			if seen != nil && !deleted {
				seen[pg.Results[i].UUID] = true
			}
		}
		p.res.Items += len(rows)
		if state != nil {
			state.Cursor = pg.Next
		}
		cs, err := s.DB.ApplyContacts(ctx, p.org, rows, state)
		stats.Add(cs)
		return err
	}
	err = p.client.Contacts(ctx, rapidpro.ContactQuery{After: after, Before: before, Reverse: true, Resume: st.Cursor},
		func(pg rapidpro.Page[rapidpro.Contact]) error { return apply(pg, false, &st) })
	if err == nil && !full {
		err = p.client.Contacts(ctx, rapidpro.ContactQuery{Deleted: true, After: after, Before: before, Reverse: true},
			func(pg rapidpro.Page[rapidpro.Contact]) error { return apply(pg, true, nil) })
	}
	p.res.Created, p.res.Updated = stats.Created, stats.Updated+stats.Deactivated
	p.res.skipContacts(stats)
	if err != nil {
		return s.handleWindowError(ctx, &st, err)
	}
	if full {
		n, err := s.DB.DeactivateContactsNotIn(ctx, p.org.ID, seen)
		if err != nil {
			return err
		}
		p.res.Updated += n
	}
	closeWindow(&st)
	return s.DB.SaveSyncState(ctx, &st)
}

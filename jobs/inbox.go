package jobs

import (
	"context"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
)

// inboxHistory is how far back the first inbox pull reads (SPEC §4.2: 7 days).
const inboxHistory = 7 * 24 * time.Hour

// pullInbox mirrors unsolicited incoming messages (folder inbox) and messages
// sent to contacts (folder sent), each incrementally by created_on, for
// contacts stored in this org.
func (s *Syncer) pullInbox(ctx context.Context, p *pull) error {
	for _, folder := range []string{"inbox", "sent"} {
		st, err := s.DB.GetSyncState(ctx, p.org.ID, ResInbox, folder)
		if err != nil {
			return err
		}
		s.openWindow(&st, s.Cfg.Now().Add(-inboxHistory))
		after, before := windowBounds(&st)
		err = p.client.Messages(ctx, rapidpro.MessageQuery{Folder: folder, After: after, Before: before, Resume: st.Cursor},
			func(pg rapidpro.Page[rapidpro.Message]) error {
				rows := make([]models.InboxRow, 0, len(pg.Results))
				for _, m := range pg.Results {
					rows = append(rows, models.InboxRow{ID: m.Key(), ContactUUID: m.Contact.UUID, Text: m.Text, Direction: m.Direction,
						Status: m.Status, CreatedOn: m.CreatedOn, SentOn: m.SentOn})
				}
				p.res.Items += len(rows)
				st.Cursor = pg.Next
				c, u, sk, err := s.DB.UpsertInbox(ctx, p.org.ID, rows, &st)
				p.res.Created += c
				p.res.Updated += u
				p.res.Skipped += sk
				return err
			})
		if err != nil {
			return s.handleWindowError(ctx, &st, err)
		}
		closeWindow(&st)
		if err := s.DB.SaveSyncState(ctx, &st); err != nil {
			return err
		}
	}
	return nil
}

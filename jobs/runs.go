package jobs

import (
	"context"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
)

var timeZero time.Time

// RunRow converts a pulled run (live API or archive).
func RunRow(r *rapidpro.Run) models.RunRow {
	row := models.RunRow{UUID: r.Key(), ID: r.ID, FlowUUID: r.Flow.UUID, ContactUUID: r.Contact.UUID, StartUUID: r.StartUUID,
		ExitType: r.ExitType, CreatedOn: r.CreatedOn, ModifiedOn: r.ModifiedOn}
	if len(r.Values) > 0 {
		row.Values = make([]models.RunValueRow, 0, len(r.Values))
		for k, v := range r.Values {
			row.Values = append(row.Values, models.RunValueRow{Key: k, Node: v.Node, Value: v.Value, Category: v.Category, Time: v.Time})
		}
	}
	return row
}

// runPager applies pages of runs to the database for one pull.
type runPager struct {
	s       *Syncer
	p       *pull
	ri      *models.RunIngester
	unknown map[string]bool   // contacts fetched and found untracked in this pull
	why     map[string]string // why each of unknown was not stored (skips.go)
	skipped map[string]int    // runs skipped for their contact, by reason
	stats   models.RunStats
}

func (s *Syncer) newRunPager(ctx context.Context, p *pull) (*runPager, error) {
	ri, err := s.DB.NewRunIngester(ctx, p.org)
	if err != nil {
		return nil, err
	}
	return &runPager{s: s, p: p, ri: ri, unknown: map[string]bool{}, why: map[string]string{}, skipped: map[string]int{}}, nil
}

// apply stores one page (and st, when non-nil, in the same transaction).
// Contacts of tracked runs that are not stored yet are fetched first (a
// contact created after the last contacts pull); those outside the tracked
// panels are remembered and their runs skipped.
func (rp *runPager) apply(ctx context.Context, runs []rapidpro.Run, st *models.SyncState) error {
	rows := make([]models.RunRow, len(runs))
	var contacts []string
	for i := range runs {
		rows[i] = RunRow(&runs[i])
		if rp.ri.Tracks(rows[i].FlowUUID) && !rp.unknown[rows[i].ContactUUID] {
			contacts = append(contacts, rows[i].ContactUUID)
		}
	}
	rp.p.res.Items += len(rows)
	missing, err := rp.ri.MissingContacts(ctx, contacts)
	if err != nil {
		return err
	}
	for _, uuid := range missing {
		var found []models.ContactRow
		err := rp.p.client.Contacts(ctx, rapidpro.ContactQuery{UUID: uuid}, func(pg rapidpro.Page[rapidpro.Contact]) error {
			for i := range pg.Results {
				found = append(found, contactRow(&pg.Results[i], false))
			}
			return nil
		})
		if err != nil {
			return err
		}
		cs, err := rp.s.DB.ApplyContacts(ctx, rp.p.org, found, nil)
		if err != nil {
			return err
		}
		if cs.Created == 0 {
			rp.unknown[uuid] = true
			rp.why[uuid] = contactSkipReason(cs, len(found) > 0)
		}
	}
	skipped := rp.contactSkips(rows)
	stats, err := rp.ri.ApplyPage(ctx, rows, st)
	rp.stats.Add(stats)
	if err == nil {
		for why, n := range skipped {
			rp.skipped[why] += n
		}
	}
	return err
}

// contactSkips counts, by reason, the runs of tracked flows in rows (each
// run once) whose contact is not stored: ApplyPage skips them.
func (rp *runPager) contactSkips(rows []models.RunRow) map[string]int {
	out := map[string]int{}
	seen := map[string]bool{}
	for i := range rows {
		r := &rows[i]
		if why := rp.why[r.ContactUUID]; why != "" && rp.ri.Tracks(r.FlowUUID) && !seen[r.UUID] {
			seen[r.UUID] = true
			out[why]++
		}
	}
	return out
}

func (rp *runPager) report() {
	rp.p.res.Created += rp.stats.Created
	rp.p.res.Updated += rp.stats.Updated
	rp.p.res.skip(SkipFlowUntrack, rp.stats.SkippedFlow)
	n := 0
	for why, k := range rp.skipped {
		rp.p.res.skip(why, k)
		n += k
	}
	// Runs skipped for a contact this pull did not look up.
	rp.p.res.skip(SkipUnknown, rp.stats.SkippedContact-n)
	rp.stats, rp.skipped = models.RunStats{}, map[string]int{}
}

// pullRuns pulls runs of every flow incrementally by modified_on, oldest first
// (reverse=true), storing the cursor in the same transaction as each page's
// rows; the watermark moves only when the window completes. It then continues
// any per-poll backfill (a poll tracked after the first pull).
func (s *Syncer) pullRuns(ctx context.Context, p *pull) error {
	rp, err := s.newRunPager(ctx, p)
	if err != nil {
		return err
	}
	defer rp.report()
	st, err := s.DB.GetSyncState(ctx, p.org.ID, ResRuns, "")
	if err != nil {
		return err
	}
	if err := s.runWindow(ctx, rp, &st, ""); err != nil {
		return err
	}
	return s.runBackfills(ctx, rp, nil)
}

// maxBatchPages bounds how many fetched pages one transaction may write.
const maxBatchPages = 4

// runWindow walks one window of runs (flow "" = all flows). Fetching (network
// and JSON decoding) runs ahead of writing by a few pages, so both cores work;
// pages already fetched when the writer is free go into one transaction, whose
// sync state carries the cursor after the last of them.
func (s *Syncer) runWindow(ctx context.Context, rp *runPager, st *models.SyncState, flow string) error {
	s.openWindow(st, timeZero)
	after, before := windowBounds(st)
	fetchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan rapidpro.Page[rapidpro.Run], maxBatchPages/2)
	var writeErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for pg := range pages {
			if writeErr != nil {
				continue // drain
			}
			runs, next := pg.Results, pg.Next
		batch:
			for i := 1; i < maxBatchPages; i++ {
				select {
				case more, ok := <-pages:
					if !ok {
						break batch
					}
					runs, next = append(runs, more.Results...), more.Next
				default:
					break batch
				}
			}
			st.Cursor = next
			if err := rp.apply(ctx, runs, st); err != nil {
				writeErr = err
				cancel()
			}
		}
	}()
	err := rp.p.client.Runs(fetchCtx, rapidpro.RunQuery{Flow: flow, After: after, Before: before, Reverse: true, Resume: st.Cursor},
		func(pg rapidpro.Page[rapidpro.Run]) error {
			select {
			case pages <- pg:
				return nil
			case <-fetchCtx.Done():
				return fetchCtx.Err()
			}
		})
	close(pages)
	<-done
	if writeErr != nil {
		err = writeErr
	}
	if err != nil {
		return s.handleWindowError(ctx, st, err)
	}
	closeWindow(st)
	if flow != "" {
		return s.DB.ResetSyncState(ctx, st.OrgID, ResRuns, flow) // backfill done
	}
	return s.DB.SaveSyncState(ctx, st)
}

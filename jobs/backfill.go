package jobs

import (
	"context"
	"fmt"

	"tracpro/models"
)

// ResBackfill is the resource name of the runs backfill task in sync_runs.
const ResBackfill = "backfill"

// QueueBackfills queues, for each poll, a read of its runs from the start of
// its history up to where the periodic runs pull has read or is reading (a
// runs sync state scoped to the poll's flow). It is for runs the runs pull
// skipped: those of a newly tracked poll (flow not tracked), and — for every
// tracked poll — those of the contacts of newly tracked panels (not in a
// tracked panel). A poll whose backfill was queued or under way starts
// again, as what it read may have skipped them too. The live API is read,
// as the first runs pull did; runs RapidPro archived before are reached by
// "Fetch past runs". Before the first runs pull nothing is queued (it reads
// everything). It returns how many polls were queued.
func (s *Syncer) QueueBackfills(ctx context.Context, org *models.Org, polls []models.Poll) (int, error) {
	main, err := s.DB.GetSyncState(ctx, org.ID, ResRuns, "")
	if err != nil {
		return 0, err
	}
	before := main.Watermark
	if main.InWindow() {
		before = main.WindowBefore
	}
	if before == 0 {
		return 0, nil
	}
	for _, pl := range polls {
		st := models.SyncState{OrgID: org.ID, Resource: ResRuns, Scope: pl.FlowUUID, WindowBefore: before}
		if err := s.DB.SaveSyncState(ctx, &st); err != nil {
			return 0, err
		}
	}
	return len(polls), nil
}

// PendingBackfills returns the flows whose runs backfill is queued or under way.
func (s *Syncer) PendingBackfills(ctx context.Context, orgID int64) ([]string, error) {
	states, err := s.DB.ListSyncStates(ctx, orgID, ResRuns)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range states {
		if b.Scope != "" && b.InWindow() {
			out = append(out, b.Scope)
		}
	}
	return out, nil
}

// contactsPulled reports whether the contacts pull has completed since the
// contacts were last reset (tracking panels or cohorts resets them).
func (s *Syncer) contactsPulled(ctx context.Context, orgID int64) (bool, error) {
	st, err := s.DB.GetSyncState(ctx, orgID, ResContacts, "")
	return st.Watermark != 0, err
}

// runBackfills reads the queued backfills, poll by poll, telling progress
// (when not nil) the polls done and queued and the runs read; the backfill of
// a poll no longer tracked is dropped. While the contacts pull after a
// tracking change has not completed it reads nothing: the runs of contacts
// not stored yet would each cost a request for their contact.
func (s *Syncer) runBackfills(ctx context.Context, rp *runPager, progress func(done, total, runs int)) error {
	if progress == nil {
		progress = func(int, int, int) {}
	}
	org := rp.p.org
	flows, err := s.PendingBackfills(ctx, org.ID)
	if err != nil || len(flows) == 0 {
		progress(0, 0, 0)
		return err
	}
	if ok, err := s.contactsPulled(ctx, org.ID); err != nil || !ok {
		s.log.Info("runs backfill waits for the contacts pull", "org", org.Subdomain, "polls", len(flows))
		return err
	}
	progress(0, len(flows), 0)
	for i, flow := range flows {
		st, err := s.DB.GetSyncState(ctx, org.ID, ResRuns, flow)
		if err != nil {
			return err
		}
		switch {
		case !rp.ri.Tracks(flow):
			if err := s.DB.ResetSyncState(ctx, org.ID, ResRuns, flow); err != nil {
				return err
			}
		case st.InWindow(): // not finished by another pull meanwhile
			if err := s.runWindow(ctx, rp, &st, flow); err != nil {
				return err
			}
		}
		progress(i+1, len(flows), rp.p.res.Items)
	}
	return nil
}

// Backfill reads the queued runs backfills now: the backfill task, started
// when an administrator tracks more panels or polls. It pulls the contacts
// first when the change reset them, then each queued poll's runs. Like every
// pull it is metered: when the org's hourly API budget is spent it stops
// (ErrBudget), keeping its place, and the runs pull continues it later.
func (s *Syncer) Backfill(ctx context.Context, org *models.Org, progress func(done, total, runs int)) Result {
	if ok, err := s.contactsPulled(ctx, org.ID); err != nil {
		return Result{Resource: ResBackfill, Err: err}
	} else if !ok {
		if r := s.Pull(ctx, org, ResContacts); r.Err != nil {
			return Result{Resource: ResBackfill, Err: fmt.Errorf("the contacts pull failed, and the runs backfill waits for it: %w", r.Err)}
		}
	}
	return s.pullWith(ctx, org, ResBackfill, func(ctx context.Context, p *pull) error {
		rp, err := s.newRunPager(ctx, p)
		if err != nil {
			return err
		}
		defer rp.report()
		return s.runBackfills(ctx, rp, progress)
	}, false)
}

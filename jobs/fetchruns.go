package jobs

import (
	"context"
	"time"

	"tracpro/models"
	"tracpro/rapidpro"
)

// FetchResult is what a backfill did.
type FetchResult struct {
	Archives int // run archives read
	Fetched  int // runs read (archives + live API)
	Created  int
	Updated  int
	Skipped  int
	Requests int
}

// archiveEnd is the first instant after the archive's period.
func archiveEnd(a rapidpro.Archive) time.Time {
	start, err := time.Parse("2006-01-02", a.StartDate)
	if err != nil {
		return time.Time{}
	}
	if a.Period == "monthly" {
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// FetchRuns is the original's past-run backfill (`tracpro fetchruns`): every run
// of the tracked polls modified since `since`, read from RapidPro's run
// archives where the window reaches back beyond what the live API still holds,
// then from the live API. Re-reading runs already stored is harmless (a run is
// applied only when newer). It does not move the periodic pull's watermark.
func (s *Syncer) FetchRuns(ctx context.Context, org *models.Org, since time.Time) (FetchResult, error) {
	return s.FetchRunsProgress(ctx, org, since, nil)
}

// FetchRunsProgress is FetchRuns reporting its progress: progress (when not
// nil) is called with the steps done and the total after each run archive
// and each poll read (total = archives + polls, known once the archives are
// listed; 0 of 0 when there is nothing to read).
func (s *Syncer) FetchRunsProgress(ctx context.Context, org *models.Org, since time.Time, progress func(done, total int)) (FetchResult, error) {
	var out FetchResult
	res := s.pullWith(ctx, org, "fetchruns", func(ctx context.Context, p *pull) error {
		return s.fetchRuns(ctx, p, since, &out, progress)
	}, false)
	out.Fetched, out.Requests = res.Items, res.Requests
	out.Created, out.Updated, out.Skipped = res.Created, res.Updated, res.Skipped
	return out, res.Err
}

func (s *Syncer) fetchRuns(ctx context.Context, p *pull, since time.Time, out *FetchResult, progress func(done, total int)) error {
	if progress == nil {
		progress = func(int, int) {}
	}
	rp, err := s.newRunPager(ctx, p)
	if err != nil {
		return err
	}
	defer rp.report()
	flows := rp.ri.TrackedFlows()
	if len(flows) == 0 {
		progress(0, 0)
		return nil
	}
	// Archives are listed by start date; a monthly archive that began before
	// `since` may still hold runs after it.
	monthStart := time.Date(since.Year(), since.Month(), 1, 0, 0, 0, 0, time.UTC)
	var archives []rapidpro.Archive
	err = p.client.Archives(ctx, rapidpro.ArchiveQuery{Type: "run", After: monthStart}, func(pg rapidpro.Page[rapidpro.Archive]) error {
		for _, a := range pg.Results {
			if a.Type == "run" && archiveEnd(a).After(since) && a.DownloadURL != "" {
				archives = append(archives, a)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	total, done := len(archives)+len(flows), 0
	progress(done, total)
	const batch = 250
	for _, a := range archives {
		var buf []rapidpro.Run
		err := p.client.StreamRunArchive(ctx, a, func(r rapidpro.Run) error {
			if !rp.ri.Tracks(r.Flow.UUID) || r.ModifiedOn.Before(since) {
				return nil
			}
			buf = append(buf, r)
			if len(buf) == batch {
				err := rp.apply(ctx, buf, nil)
				buf = buf[:0]
				return err
			}
			return nil
		})
		if err == nil && len(buf) > 0 {
			err = rp.apply(ctx, buf, nil)
		}
		if err != nil {
			return err
		}
		out.Archives++
		done++
		progress(done, total)
	}
	for _, flow := range flows {
		err := p.client.Runs(ctx, rapidpro.RunQuery{Flow: flow, After: since, Reverse: true}, func(pg rapidpro.Page[rapidpro.Run]) error {
			return rp.apply(ctx, pg.Results, nil)
		})
		if err != nil {
			return err
		}
		done++
		progress(done, total)
	}
	return nil
}

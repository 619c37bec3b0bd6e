package jobs

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"tracpro/models"
)

// Track sets the panels, cohorts and polls of an org from names or UUIDs
// (nil = leave as is, empty = track none), refreshing the group and flow
// lists from RapidPro first when a referenced one is not known yet. Tracking
// new groups resets the contacts watermark (their contacts were modified long
// ago) and links panels to boundaries of the same name. What became visible
// gets a runs backfill queued (QueueBackfills): every tracked poll when a
// panel was added (its contacts' runs were skipped), else the newly tracked
// polls, whose questions are pulled too. Cohorts need none: runs are stored
// for every contact of a tracked panel, and the contacts pull re-reads the
// cohorts. Removing panels, cohorts or polls reads nothing. It is shared by
// `tracpro org track`, `demo` and the setup wizard; the wizard then starts the
// backfill task, elsewhere the runs pull reads the backfill after the
// contacts pull.
func Track(ctx context.Context, s *Syncer, org *models.Org, panels, cohorts, polls []string, out io.Writer) error {
	db := s.DB
	if panels != nil || cohorts != nil {
		if _, err := db.ResolveGroups(ctx, org.ID, append(append([]string{}, panels...), cohorts...)); err != nil {
			if r := s.Pull(ctx, org, ResGroups); r.Err != nil {
				return r.Err
			}
		}
	}
	panelsAdded := false
	for _, t := range []struct {
		refs  []string
		table string
		label string
	}{{panels, "regions", "panels"}, {cohorts, "cohorts", "cohorts"}} {
		if t.refs == nil {
			continue
		}
		gs, err := db.ResolveGroups(ctx, org.ID, t.refs)
		if err != nil {
			return err
		}
		before, err := db.TrackedGroupUUIDs(ctx, org.ID, t.table)
		if err != nil {
			return err
		}
		for _, g := range gs {
			panelsAdded = panelsAdded || t.table == "regions" && !before[g.UUID]
		}
		changed, err := db.TrackGroups(ctx, org.ID, t.table, gs)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d tracked\n", t.label, len(gs))
		if changed {
			if err := db.ResetSyncState(ctx, org.ID, ResContacts, ""); err != nil {
				return err
			}
		}
	}
	if panels != nil {
		if _, err := db.LinkRegionsToBoundaries(ctx, org.ID); err != nil {
			return err
		}
	}
	var added []models.Poll
	var err error
	if polls != nil {
		known, err := db.ListPolls(ctx, org.ID, false)
		if err != nil {
			return err
		}
		if len(known) == 0 {
			if r := s.Pull(ctx, org, ResFlows); r.Err != nil {
				return r.Err
			}
		}
		if added, err = db.TrackPolls(ctx, org.ID, polls); err != nil {
			return err
		}
		fmt.Fprintf(out, "polls: %d tracked (%d new)\n", len(polls), len(added))
		if len(added) > 0 {
			// Questions of newly tracked polls come with the flows pull.
			if r := s.Pull(ctx, org, ResFlows); r.Err != nil {
				return r.Err
			}
		}
	}
	why := "the newly tracked polls"
	if panelsAdded {
		why = "the contacts of the newly tracked panels"
		if added, err = db.ListPolls(ctx, org.ID, true); err != nil {
			return err
		}
	}
	n, err := s.QueueBackfills(ctx, org, added)
	if n > 0 {
		fmt.Fprintf(out, "runs: the whole history of %d polls is queued to be read again for %s; the runs pull reads it once the contacts pull has run (`tracpro sync --org %s`, or the server within minutes)\n",
			n, why, org.Subdomain)
	}
	return err
}

// TaskRunner runs the web's background tasks (a task row each), one
// goroutine per task, under a context cancelled by Shutdown.
type TaskRunner struct {
	s      *Syncer
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var (
	runnersMu sync.Mutex
	runners   = map[*Syncer]*TaskRunner{}
)

// Tasks returns the task runner of a syncer (created on first use).
func Tasks(s *Syncer) *TaskRunner {
	runnersMu.Lock()
	defer runnersMu.Unlock()
	r := runners[s]
	if r == nil {
		ctx, cancel := context.WithCancel(context.Background())
		r = &TaskRunner{s: s, ctx: ctx, cancel: cancel}
		runners[s] = r
	}
	return r
}

// Shutdown cancels the running tasks and waits for them to record their
// outcome (at most the given time).
func (r *TaskRunner) Shutdown(wait time.Duration) {
	r.cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
	}
	runnersMu.Lock()
	if runners[r.s] == r {
		delete(runners, r.s)
	}
	runnersMu.Unlock()
}

// Wait blocks until every started task has finished (for tests).
func (r *TaskRunner) Wait() { r.wg.Wait() }

// Report records a running task's progress (0..100) and message.
type Report func(progress int, message string)

// Start runs fn for task in the background: the task is marked running, fn
// reports progress, and its outcome marks the task done (100 %) with fn's
// message or failed with the error's message.
func (r *TaskRunner) Start(task *models.Task, fn func(ctx context.Context, report Report) (string, error)) {
	db := r.s.DB
	bg := context.WithoutCancel(r.ctx)
	_ = db.UpdateTask(bg, task.ID, models.TaskRunning, 0, "")
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		report := func(progress int, message string) {
			if err := db.UpdateTask(bg, task.ID, models.TaskRunning, progress, message); err != nil {
				r.s.log.Warn("task progress not saved", "task", task.ID, "err", err)
			}
		}
		msg, err := func() (msg string, err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("task crashed: %v", p)
				}
			}()
			return fn(r.ctx, report)
		}()
		state, progress := models.TaskDone, 100
		if err != nil {
			state, progress = models.TaskFailed, -1
			msg = err.Error()
			if r.ctx.Err() != nil {
				msg = "interrupted by a shutdown"
			}
			r.s.log.Warn("task failed", "task", task.ID, "kind", task.Kind, "err", err)
		}
		if progress < 0 {
			if t, gerr := db.TaskByID(bg, task.ID); gerr == nil {
				progress = t.Progress
			}
		}
		if err := db.UpdateTask(bg, task.ID, state, progress, msg); err != nil {
			r.s.log.Error("task outcome not saved", "task", task.ID, "err", err)
		}
	}()
}

// StartSync runs every pull of org as task (kind "sync"), reporting one step
// per resource.
func (r *TaskRunner) StartSync(task *models.Task, org *models.Org) {
	r.Start(task, func(ctx context.Context, report Report) (string, error) {
		var failed []string
		for i, res := range Resources {
			report(i*100/len(Resources), "Pulling "+res)
			rr := r.s.Pull(ctx, org, res)
			if rr.Err != nil {
				failed = append(failed, res)
				if ErrorKind(rr.Err) == "token" {
					return "", fmt.Errorf("RapidPro refused the API token")
				}
			}
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
		}
		if len(failed) > 0 {
			return "", fmt.Errorf("failed pulls: %s", strings.Join(failed, ", "))
		}
		return fmt.Sprintf("%d pulls done", len(Resources)), nil
	})
}

// FetchRunsParams are the parameters of a "fetchruns" task.
type FetchRunsParams struct {
	Days int `json:"days"`
}

// StartFetchRuns reads the past runs of the last days as task (kind
// "fetchruns"), reporting progress per run archive and per poll.
func (r *TaskRunner) StartFetchRuns(task *models.Task, org *models.Org, days int) {
	r.Start(task, func(ctx context.Context, report Report) (string, error) {
		since := r.s.Cfg.Now().Add(-time.Duration(days) * 24 * time.Hour)
		res, err := r.s.FetchRunsProgress(ctx, org, since, func(done, total int) {
			pct := 0
			if total > 0 {
				pct = done * 100 / total
			}
			report(pct, fmt.Sprintf("%d of %d steps", done, total))
		})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d runs fetched (%d archives): %d created, %d updated, %d skipped",
			res.Fetched, res.Archives, res.Created, res.Updated, res.Skipped), nil
	})
}

// StartBackfill reads the queued runs backfills as task (kind "backfill"),
// reporting progress per poll (see Syncer.Backfill).
func (r *TaskRunner) StartBackfill(task *models.Task, org *models.Org) {
	r.Start(task, func(ctx context.Context, report Report) (string, error) {
		report(0, "Pulling contacts")
		res := r.s.Backfill(ctx, org, func(done, total, runs int) {
			pct := 0
			if total > 0 {
				pct = done * 100 / total
			}
			report(pct, fmt.Sprintf("%d of %d polls, %d runs read", done, total, runs))
		})
		switch {
		case ErrorKind(res.Err) == "budget":
			return "", fmt.Errorf("paused after %d runs: the hourly RapidPro API budget of this org is spent; the runs pull continues after the hour", res.Items)
		case res.Err != nil:
			return "", res.Err
		}
		msg := fmt.Sprintf("%d runs read: %d created, %d updated, %d skipped", res.Items, res.Created, res.Updated, res.Skipped)
		if res.Skipped > 0 {
			msg += " (" + FormatSkips(res.Skips) + ")"
		}
		return msg, nil
	})
}

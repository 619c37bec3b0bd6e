package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// Scheduler runs every pull of every active org on its interval with gocron.
// A pull never overlaps itself (singleton mode) nor another pull of the same
// org (the Syncer's org lock); a pull in back-off is skipped until it is due.
// Orgs created while it runs are picked up within a minute.
type Scheduler struct {
	syncer *Syncer
	cron   gocron.Scheduler
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	orgs map[int64]bool
	wg   sync.WaitGroup
}

// NewScheduler returns a scheduler over syncer (not started).
func NewScheduler(syncer *Syncer) (*Scheduler, error) {
	cron, err := gocron.NewScheduler(gocron.WithLocation(time.UTC), gocron.WithStopTimeout(8*time.Second))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{syncer: syncer, cron: cron, ctx: ctx, cancel: cancel, orgs: map[int64]bool{}}, nil
}

// Start registers the jobs of the active orgs and starts the scheduler.
func (s *Scheduler) Start(ctx context.Context) error {
	if err := s.refreshOrgs(ctx); err != nil {
		return err
	}
	if _, err := s.cron.NewJob(gocron.DurationJob(time.Minute), gocron.NewTask(func() {
		if err := s.refreshOrgs(s.ctx); err != nil {
			s.syncer.log.Warn("org refresh failed", "err", err)
		}
	}), gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
		return err
	}
	// The outbox: writes to RapidPro (flow starts) queued by the web app.
	if _, err := s.cron.NewJob(gocron.DurationJob(OutboxInterval), gocron.NewTask(func() {
		s.wg.Add(1)
		defer s.wg.Done()
		if _, err := s.syncer.DeliverOutbox(s.ctx); err != nil && s.ctx.Err() == nil {
			s.syncer.log.Warn("outbox delivery failed", "err", err)
		}
	}), gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
		return err
	}
	// Expired sessions and WebAuthn ceremonies, stale sign-in failures.
	if _, err := s.cron.NewJob(gocron.DurationJob(PurgeInterval), gocron.NewTask(func() {
		if n, err := s.syncer.DB.PurgeExpiredSessions(s.ctx); err != nil && s.ctx.Err() == nil {
			s.syncer.log.Warn("purge of expired sessions failed", "err", err)
		} else if n > 0 {
			s.syncer.log.Info("expired sessions purged", "purged", n)
		}
	}), gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
		return err
	}
	s.cron.Start()
	return nil
}

// PurgeInterval is how often expired sessions are deleted.
const PurgeInterval = time.Hour

// Stop cancels pulls in flight (each finishes its current transaction and
// records its outcome) and waits for the jobs to return.
func (s *Scheduler) Stop() error {
	s.cancel()
	err := s.cron.Shutdown()
	s.wg.Wait()
	return err
}

func (s *Scheduler) refreshOrgs(ctx context.Context) error {
	orgs, err := s.syncer.DB.ListOrgs(ctx, true)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, org := range orgs {
		if s.orgs[org.ID] || org.APIToken == "" {
			continue
		}
		for _, res := range Resources {
			orgID, resource := org.ID, res
			_, err := s.cron.NewJob(
				gocron.DurationJob(s.syncer.Cfg.Intervals[resource]),
				gocron.NewTask(func() { s.run(orgID, resource) }),
				gocron.WithSingletonMode(gocron.LimitModeReschedule),
				gocron.WithStartAt(gocron.WithStartImmediately()),
				gocron.WithTags("org", resource),
			)
			if err != nil {
				return err
			}
		}
		s.orgs[org.ID] = true
	}
	return nil
}

// run is one scheduled pull: it reloads the org (token or timezone may have
// changed, or the org been deactivated) and honours the back-off.
func (s *Scheduler) run(orgID int64, resource string) {
	s.wg.Add(1)
	defer s.wg.Done()
	ctx := s.ctx
	if ctx.Err() != nil {
		return
	}
	org, err := s.syncer.DB.OrgByID(ctx, orgID)
	if err != nil || !org.IsActive || org.APIToken == "" {
		return
	}
	due, err := s.syncer.Due(ctx, orgID, resource)
	if err != nil || !due {
		return
	}
	s.syncer.Pull(ctx, org, resource)
}

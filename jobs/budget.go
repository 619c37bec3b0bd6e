package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"tracpro/models"
)

// ErrBudget is returned when a pull is held back because the org's RapidPro
// API budget for this hour is nearly spent.
var ErrBudget = errors.New("the hourly RapidPro API budget is nearly spent; pulls resume next hour")

// DefaultScopeLimits are RapidPro's default per-org, per-scope hourly rates.
var DefaultScopeLimits = map[string]int{"v2": 2500, "v2.contacts": 2500, "v2.messages": 2500, "v2.runs": 2500, "v2.broadcasts": 36000}

// Meter counts RapidPro API requests per org, scope and hour, and holds pulls
// back once a scope has used (limit − reserve) requests this hour, leaving the
// reserve for pushes (contact edits, broadcasts, flow starts).
type Meter struct {
	db      *models.DB
	limits  map[string]int
	reserve float64
	now     func() time.Time

	mu   sync.Mutex
	orgs map[int64]*orgMeter
}

type orgMeter struct {
	hour    int64
	used    map[string]int // this hour, including what is already persisted
	pending map[string]int // not yet persisted
}

// NewMeter returns a meter; limits nil means DefaultScopeLimits, and reserve is
// the fraction of each limit kept for pushes (e.g. 0.05).
func NewMeter(db *models.DB, limits map[string]int, reserve float64) *Meter {
	if limits == nil {
		limits = DefaultScopeLimits
	}
	return &Meter{db: db, limits: limits, reserve: reserve, now: time.Now, orgs: map[int64]*orgMeter{}}
}

func hourStart(t time.Time) int64 { return t.Truncate(time.Hour).UnixMilli() }

func (m *Meter) org(ctx context.Context, orgID int64) *orgMeter {
	h := hourStart(m.now())
	om := m.orgs[orgID]
	if om == nil || om.hour != h {
		om = &orgMeter{hour: h, used: map[string]int{}, pending: map[string]int{}}
		if used, err := m.db.APIUsage(ctx, orgID, h); err == nil {
			om.used = used
		}
		m.orgs[orgID] = om
	}
	return om
}

// Allow reports ErrBudget when a pull (not a push) may not spend another
// request of scope this hour.
func (m *Meter) Allow(ctx context.Context, orgID int64, scope string, push bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit, ok := m.limits[scope]
	if !ok || limit <= 0 {
		return nil
	}
	used := m.org(ctx, orgID).used[scope]
	cap := limit
	if !push {
		cap = int(float64(limit) * (1 - m.reserve))
	}
	if used >= cap {
		return fmt.Errorf("%w (%s: %d of %d used)", ErrBudget, scope, used, limit)
	}
	return nil
}

// Count records one request of scope.
func (m *Meter) Count(ctx context.Context, orgID int64, scope string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	om := m.org(ctx, orgID)
	om.used[scope]++
	om.pending[scope]++
}

// Flush persists the counts not yet stored.
func (m *Meter) Flush(ctx context.Context) error {
	m.mu.Lock()
	type item struct {
		org   int64
		hour  int64
		scope string
		n     int
	}
	var items []item
	for id, om := range m.orgs {
		for s, n := range om.pending {
			items = append(items, item{id, om.hour, s, n})
		}
		om.pending = map[string]int{}
	}
	m.mu.Unlock()
	for _, it := range items {
		if err := m.db.AddAPIUsage(ctx, it.org, it.hour, it.scope, it.n); err != nil {
			return err
		}
	}
	return nil
}

// Used returns this hour's requests per scope for an org.
func (m *Meter) Used(ctx context.Context, orgID int64) map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for s, n := range m.org(ctx, orgID).used {
		out[s] = n
	}
	return out
}

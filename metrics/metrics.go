// Package metrics holds TracPro's Prometheus metrics: HTTP requests by route
// pattern, RapidPro pulls, and gauges read from the database at scrape time
// (outbox depth, API requests this hour, last successful pull, database size).
// Every label has a bounded set of values: route patterns (never raw paths),
// status classes, resource names, error kinds, outbox states, throttle scopes.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tracpro/models"
)

// Metrics is the registry of one process.
type Metrics struct {
	Registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	pulls        *prometheus.CounterVec
	pullDuration *prometheus.HistogramVec
}

// New returns the metrics of a process serving db (nil: no database gauges).
func New(db *models.DB) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tracpro_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status class.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tracpro_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tracpro_pulls_total",
			Help: "RapidPro pulls finished, by resource, status (ok, error, skipped) and error kind.",
		}, []string{"resource", "status", "error_kind"}),
		pullDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tracpro_pull_duration_seconds",
			Help:    "Duration of RapidPro pulls, by resource.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"resource"}),
	}
	m.Registry.MustRegister(m.httpRequests, m.httpDuration, m.pulls, m.pullDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.Registry.MustRegister(&dbCollector{db: db})
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// StatusClass is the label of an HTTP status: "2xx" … "5xx".
func StatusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}

// ObserveHTTP records one served request; route is the matched route pattern
// ("unmatched" when none matched).
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodHead:
	default:
		method = "other"
	}
	m.httpRequests.WithLabelValues(route, method, StatusClass(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// ObservePull records one finished pull (the jobs.Config OnPull hook).
func (m *Metrics) ObservePull(resource, status, errorKind string, d time.Duration) {
	if m == nil {
		return
	}
	m.pulls.WithLabelValues(resource, status, errorKind).Inc()
	m.pullDuration.WithLabelValues(resource).Observe(d.Seconds())
}

// dbCollector reads its gauges from the database at each scrape.
type dbCollector struct{ db *models.DB }

var (
	descOutbox = prometheus.NewDesc("tracpro_outbox_items",
		"Outbox items (writes to RapidPro) by state: pending, sent, failed, unknown.", []string{"state"}, nil)
	descAPIUsage = prometheus.NewDesc("tracpro_rapidpro_api_requests_this_hour",
		"RapidPro API requests made in the current clock hour, all orgs, by throttle scope.", []string{"scope"}, nil)
	descLastSuccess = prometheus.NewDesc("tracpro_pull_last_success_timestamp_seconds",
		"End of the newest successful pull of each resource, the oldest across active orgs (0: an org never succeeded).", []string{"resource"}, nil)
	descPullFailing = prometheus.NewDesc("tracpro_pull_failing_orgs",
		"Active orgs whose newest pull of the resource failed.", []string{"resource"}, nil)
	descDBBytes  = prometheus.NewDesc("tracpro_db_size_bytes", "Size of the SQLite database file.", nil, nil)
	descWALBytes = prometheus.NewDesc("tracpro_db_wal_size_bytes", "Size of the SQLite WAL file.", nil, nil)
	descSchema   = prometheus.NewDesc("tracpro_schema_version", "Highest applied schema version.", nil, nil)
	descMissing  = prometheus.NewDesc("tracpro_schema_missing_migrations", "Embedded migrations not applied to the database (0 when the schema is current).", nil, nil)
	descScrapeOK = prometheus.NewDesc("tracpro_db_scrape_ok", "1 when the database gauges could be read.", nil, nil)
)

func (dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOutbox, descAPIUsage, descLastSuccess, descPullFailing, descDBBytes, descWALBytes, descSchema, descMissing, descScrapeOK} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ok := 1.0
	fail := func(err error) bool {
		if err != nil {
			ok = 0
			return true
		}
		return false
	}
	if depth, err := c.db.OutboxDepth(ctx); !fail(err) {
		for state, n := range depth {
			ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n), state)
		}
	}
	if usage, err := c.db.APIUsageThisHour(ctx, time.Now()); !fail(err) {
		for scope, n := range usage {
			ch <- prometheus.MustNewConstMetric(descAPIUsage, prometheus.GaugeValue, float64(n), scope)
		}
	}
	if health, err := c.db.PullHealthAll(ctx); !fail(err) {
		oldest := map[string]int64{}
		failing := map[string]int{}
		for _, p := range health {
			if v, seen := oldest[p.Resource]; !seen || p.LastSuccess < v {
				oldest[p.Resource] = p.LastSuccess
			}
			if p.LastStatus == "error" {
				failing[p.Resource]++
			}
		}
		for res, ms := range oldest {
			// 0 when an org's pull of res has never succeeded: a staleness
			// alert (time() - value > limit) fires for it, as it should.
			ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(ms)/1000, res)
			ch <- prometheus.MustNewConstMetric(descPullFailing, prometheus.GaugeValue, float64(failing[res]), res)
		}
	}
	if st, err := c.db.Storage(ctx); !fail(err) {
		ch <- prometheus.MustNewConstMetric(descDBBytes, prometheus.GaugeValue, float64(st.DBBytes))
		ch <- prometheus.MustNewConstMetric(descWALBytes, prometheus.GaugeValue, float64(st.WALBytes))
	}
	if v, err := c.db.SchemaVersion(ctx); !fail(err) {
		ch <- prometheus.MustNewConstMetric(descSchema, prometheus.GaugeValue, float64(v))
	}
	if m, err := c.db.MissingMigrations(ctx); !fail(err) {
		ch <- prometheus.MustNewConstMetric(descMissing, prometheus.GaugeValue, float64(len(m)))
	}
	ch <- prometheus.MustNewConstMetric(descScrapeOK, prometheus.GaugeValue, ok)
}

package handlers

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tracpro/metrics"
	"tracpro/models"
)

// systemData is the superuser System page: storage, schema, replication,
// pull health, outbox and API usage of the whole site.
type systemData struct {
	DBSize, WALSize string
	Schema          int
	Missing         string // the embedded migrations not applied, comma-separated
	Replication     metrics.LitestreamStatus
	Warnings        []string // shown as banners: the database is not (or badly) replicated
	Pulls           []models.PullHealth
	Outbox          []stateCount
	Usage           []stateCount
}

// stateCount is one row of a small count table.
type stateCount struct {
	Name  string
	Count int
}

// litestreamClient reads Litestream's metrics (a short timeout: the page must
// answer even when Litestream does not).
var litestreamClient = &http.Client{Timeout: 2 * time.Second}

// systemShow renders GET /manage/system/.
func (h *Handlers) systemShow(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	st, err := h.DB.Storage(ctx)
	if err != nil {
		return err
	}
	v, err := h.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	missing, err := h.DB.MissingMigrations(ctx)
	if err != nil {
		return err
	}
	d := systemData{DBSize: humanBytes(st.DBBytes), WALSize: humanBytes(st.WALBytes), Schema: v, Missing: strings.Join(missing, ", ")}
	if d.Pulls, err = h.DB.PullHealthAll(ctx); err != nil {
		return err
	}
	depth, err := h.DB.OutboxDepth(ctx)
	if err != nil {
		return err
	}
	for _, s := range []struct{ state, label string }{{"pending", rc.cat.T("Pending")}, {"sent", rc.cat.T("Sent")}, {"failed", rc.cat.T("Failed")}, {"unknown", rc.cat.T("Unknown")}} {
		d.Outbox = append(d.Outbox, stateCount{Name: s.label, Count: depth[s.state]})
	}
	usage, err := h.DB.APIUsageThisHour(ctx, time.Now())
	if err != nil {
		return err
	}
	for s, n := range usage {
		d.Usage = append(d.Usage, stateCount{Name: s, Count: n})
	}
	sort.Slice(d.Usage, func(i, j int) bool { return d.Usage[i].Name < d.Usage[j].Name })

	cat := rc.cat
	switch {
	case h.LitestreamMetrics == "":
		d.Warnings = append(d.Warnings, cat.T("This database is not replicated: Litestream's metrics address is not configured (TRACPRO_LITESTREAM_METRICS). If this disk is lost, the data is lost."))
	default:
		d.Replication = metrics.ReadLitestream(ctx, litestreamClient, h.LitestreamMetrics, h.DB.Path)
		switch {
		case !d.Replication.Reachable:
			d.Warnings = append(d.Warnings, cat.T("Litestream does not answer at %s: this database may not be replicated.", h.LitestreamMetrics))
		case !d.Replication.Replicating:
			d.Warnings = append(d.Warnings, cat.T("Litestream runs but does not replicate this database."))
		}
		if n := d.Replication.ReplicaErrors + d.Replication.SyncErrors; n > 0 {
			d.Warnings = append(d.Warnings, cat.T("Litestream reported %d failed operations since it started: check its log.", n))
		}
	}
	return h.render(c, fiber.StatusOK, "system/index", h.page(c, cat.T("System"), d))
}

// humanBytes formats a size for people (1 decimal, powers of 1024).
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

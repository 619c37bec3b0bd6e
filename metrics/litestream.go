package metrics

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// LitestreamStatus is what Litestream's own metrics say about the replication
// of one database.
type LitestreamStatus struct {
	Reachable     bool   // the metrics address answered
	Replicating   bool   // Litestream reports this database
	Err           string // why not (unreachable, other database…)
	TXID          int64  // newest transaction Litestream has seen
	Syncs         int64  // WAL syncs since Litestream started
	SyncErrors    int64
	Uploads       int64 // replica PUT operations since start
	ReplicaErrors int64 // failed replica operations since start
	DBBytes       int64
	WALBytes      int64
}

// ReadLitestream fetches Litestream's Prometheus metrics from url and picks
// the series of the database at dbPath.
func ReadLitestream(ctx context.Context, client *http.Client, url, dbPath string) LitestreamStatus {
	var st LitestreamStatus
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	resp, err := client.Do(req)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		st.Err = resp.Status
		return st
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		st.Err = fmt.Sprintf("unreadable metrics: %v", err)
		return st
	}
	st.Reachable = true
	abs, _ := filepath.Abs(dbPath)
	ours := func(m *dto.Metric) bool {
		for _, l := range m.GetLabel() {
			if l.GetName() == "db" {
				return l.GetValue() == abs || l.GetValue() == dbPath || filepath.Base(l.GetValue()) == filepath.Base(dbPath)
			}
		}
		return false
	}
	value := func(name string) (int64, bool) {
		f := families[name]
		if f == nil {
			return 0, false
		}
		for _, m := range f.GetMetric() {
			if ours(m) {
				return int64(metricValue(m)), true
			}
		}
		return 0, false
	}
	var found bool
	st.TXID, found = value("litestream_txid")
	if !found {
		st.Err = "Litestream does not replicate " + dbPath
		return st
	}
	st.Replicating = true
	st.Syncs, _ = value("litestream_sync_count")
	st.SyncErrors, _ = value("litestream_sync_error_count")
	st.DBBytes, _ = value("litestream_db_size")
	st.WALBytes, _ = value("litestream_wal_size")
	if f := families["litestream_replica_operation_total"]; f != nil {
		for _, m := range f.GetMetric() {
			if labelValue(m, "operation") == "PUT" {
				st.Uploads += int64(metricValue(m))
			}
		}
	}
	if f := families["litestream_replica_operation_errors_total"]; f != nil {
		for _, m := range f.GetMetric() {
			st.ReplicaErrors += int64(metricValue(m))
		}
	}
	return st
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

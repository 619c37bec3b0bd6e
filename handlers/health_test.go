package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"tracpro/metrics"
	"tracpro/models"
)

func TestHealth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := models.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app, err := New(&Handlers{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	get := func(p string) (int, string) {
		resp, err := app.Test(httptest.NewRequest("GET", p, nil))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/livez"); code != 200 {
		t.Fatalf("livez = %d", code)
	}
	if code, body := get("/readyz"); code != 503 || body != "schema not current" {
		t.Fatalf("readyz before migrate = %d %q", code, body)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/readyz"); code != 200 || body != "ok" {
		t.Fatalf("readyz after migrate = %d %q", code, body)
	}
	db.Close()
	if code, _ := get("/readyz"); code != 503 {
		t.Fatalf("readyz with closed db = %d", code)
	}
}

// TestReadyMeansEveryMigrationApplied: a database that lacks a migration
// numbered below its highest one (0006 landed after 0007–0009) is not ready;
// the System page names the missing file and /metrics counts it.
func TestReadyMeansEveryMigrationApplied(t *testing.T) {
	e, c, _, _ := systemWorld(t)
	e.H.Metrics = metrics.New(e.DB)
	if _, err := e.DB.Exec(`DELETE FROM schema_migrations WHERE version = 6`); err != nil {
		t.Fatal(err)
	}
	ready := func() (int, string) {
		r := c.get("/readyz")
		return r.Code, r.Body
	}
	if code, body := ready(); code != 503 || body != "schema not current" {
		t.Fatalf("readyz with 0006 missing = %d %q", code, body)
	}
	page := c.get("/manage/system/").Body
	if want := fmt.Sprintf(`<dd id="schema">%d <span class="bad">(not applied: 0006_field_counters.sql; run tracpro migrate)</span></dd>`, models.LatestVersion()); !strings.Contains(page, want) {
		t.Errorf("system page lacks %q", want)
	}
	rec := httptest.NewRecorder()
	e.H.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "tracpro_schema_missing_migrations 1\n") {
		t.Error("metrics do not count the missing migration")
	}
}

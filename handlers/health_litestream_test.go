package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"tracpro/models"
)

// Litestream adds its own tables to the database it replicates; /readyz's
// schema check must not mind them.
func TestReadyIgnoresLitestreamTables(t *testing.T) {
	db, err := models.OpenMigrated(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)`, `CREATE TABLE _litestream_lock (id INTEGER)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	app, err := New(&Handlers{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := app.Test(httptest.NewRequest("GET", "/readyz", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("readyz with Litestream's tables = %d %q", resp.StatusCode, b)
	}
}

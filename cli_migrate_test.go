package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"tracpro/migrations"
	"tracpro/models"
)

// TestCLIMigrateFillsGaps: `tracpro migrate` on a database of schema 9 that
// never had 0006 (numbered below 0007–0009, landed after them) applies 0006
// and every later migration, names each, and says the schema is current; a
// second run applies nothing; a database holding a migration this binary does
// not have is refused.
func TestCLIMigrateFillsGaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := models.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrations.ApplyOnly(db.DB, []int{1, 2, 3, 4, 5, 7, 8, 9}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range models.EmbeddedMigrations() {
		if name >= "0010" || strings.HasPrefix(name, "0006_") {
			want = append(want, "applied "+name)
		}
	}
	code, out, stderr := runCLI(t, "migrate", "--db", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != len(want)+1 || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") ||
		!strings.HasPrefix(lines[len(want)], "schema is now current (version ") {
		t.Fatalf("migrate: exit %d\n%s\nwant\n%s\n(stderr %q)", code, out, strings.Join(want, "\n"), stderr)
	}
	if missing, err := db.MissingMigrations(context.Background()); err != nil || len(missing) != 0 {
		t.Fatalf("missing after migrate: %v %v", missing, err)
	}
	if code, out, _ := runCLI(t, "migrate", "--db", path); code != 0 || !strings.HasPrefix(out, "schema is current (version ") {
		t.Fatalf("second migrate: exit %d %q", code, out)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "migrate", "--db", path); code == 0 || !strings.Contains(stderr, "9999_future.sql") {
		t.Fatalf("a newer database: exit %d %q", code, stderr)
	}
}

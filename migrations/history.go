package migrations

import (
	"database/sql"
	"fmt"
	"io/fs"
	"strings"
)

// State is a set of migrations a database may hold.
type State struct {
	Name     string
	Versions []int
}

// History lists the sets of migrations main has had (`git log --first-parent
// --name-status -- migrations`), oldest first, each a subset of today's files
// (0001 was edited only before 9d1092d, before any release), and the state
// the first migrator ("apply what is above the highest") left a database of
// schema 9 in: 0006 landed after 0007–0009, numbered on a branch. Upgrade
// tests build a database at each (ApplyOnly) and upgrade it.
var History = []State{
	{"9d1092d ingest", []int{1}},
	{"b38799a sessions and tasks", []int{1, 2}},
	{"843e3ff counters", []int{1, 2, 3}},
	{"ae7b9a2 question order", []int{1, 2, 3, 4}},
	{"b1cfe68 cohort counters", []int{1, 2, 3, 4, 5}},
	{"f6ec569 contact edits, no 0006", []int{1, 2, 3, 4, 5, 7}},
	{"fd9417c messages, no 0006", []int{1, 2, 3, 4, 5, 7, 8}},
	{"1d2612b schema 9, no 0006", []int{1, 2, 3, 4, 5, 7, 8, 9}},
	{"87e2994 field counters", []int{1, 2, 3, 4, 5, 6, 7, 8, 9}},
	{"schema 9 after the first migrator (0014, no 0006)", []int{1, 2, 3, 4, 5, 7, 8, 9, 14}},
	{"2c08306 first answers", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 14}},
}

// ApplyOnly makes db what a binary embedding only these migrations made it:
// their files executed in the order given, each recorded in
// schema_migrations. It builds the databases of older releases for upgrade
// tests; the app migrates with models.DB.Upgrade.
func ApplyOnly(db *sql.DB, versions []int) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	files, err := fs.Glob(FS, "*.sql")
	if err != nil {
		return err
	}
	for _, v := range versions {
		prefix := fmt.Sprintf("%04d_", v)
		name := ""
		for _, f := range files {
			if strings.HasPrefix(f, prefix) {
				name = f
			}
		}
		if name == "" {
			return fmt.Errorf("no migration %04d", v)
		}
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			return err
		}
		if _, err := db.Exec(string(b)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`, v, name); err != nil {
			return err
		}
	}
	return nil
}

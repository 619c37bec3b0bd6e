package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Litestream owns WAL checkpoints that reset the WAL (DESIGN.md §5): no
// application code (tests aside) runs wal_checkpoint(TRUNCATE|RESTART) or
// turns journaling away from WAL.
func TestAppNeverResetsTheWAL(t *testing.T) {
	bad := regexp.MustCompile(`(?i)wal_checkpoint\s*\(\s*(truncate|restart)|journal_mode\s*=\s*(delete|truncate|memory|off)`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".sql")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := bad.Find(b); m != nil {
			t.Errorf("%s runs %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

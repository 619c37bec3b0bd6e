// Package models holds TracPro's data: the SQLite schema access, one file per aggregate.
package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"tracpro/migrations"
)

// driverName is mattn's driver with TracPro's per-connection settings.
const driverName = "sqlite3_tracpro"

// walAutocheckpoint is the WAL size (pages) at which SQLite checkpoints on its
// own. SQLite's 1000 pages (4 MB) made a bulk ingest checkpoint — and fsync —
// after almost every page of runs; 16384 pages (64 MB) lets writes to the same
// pages coalesce. When Litestream replicates, it takes over checkpointing.
const walAutocheckpoint = 16384

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// tracpro_num(text) is ParseNumber for SQL: the number, or NULL. The
		// field counters' triggers (migrations/0006) count numbers with it.
		if err := c.RegisterFunc("tracpro_num", sqlNumber, true); err != nil {
			return err
		}
		_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutocheckpoint), nil)
		return err
	}})
}

// sqlNumber is tracpro_num: ParseNumber of a text value (NULL when it is not
// a number, or NULL).
func sqlNumber(v any) any {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return nil
	}
	if n, ok := ParseNumber(s); ok {
		return n
	}
	return nil
}

// DB wraps the pooled SQLite handle.
type DB struct {
	*sql.DB
	Path  string
	cache *dataCache // results kept while the database is unchanged (datacache.go)
}

// Close closes the database and the data cache's connection.
func (db *DB) Close() error {
	var err error
	if db.cache != nil {
		err = db.cache.close()
	}
	return errors.Join(err, db.DB.Close())
}

// busyTimeout is how long a write waits for another writer's lock before
// SQLite answers "database is locked" (IsLocked; the web app answers 503).
const busyTimeout = 5 * time.Second

// dsn builds the connection string with the production pragmas, so every pooled
// connection gets them (DESIGN.md §4).
func dsn(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	q.Set("_cache_size", "-12000")
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path. It does not migrate.
func Open(path string) (*DB, error) {
	if strings.TrimSpace(path) == "" {
		return nil, Invalid("the database path is empty")
	}
	db, err := sql.Open(driverName, dsn(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &DB{DB: db, Path: path, cache: newDataCache(path)}, nil
}

// OpenMigrated opens the database and applies pending migrations.
func OpenMigrated(ctx context.Context, path string) (*DB, error) {
	db, err := Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		n, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", name)
		}
		b, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: n, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

// LatestVersion is the highest migration number embedded in this binary.
func LatestVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// SchemaVersion returns the highest applied migration (0 for an empty database).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'`).Scan(&exists); err != nil {
		return 0, err
	}
	if exists == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the names applied. Migrations are forward-only.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return nil, err
	}
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if latest := LatestVersion(); current > latest {
		return nil, fmt.Errorf("the database is at schema %d, newer than this binary (%d)", current, latest)
	}
	var applied []string
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, NowMs())
			return err
		})
		if err != nil {
			return applied, err
		}
		applied = append(applied, m.name)
	}
	return applied, nil
}

// Tx runs fn in one immediate transaction, committing when fn returns nil.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// rowsPerInsert is how many rows one multi-row INSERT carries.
const rowsPerInsert = 100

// insertMulti inserts rows given as flat groups of cols values with multi-row
// INSERT statements (head is "INSERT INTO t (a, b, …)"); after each statement
// it calls after (when non-nil) with the statement's result and row count.
func insertMulti(ctx context.Context, tx *sql.Tx, head string, cols int, vals []any, after func(sql.Result, int) error) error {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for len(vals) > 0 {
		n := min(len(vals)/cols, rowsPerInsert)
		st := stmts[n]
		if st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, head+" VALUES "+strings.TrimSuffix(strings.Repeat(row+",", n), ",")); err != nil {
				return err
			}
			stmts[n] = st
		}
		res, err := st.ExecContext(ctx, vals[:n*cols]...)
		if err != nil {
			return err
		}
		if after != nil {
			if err := after(res, n); err != nil {
				return err
			}
		}
		vals = vals[n*cols:]
	}
	return nil
}

// retireMissing runs update (with args parent, key) for every key of have
// that is not in seen — the rows RapidPro no longer returns — and counts the
// rows it changed. Rows are retired, never deleted, so their history stays.
func retireMissing(ctx context.Context, tx *sql.Tx, update string, parent int64, have, seen map[string]bool) (int, error) {
	n := 0
	for k := range have {
		if seen[k] {
			continue
		}
		res, err := tx.ExecContext(ctx, update, parent, k)
		if err != nil {
			return n, err
		}
		if c, _ := res.RowsAffected(); c > 0 {
			n++
		}
	}
	return n, nil
}

// stringSet runs a one-column query and returns its values as a set.
func stringSet(ctx context.Context, q querier, query string, args ...any) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

// NowMs is the current time in unix milliseconds.
func NowMs() int64 { return time.Now().UnixMilli() }

// Ms converts a time to unix milliseconds (0 for the zero time).
func Ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMs converts unix milliseconds to a UTC time.
func FromMs(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TryExec runs a write only if the write lock is free now: on a connection
// whose busy timeout is 0 for the statement, so another writer holding the
// database (a sync, `recount --fix`, a backup) makes it fail at once with
// "database is locked" instead of waiting the pool's 5 s. For writes a
// reading page may skip (touching a session).
func (db *DB) TryExec(ctx context.Context, query string, args ...any) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, query, args...)
	if _, rerr := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeout.Milliseconds())); rerr != nil {
		// The connection would keep waiting no time: take it out of the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(err, rerr)
	}
	return err
}

// IsLocked reports whether err is SQLite's "database is locked": another
// writer held the database past the busy timeout.
func IsLocked(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// IsStorageFull reports whether err is SQLite's "database or disk is full"
// (or a database that became read-only under it).
func IsStorageFull(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrFull || se.Code == sqlite3.ErrReadonly)
}

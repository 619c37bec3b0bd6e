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
	node  *node      // set by StartNode in the server: outbox claims are counted in its node file
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

// EmbeddedMigrations returns the names of the migrations embedded in this
// binary, in order.
func EmbeddedMigrations() []string {
	ms, _ := loadMigrations()
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.name
	}
	return out
}

// emptyCounterMigrations are the migrations that create counter tables
// without filling them from the rows already there (0003: answer and
// response counters, 0005: cohort counters). When Upgrade applies one of them
// to a database that holds poll runs, it rebuilds every org's counters from
// the raw rows once all migrations are in (the later migrations fill their own
// tables in SQL).
var emptyCounterMigrations = map[int]bool{3: true, 5: true}

// rebuildPending is the value of PRAGMA user_version while counters wait for
// that rebuild: it is set in the transaction of the migration and cleared
// after the rebuild, so a process stopped in between rebuilds at its next start.
const rebuildPending = 1

// appliedVersions returns the applied migrations by number (none for an
// empty database).
func (db *DB) appliedVersions(ctx context.Context) (map[int]string, error) {
	var exists int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'`).Scan(&exists); err != nil {
		return nil, err
	}
	out := map[int]string{}
	if exists == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, err
		}
		out[v] = name
	}
	return out, rows.Err()
}

// SchemaVersion returns the highest applied migration (0 for an empty
// database). It says nothing of gaps below it: see MissingMigrations.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return 0, err
	}
	v := 0
	for n := range applied {
		v = max(v, n)
	}
	return v, nil
}

// MissingMigrations returns the names of the embedded migrations the
// database has not applied, in order — wherever they are, also below the
// highest applied one. The schema is current when it is empty.
func (db *DB) MissingMigrations(ctx context.Context) ([]string, error) {
	missing, _, err := db.pendingMigrations(ctx)
	out := make([]string, len(missing))
	for i, m := range missing {
		out[i] = m.name
	}
	return out, err
}

// pendingMigrations returns the embedded migrations the database has not
// applied, in order, and the applied ones this binary does not embed.
func (db *DB) pendingMigrations(ctx context.Context) (missing []migration, unknown []string, err error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, nil, err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if _, ok := applied[m.version]; ok {
			delete(applied, m.version)
		} else {
			missing = append(missing, m)
		}
	}
	for _, name := range applied {
		unknown = append(unknown, name)
	}
	sort.Strings(unknown)
	return missing, unknown, nil
}

// UpgradeResult is what Upgrade did.
type UpgradeResult struct {
	Applied []string // migration files applied, in order
	// CountersRebuilt is the number of orgs whose dashboard counters were
	// rebuilt from the raw rows (a migration of emptyCounterMigrations was
	// applied to a database holding data).
	CountersRebuilt int
}

// Migrate applies every missing migration (see Upgrade) and returns the
// names applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	res, err := db.Upgrade(ctx)
	return res.Applied, err
}

// Upgrade applies every embedded migration the database has not applied, in
// number order, each in its own transaction — whatever gaps there are: a
// database from a release that had 0007–0009 but not 0006 (numbered lower,
// landed later) gets 0006 too. A migration that fills its tables from the
// rows already there does so whenever it is applied, so order does not
// matter; counters created empty are rebuilt at the end (emptyCounterMigrations).
// A database holding a migration this binary does not embed was written by a
// newer release and is refused. Migrations are forward-only.
func (db *DB) Upgrade(ctx context.Context) (UpgradeResult, error) {
	var res UpgradeResult
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return res, err
	}
	missing, unknown, err := db.pendingMigrations(ctx)
	if err != nil {
		return res, err
	}
	if len(unknown) > 0 {
		return res, fmt.Errorf("the database has migrations this binary does not have (%s): it was written by a newer TracPro; run that release", strings.Join(unknown, ", "))
	}
	for _, m := range missing {
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if emptyCounterMigrations[m.version] {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, rebuildPending)); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, NowMs())
			return err
		})
		if err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, m.name)
	}
	var flag int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&flag); err != nil || flag != rebuildPending {
		return res, err
	}
	// Every org's counters, from its raw rows (an org without poll runs has
	// nothing to rebuild).
	orgs, err := db.ListOrgs(ctx, false)
	if err != nil {
		return res, err
	}
	for _, o := range orgs {
		rep, err := db.RecountOrg(ctx, o.ID, true)
		if err != nil {
			return res, fmt.Errorf("rebuilding the counters of org %s: %w", o.Subdomain, err)
		}
		if rep.Drifted > 0 {
			res.CountersRebuilt++
		}
	}
	_, err = db.ExecContext(ctx, `PRAGMA user_version = 0`)
	return res, err
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

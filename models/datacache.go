package models

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// dataCache keeps computed read results (word clouds) while the database is
// unchanged. Whether it changed is SQLite's PRAGMA data_version, read on a
// connection of its own that never writes: it changes whenever any other
// connection — of this process or another, such as a `tracpro` command —
// commits, so an entry can never outlive a write (a new answer, a contact
// moved, a field value changed). Every write invalidates every entry: coarse,
// but exact without a trigger on the ingest's path.
type dataCache struct {
	mu      sync.Mutex
	path    string
	vdb     *sql.DB   // the version watcher's pool (one connection)
	conn    *sql.Conn // its connection, held so its data_version baseline stays the same
	epoch   uint64    // bumped when conn is replaced (a new baseline)
	stamp   Stamp     // the stamp the entries were stored under
	entries map[string]any
}

// Stamp identifies the database's contents for the data cache: equal stamps
// mean no commit in between. The zero Stamp matches nothing.
type Stamp struct{ epoch, version uint64 }

// maxCacheEntries bounds the cache: a word cloud's entry is ≤ 50 words, a
// chart's cells at most 8 panels per poll run (cellsKeeping), so a full cache
// holds tens of megabytes at worst (polls of 50 poll runs), a few typically.
const maxCacheEntries = 512

// newDataCache returns the cache of the database file at path, or nil for a
// database a second connection would not share (in memory).
func newDataCache(path string) *dataCache {
	if path == "" || strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil
	}
	return &dataCache{path: path}
}

// current returns the stamp of the database now (the zero Stamp when it
// cannot be read: nothing is then served nor stored). Callers hold c.mu.
func (c *dataCache) current() Stamp {
	if c.conn == nil {
		if c.vdb == nil {
			vdb, err := sql.Open(driverName, dsn(c.path))
			if err != nil {
				return Stamp{}
			}
			vdb.SetMaxOpenConns(1)
			c.vdb = vdb
		}
		conn, err := c.vdb.Conn(context.Background())
		if err != nil {
			return Stamp{}
		}
		c.conn = conn
		c.epoch++
	}
	var v uint64
	if err := c.conn.QueryRowContext(context.Background(), `PRAGMA data_version`).Scan(&v); err != nil {
		c.conn.Close()
		c.conn = nil
		return Stamp{}
	}
	return Stamp{epoch: c.epoch, version: v}
}

// close releases the watcher's connection.
func (c *dataCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if c.conn != nil {
		errs = append(errs, c.conn.Close())
		c.conn = nil
	}
	if c.vdb != nil {
		errs = append(errs, c.vdb.Close())
		c.vdb = nil
	}
	c.entries = nil
	return errors.Join(errs...)
}

// DataStamp returns the database's current stamp (the zero Stamp when the
// database has no cache).
func (db *DB) DataStamp() Stamp {
	if db.cache == nil {
		return Stamp{}
	}
	db.cache.mu.Lock()
	defer db.cache.mu.Unlock()
	return db.cache.current()
}

// Cached returns what fill computes for key, computing it only when the
// database changed since it was stored (any commit, by any connection). f is
// the filter fill reads with: when ResolveFilter listed its matching contacts
// before the database last changed, the result is computed but not stored.
// The key must name everything fill depends on besides the database.
func (db *DB) Cached(key string, f ChartFilter, fill func() (any, error)) (any, error) {
	c := db.cache
	if c == nil {
		return fill()
	}
	c.mu.Lock()
	before := c.current()
	if before != (Stamp{}) && before == c.stamp {
		if v, ok := c.entries[key]; ok {
			c.mu.Unlock()
			return v, nil
		}
	}
	c.mu.Unlock()
	v, err := fill()
	if err != nil || before == (Stamp{}) || (f.matched != nil && f.resolvedAt != before) {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Store only what was read at one stamp: nothing committed during fill.
	if after := c.current(); after != before {
		return v, nil
	}
	if c.stamp != before || len(c.entries) >= maxCacheEntries {
		c.entries = map[string]any{}
		c.stamp = before
	}
	c.entries[key] = v
	return v, nil
}

// CacheKey names the filter for Cached: the org, the panels whose contacts
// count and the field filters (what the date range selects is in the poll
// runs the caller names).
func (f ChartFilter) CacheKey() string {
	var sb strings.Builder
	sb.WriteString("org ")
	sb.WriteString(strconv.FormatInt(f.Scope.OrgID, 10))
	sb.WriteString(" panels")
	for _, id := range f.panels() {
		sb.WriteByte(' ')
		sb.WriteString(strconv.FormatInt(id, 10))
	}
	keys := make([]string, 0, len(f.Fields))
	for k, v := range f.Fields {
		if strings.TrimSpace(v) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		// Quoted: keys and values can hold any character.
		sb.WriteString(" field ")
		sb.WriteString(strconv.Quote(k))
		sb.WriteByte('=')
		sb.WriteString(strconv.Quote(strings.TrimSpace(f.Fields[k])))
	}
	return sb.String()
}

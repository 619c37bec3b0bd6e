package models

import (
	"context"
	"database/sql"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SupportedURNSchemes are the URN schemes TracPro keeps for a contact, in
// order of preference.
var SupportedURNSchemes = []string{"tel", "whatsapp", "telegram", "twitter", "twitterid"}

// PickURN returns the first URN of a supported scheme (by scheme preference),
// or "" when the contact has none.
func PickURN(urns []string) string {
	for _, scheme := range SupportedURNSchemes {
		for _, u := range urns {
			if strings.HasPrefix(u, scheme+":") && len(u) > len(scheme)+1 {
				return u
			}
		}
	}
	return ""
}

// ContactRow is a contact as pulled from RapidPro.
type ContactRow struct {
	UUID       string
	Name       string
	Language   string
	URNs       []string
	Groups     []string // group UUIDs
	Fields     map[string]*string
	Active     bool // status active (not blocked/stopped/archived)
	Deleted    bool
	ModifiedOn time.Time
}

// ContactStats counts what a contacts page did. The Skipped counts are the
// new contacts not stored, by reason.
type ContactStats struct {
	Created, Updated, Deactivated, Unchanged int
	SkippedNoPanel                           int // in no tracked panel
	SkippedNoURN                             int // no tel, twitter or twitterid URN
	SkippedInactive                          int // blocked, stopped or archived in RapidPro
}

// Skipped is the number of contacts not stored.
func (s ContactStats) Skipped() int { return s.SkippedNoPanel + s.SkippedNoURN + s.SkippedInactive }

// Add accumulates o into s.
func (s *ContactStats) Add(o ContactStats) {
	s.Created += o.Created
	s.Updated += o.Updated
	s.Deactivated += o.Deactivated
	s.Unchanged += o.Unchanged
	s.SkippedNoPanel += o.SkippedNoPanel
	s.SkippedNoURN += o.SkippedNoURN
	s.SkippedInactive += o.SkippedInactive
}

type orgGroups struct {
	panels  map[string]int64 // active panels by uuid
	names   map[int64]string
	cohorts map[string]int64 // every known cohort by uuid
	fields  map[string]int64
}

func loadOrgGroups(ctx context.Context, q querier, orgID int64) (*orgGroups, error) {
	g := &orgGroups{panels: map[string]int64{}, names: map[int64]string{}, cohorts: map[string]int64{}, fields: map[string]int64{}}
	rows, err := q.QueryContext(ctx, `SELECT id, uuid, name FROM regions WHERE org_id = ? AND is_active = 1`, orgID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var u, n string
		rows.Scan(&id, &u, &n)
		g.panels[u], g.names[id] = id, n
	}
	rows.Close()
	for _, t := range []struct {
		sql string
		m   map[string]int64
	}{{`SELECT id, uuid FROM cohorts WHERE org_id = ?`, g.cohorts}, {`SELECT id, key FROM data_fields WHERE org_id = ?`, g.fields}} {
		rows, err := q.QueryContext(ctx, t.sql, orgID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var k string
			rows.Scan(&id, &k)
			t.m[k] = id
		}
		rows.Close()
	}
	return g, nil
}

// panelOf picks the contact's panel: among its groups that are active panels,
// the first by name (SPEC §4.2).
func (g *orgGroups) panelOf(groups []string) int64 {
	var best int64
	for _, u := range groups {
		if id, ok := g.panels[u]; ok && (best == 0 || strings.ToLower(g.names[id]) < strings.ToLower(g.names[best])) {
			best = id
		}
	}
	return best
}

type existingContact struct {
	id       int64
	active   bool
	modified int64
	region   int64
}

func inPlaceholders(n int) string {
	if n <= 0 {
		return "NULL"
	}
	return strings.Repeat("?,", n-1) + "?"
}

// ApplyContacts applies one page of pulled contacts in one transaction and,
// when st is non-nil, stores the sync state in the same transaction. A record
// older than the stored one is ignored; blocked, stopped, deleted contacts and
// contacts that left every tracked panel or have no supported URN are
// deactivated (never deleted); new ones without a panel or URN are counted and skipped.
// A contact with a push to RapidPro still pending in the outbox keeps its
// local values, and a new RapidPro contact with the URN of such a contact
// (one being created here) is not imported a second time.
func (db *DB) ApplyContacts(ctx context.Context, org *Org, page []ContactRow, st *SyncState) (ContactStats, error) {
	var stats ContactStats
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		g, err := loadOrgGroups(ctx, tx, org.ID)
		if err != nil {
			return err
		}
		sc := newStmtCache(tx)
		defer sc.close()
		existing := map[string]existingContact{}
		if len(page) > 0 {
			args := make([]any, 0, len(page)+1)
			args = append(args, org.ID)
			for _, c := range page {
				args = append(args, c.UUID)
			}
			rows, err := tx.QueryContext(ctx, `SELECT uuid, id, is_active, coalesce(temba_modified_on, 0), coalesce(region_id, 0) FROM contacts WHERE org_id = ? AND uuid IN (`+inPlaceholders(len(page))+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var u string
				var e existingContact
				rows.Scan(&u, &e.id, &e.active, &e.modified, &e.region)
				existing[u] = e
			}
			rows.Close()
		}
		// Contacts with a push still pending keep their local values (see
		// pendingContactPushes).
		pendingIDs, pendingURNs, err := pendingContactPushes(ctx, tx, org.ID)
		if err != nil {
			return err
		}
		now := NowMs()
		// Contacts deactivated, re-activated or moved to another panel move
		// their active responses in the counters.
		moves := map[int64]contactMove{}
		move := func(e existingContact, active bool, region int64) {
			m, ok := moves[e.id]
			if !ok {
				m = contactMove{oldActive: e.active, oldRegion: e.region}
			}
			m.newActive, m.newRegion = active, region
			moves[e.id] = m
		}
		for _, c := range page {
			e, found := existing[c.UUID]
			mod := Ms(c.ModifiedOn)
			if found && e.modified > mod {
				stats.Unchanged++ // an older version than the one stored
				continue
			}
			urn := PickURN(c.URNs)
			if found && pendingIDs[e.id] || !found && urn != "" && pendingURNs[urn] {
				stats.Unchanged++
				continue
			}
			panel := g.panelOf(c.Groups)
			if c.Deleted || !c.Active || urn == "" || panel == 0 {
				if found {
					if e.active {
						stats.Deactivated++
					} else {
						stats.Unchanged++
					}
					if _, err := sc.exec(ctx, `UPDATE contacts SET is_active = 0, temba_modified_on = ?, modified_on = ? WHERE id = ?`, mod, now, e.id); err != nil {
						return err
					}
					move(e, false, e.region)
				} else if c.Deleted {
					stats.Unchanged++ // a deletion of a contact never stored: nothing to do
				} else if !c.Active {
					stats.SkippedInactive++
				} else if urn == "" {
					stats.SkippedNoURN++
				} else {
					stats.SkippedNoPanel++
				}
				continue
			}
			var id int64
			if found {
				id = e.id
				if _, err := sc.exec(ctx, `UPDATE contacts SET name = ?, urn = ?, region_id = ?, language = ?, is_active = 1, temba_modified_on = ?, modified_on = ? WHERE id = ?`,
					c.Name, urn, panel, c.Language, mod, now, id); err != nil {
					return err
				}
				move(e, true, panel)
				stats.Updated++
			} else {
				if err := tx.QueryRowContext(ctx, `INSERT INTO contacts (org_id, uuid, name, urn, region_id, language, is_active, created_on, modified_on, temba_modified_on)
					VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, org.ID, c.UUID, c.Name, urn, panel, c.Language, now, now, mod).Scan(&id); err != nil {
					return err
				}
				stats.Created++
			}
			if err := setContactCohorts(ctx, sc, id, g, c.Groups, found); err != nil {
				return err
			}
			if err := setContactFields(ctx, sc, id, g, c.Fields, found); err != nil {
				return err
			}
		}
		if err := moveContacts(ctx, tx, org.ID, moves); err != nil {
			return err
		}
		if st != nil {
			return saveSyncState(ctx, tx, st)
		}
		return nil
	})
	return stats, err
}

func setContactCohorts(ctx context.Context, tx *stmtCache, contactID int64, g *orgGroups, groups []string, existed bool) error {
	if existed {
		if _, err := tx.exec(ctx, `DELETE FROM contact_cohorts WHERE contact_id = ?`, contactID); err != nil {
			return err
		}
	}
	for _, u := range groups {
		if cid, ok := g.cohorts[u]; ok {
			if _, err := tx.exec(ctx, `INSERT OR IGNORE INTO contact_cohorts (contact_id, cohort_id) VALUES (?, ?)`, contactID, cid); err != nil {
				return err
			}
		}
	}
	return nil
}

// setContactFields stores every known field's value, hidden fields included, so
// toggling visibility is instant (SPEC §1).
func setContactFields(ctx context.Context, tx *stmtCache, contactID int64, g *orgGroups, fields map[string]*string, existed bool) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fid, ok := g.fields[k]
		if !ok {
			continue
		}
		v := fields[k]
		if v == nil || *v == "" {
			if existed {
				if _, err := tx.exec(ctx, `DELETE FROM contact_fields WHERE contact_id = ? AND field_id = ?`, contactID, fid); err != nil {
					return err
				}
			}
			continue
		}
		val := *v
		if len(val) > 255 {
			val = val[:255]
		}
		if _, err := tx.exec(ctx, `INSERT INTO contact_fields (contact_id, field_id, value) VALUES (?, ?, ?)
			ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value`, contactID, fid, val); err != nil {
			return err
		}
	}
	return nil
}

// DeactivateContactsNotIn deactivates the org's active contacts whose UUID is not
// in seen (the end of a complete full pull). It returns how many it deactivated.
func (db *DB) DeactivateContactsNotIn(ctx context.Context, orgID int64, seen map[string]bool) (int, error) {
	n := 0
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		// Contacts created here and not yet in RapidPro are not missing.
		rows, err := tx.QueryContext(ctx, `SELECT id, uuid, coalesce(region_id, 0) FROM contacts WHERE org_id = ? AND is_active = 1 AND local_only = 0`, orgID)
		if err != nil {
			return err
		}
		var drop []int64
		moves := map[int64]contactMove{}
		for rows.Next() {
			var id, region int64
			var u string
			rows.Scan(&id, &u, &region)
			if !seen[u] {
				drop = append(drop, id)
				moves[id] = contactMove{oldActive: true, oldRegion: region, newRegion: region}
			}
		}
		rows.Close()
		sc := newStmtCache(tx)
		defer sc.close()
		for _, id := range drop {
			if _, err := sc.exec(ctx, `UPDATE contacts SET is_active = 0, modified_on = ? WHERE id = ?`, NowMs(), id); err != nil {
				return err
			}
		}
		n = len(drop)
		return moveContacts(ctx, tx, orgID, moves)
	})
	return n, err
}

// ContactSummary is a light view of a contact for listings and checks.
type ContactSummary struct {
	ID       int64
	UUID     string
	Name     string
	URN      string
	RegionID int64
	Active   bool
	Cohorts  []int64
}

// ListContacts returns every contact of the org with panel and cohorts, by id.
func (db *DB) ListContacts(ctx context.Context, orgID int64) ([]ContactSummary, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.uuid, c.name, c.urn, coalesce(c.region_id, 0), c.is_active,
		coalesce((SELECT group_concat(cohort_id) FROM contact_cohorts cc WHERE cc.contact_id = c.id), '')
		FROM contacts c WHERE c.org_id = ? ORDER BY c.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ContactSummary
	for rows.Next() {
		var c ContactSummary
		var cohorts string
		if err := rows.Scan(&c.ID, &c.UUID, &c.Name, &c.URN, &c.RegionID, &c.Active, &cohorts); err != nil {
			return nil, err
		}
		for _, s := range strings.Split(cohorts, ",") {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				c.Cohorts = append(c.Cohorts, id)
			}
		}
		sort.Slice(c.Cohorts, func(i, j int) bool { return c.Cohorts[i] < c.Cohorts[j] })
		out = append(out, c)
	}
	return out, rows.Err()
}

// stmtCache prepares each statement once per transaction. Statements on
// tables with counter triggers (contacts, contact_cohorts, contact_fields)
// compile those triggers when prepared: preparing them for every contact cost
// ≈ 0.25 ms a statement (5,000 contacts with 6 fields: 8 s instead of 0.4 s).
type stmtCache struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

func newStmtCache(tx *sql.Tx) *stmtCache { return &stmtCache{tx: tx, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st := c.m[query]
	if st == nil {
		var err error
		if st, err = c.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		c.m[query] = st
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) close() {
	for _, st := range c.m {
		st.Close()
	}
}

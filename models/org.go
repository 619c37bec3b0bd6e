package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Org is a TracPro organisation bound to one RapidPro workspace.
type Org struct {
	ID            int64
	Name          string
	Subdomain     string
	Timezone      string
	Language      string
	Languages     []string
	RapidProURL   string
	APIToken      string
	SameDay       string // use_last | sum
	ShowSpoofData bool
	AdminPasskeys bool
	IsActive      bool
	CreatedAt     int64
}

// Location returns the org's time zone (UTC when unknown).
func (o *Org) Location() *time.Location {
	if loc, err := time.LoadLocation(o.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// LocalDate formats t as the org-local calendar day YYYY-MM-DD.
func (o *Org) LocalDate(t time.Time) string { return t.In(o.Location()).Format("2006-01-02") }

// NewOrg is the input of CreateOrg.
type NewOrg struct {
	Name        string
	Subdomain   string
	RapidProURL string
	Token       string
	Timezone    string
	Language    string
	Languages   []string
}

var subdomainRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// SupportedLanguages are the UI languages TracPro ships.
var SupportedLanguages = []string{"en", "fr", "es", "fa", "ps"}

// Validate checks the input and fills defaults.
func (n *NewOrg) Validate() error {
	n.Name = strings.TrimSpace(n.Name)
	n.Subdomain = strings.ToLower(strings.TrimSpace(n.Subdomain))
	n.RapidProURL = strings.TrimRight(strings.TrimSpace(n.RapidProURL), "/")
	n.Token = strings.TrimSpace(n.Token)
	if n.Name == "" {
		return InvalidField("name", "The name is required.")
	}
	if !subdomainRe.MatchString(n.Subdomain) || n.Subdomain == "www" {
		return InvalidField("subdomain", "The subdomain must be lowercase letters, digits and hyphens (not \"www\").")
	}
	u, err := url.Parse(n.RapidProURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return InvalidField("rapidpro-url", "The RapidPro URL must be an http(s) URL such as https://app.rapidpro.io.")
	}
	if n.Token == "" {
		return InvalidField("token", "The API token is required.")
	}
	if n.Timezone == "" {
		n.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(n.Timezone); err != nil {
		return InvalidField("timezone", "Unknown time zone. Use an IANA name such as Africa/Kigali.")
	}
	if len(n.Languages) == 0 {
		n.Languages = []string{"en"}
	}
	for _, l := range n.Languages {
		if !contains(SupportedLanguages, l) {
			return InvalidField("languages", "Choose languages among en, fr, es, fa and ps.")
		}
	}
	if n.Language == "" {
		n.Language = n.Languages[0]
	}
	if !contains(n.Languages, n.Language) {
		return InvalidField("language", "The default language must be one of the available languages.")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CreateOrg validates and stores a new org.
func (db *DB) CreateOrg(ctx context.Context, n NewOrg) (*Org, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	langs, _ := json.Marshal(n.Languages)
	now := NowMs()
	res, err := db.ExecContext(ctx, `INSERT INTO orgs (name, subdomain, timezone, language, languages, rapidpro_url, api_token, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, n.Name, n.Subdomain, n.Timezone, n.Language, string(langs), n.RapidProURL, n.Token, now, now)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return nil, &Error{Code: CodeConflict, Field: "subdomain", Message: "An organization with this subdomain already exists."}
		}
		return nil, err
	}
	id, _ := res.LastInsertId()
	return db.OrgByID(ctx, id)
}

const orgCols = `id, name, subdomain, timezone, language, languages, rapidpro_url, api_token, sameday, show_spoof_data, admin_passkeys, is_active, created_at`

func scanOrg(row interface{ Scan(...any) error }) (*Org, error) {
	var o Org
	var langs string
	if err := row.Scan(&o.ID, &o.Name, &o.Subdomain, &o.Timezone, &o.Language, &langs, &o.RapidProURL, &o.APIToken, &o.SameDay, &o.ShowSpoofData, &o.AdminPasskeys, &o.IsActive, &o.CreatedAt); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(langs), &o.Languages)
	return &o, nil
}

// OrgByID loads one org.
func (db *DB) OrgByID(ctx context.Context, id int64) (*Org, error) {
	o, err := scanOrg(db.QueryRowContext(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("no org with id %d", id)
	}
	return o, err
}

// OrgByRef loads an org by numeric id or subdomain.
func (db *DB) OrgByRef(ctx context.Context, ref string) (*Org, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return db.OrgByID(ctx, id)
	}
	o, err := scanOrg(db.QueryRowContext(ctx, `SELECT `+orgCols+` FROM orgs WHERE subdomain = ?`, strings.ToLower(ref)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("no org %q", ref)
	}
	return o, err
}

// ListOrgs returns every org, active ones only when activeOnly.
func (db *DB) ListOrgs(ctx context.Context, activeOnly bool) ([]*Org, error) {
	q := `SELECT ` + orgCols + ` FROM orgs`
	if activeOnly {
		q += ` WHERE is_active = 1`
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// SetOrgTimezone stores the org's time zone (e.g. read from RapidPro's org.json).
func (db *DB) SetOrgTimezone(ctx context.Context, orgID int64, tz string) error {
	if _, err := time.LoadLocation(tz); err != nil {
		return InvalidField("timezone", "unknown time zone %q", tz)
	}
	_, err := db.ExecContext(ctx, `UPDATE orgs SET timezone = ?, updated_at = ? WHERE id = ?`, tz, NowMs(), orgID)
	return err
}

// OrgSettings is the full site-management input of an org: the creation
// fields plus the switches only superusers set.
type OrgSettings struct {
	NewOrg
	SameDay       string // use_last | sum
	ShowSpoofData bool
	AdminPasskeys bool
	IsActive      bool
}

// Validate checks the input and fills defaults.
func (s *OrgSettings) Validate() error {
	if err := s.NewOrg.Validate(); err != nil {
		return err
	}
	if s.SameDay == "" {
		s.SameDay = "use_last"
	}
	if s.SameDay != "use_last" && s.SameDay != "sum" {
		return InvalidField("sameday", "Choose how answers of the same day are counted.")
	}
	return nil
}

// SaveOrg creates (id 0) or updates an org from site management.
func (db *DB) SaveOrg(ctx context.Context, id int64, s OrgSettings) (*Org, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if id == 0 {
		o, err := db.CreateOrg(ctx, s.NewOrg)
		if err != nil {
			return nil, err
		}
		id = o.ID
	}
	langs, _ := json.Marshal(s.Languages)
	_, err := db.ExecContext(ctx, `UPDATE orgs SET name = ?, subdomain = ?, timezone = ?, language = ?, languages = ?, rapidpro_url = ?, api_token = ?,
		sameday = ?, show_spoof_data = ?, admin_passkeys = ?, is_active = ?, updated_at = ? WHERE id = ?`,
		s.Name, s.Subdomain, s.Timezone, s.Language, string(langs), s.RapidProURL, s.Token,
		s.SameDay, boolInt(s.ShowSpoofData), boolInt(s.AdminPasskeys), boolInt(s.IsActive), NowMs(), id)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return nil, &Error{Code: CodeConflict, Field: "subdomain", Message: "An organization with this subdomain already exists."}
		}
		return nil, err
	}
	return db.OrgByID(ctx, id)
}

// EditOrg is what an org's administrators change about it ("Edit my
// organization"): name, time zone and the contact fields shown in TracPro.
type EditOrg struct {
	Name          string
	Timezone      string
	VisibleFields []string // data field keys
}

// UpdateOrgByAdmin validates and stores an administrator's edit.
func (db *DB) UpdateOrgByAdmin(ctx context.Context, orgID int64, e EditOrg) error {
	e.Name = strings.TrimSpace(e.Name)
	if e.Name == "" {
		return InvalidField("name", "The name is required.")
	}
	if _, err := time.LoadLocation(e.Timezone); err != nil || e.Timezone == "" {
		return InvalidField("timezone", "Unknown time zone. Use an IANA name such as Africa/Kigali.")
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE orgs SET name = ?, timezone = ?, updated_at = ? WHERE id = ?`, e.Name, e.Timezone, NowMs(), orgID); err != nil {
			return err
		}
		// One statement that changes only the fields whose visibility changes:
		// showing a field builds its counters (migrations/0006), hiding drops them.
		keys, err := json.Marshal(append([]string{}, e.VisibleFields...)) // [] rather than null
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE data_fields SET show_on_tracpro = coalesce(key IN (SELECT value FROM json_each(?1)), 0)
			WHERE org_id = ?2 AND show_on_tracpro IS NOT coalesce(key IN (SELECT value FROM json_each(?1)), 0)`, string(keys), orgID)
		return err
	})
}

// PullSummary is what "My organization" shows about one pulled resource.
type PullSummary struct {
	Resource    string
	LastSuccess int64 // ms, 0 = never
	Items       int   // of the last successful pull
	LastError   int64 // ms of the newest failed pull, 0 = none
	ErrorKind   string
	Error       string
	// The newest pull that skipped records: when, how many, and how many by
	// reason (jobs/skips.go). SkippedAt 0 = no pull skipped any.
	SkippedAt int64
	Skipped   int
	Skips     map[string]int
}

// OrgPullSummaries returns, per resource ever pulled, the newest successful
// and the newest failed pull.
func (db *DB) OrgPullSummaries(ctx context.Context, orgID int64) (map[string]*PullSummary, error) {
	rows, err := db.QueryContext(ctx, `SELECT resource, status, coalesce(finished_at, 0), items, error_kind, error FROM sync_runs s
		WHERE org_id = ? AND status IN ('ok', 'error')
		AND id = (SELECT max(id) FROM sync_runs t WHERE t.org_id = s.org_id AND t.resource = s.resource AND t.status = s.status)`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*PullSummary{}
	for rows.Next() {
		var res, status, kind, msg string
		var at int64
		var items int
		if err := rows.Scan(&res, &status, &at, &items, &kind, &msg); err != nil {
			return nil, err
		}
		ps := out[res]
		if ps == nil {
			ps = &PullSummary{Resource: res}
			out[res] = ps
		}
		if status == "ok" {
			ps.LastSuccess, ps.Items = at, items
		} else {
			ps.LastError, ps.ErrorKind, ps.Error = at, kind, msg
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT resource, coalesce(finished_at, 0), skipped, skips FROM sync_runs
		WHERE id IN (SELECT max(id) FROM sync_runs WHERE org_id = ? AND skipped > 0 GROUP BY resource)`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var res, skips string
		var at int64
		var n int
		if err := rows.Scan(&res, &at, &n, &skips); err != nil {
			return nil, err
		}
		ps := out[res]
		if ps == nil {
			ps = &PullSummary{Resource: res}
			out[res] = ps
		}
		ps.SkippedAt, ps.Skipped = at, n
		if err := json.Unmarshal([]byte(skips), &ps.Skips); err != nil {
			return nil, fmt.Errorf("sync run skips %q: %w", skips, err)
		}
	}
	return out, rows.Err()
}

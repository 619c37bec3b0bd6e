package models

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// ContactListRow is one row of the contact list.
type ContactListRow struct {
	ID      int64
	Name    string
	URN     string
	Panel   string
	Cohorts string // names, comma separated
	Pending bool   // a push to RapidPro is pending
	Marks   []string
}

// ContactListRun is a poll run heading the contact list's answered/pending
// columns.
type ContactListRun struct {
	ID        int64
	Poll      string
	LocalDate string
	Spoofed   bool // a spoofed poll run (SPEC §3.6), marked in its column
}

// ContactPage is a page of the contact list.
type ContactPage struct {
	Rows  []ContactListRow
	Total int
	Runs  []ContactListRun // the 3 newest poll runs in scope, when a panel is selected
}

// likeEscape escapes LIKE wildcards (ESCAPE '\').
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListContactPage returns a page of the active contacts in the scope's data
// panels, by name, whose name or URN contains search — or whose phone number
// is search read as a number of the org's country (0788 123 456 finds
// tel:+250788123456 in Rwanda); with a panel selected,
// each row carries "answered" or "pending" for the three newest poll runs
// visible in the scope (SPEC §2.3).
func (db *DB) ListContactPage(ctx context.Context, orgID int64, scope *Scope, search, country string, page, per int) (*ContactPage, error) {
	where := `c.org_id = ? AND c.is_active = 1 AND c.region_id IS NOT NULL AND ` + panelScope(scope, "c.region_id")
	args := []any{orgID}
	if s := strings.TrimSpace(search); s != "" {
		pat := "%" + likeEscape(s) + "%"
		match := `c.name LIKE ? ESCAPE '\' OR c.urn LIKE ? ESCAPE '\'`
		args = append(args, pat, pat)
		if phone, err := NormalizeURN("tel", s, country); err == nil {
			match += ` OR c.urn = ?`
			args = append(args, phone)
		}
		where += ` AND (` + match + `)`
	}
	out := &ContactPage{}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM contacts c WHERE `+where, args...).Scan(&out.Total); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.name, c.urn, coalesce(r.name, ''),
		coalesce((SELECT group_concat(g.name, ', ') FROM (SELECT g.name FROM contact_cohorts cc JOIN cohorts g ON g.id = cc.cohort_id
			WHERE cc.contact_id = c.id AND g.is_active = 1 ORDER BY lower(g.name)) g), ''),
		EXISTS (SELECT 1 FROM outbox o WHERE o.org_id = c.org_id AND o.ordering_key = 'contact:' || c.id AND o.state = 'pending')
		FROM contacts c LEFT JOIN regions r ON r.id = c.region_id WHERE `+where+`
		ORDER BY lower(c.name), c.id LIMIT ? OFFSET ?`, append(args, per, (max(page, 1)-1)*per)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r ContactListRow
		if err := rows.Scan(&r.ID, &r.Name, &r.URN, &r.Panel, &r.Cohorts, &r.Pending); err != nil {
			return nil, err
		}
		out.Rows = append(out.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if scope == nil || scope.AllPanels() || len(out.Rows) == 0 {
		return out, nil
	}
	runs, err := db.QueryContext(ctx, `SELECT pr.id, coalesce(nullif(p.name, ''), p.rapidpro_name), pr.local_date, pr.pollrun_type = 's' FROM pollruns pr
		JOIN polls p ON p.id = pr.poll_id WHERE pr.org_id = ? AND p.is_active = 1 AND `+scope.PollrunFilter("pr")+` AND `+scope.HasParticipants("pr")+`
		ORDER BY pr.conducted_on DESC, pr.id DESC LIMIT 3`, orgID)
	if err != nil {
		return nil, err
	}
	for runs.Next() {
		var r ContactListRun
		if err := runs.Scan(&r.ID, &r.Poll, &r.LocalDate, &r.Spoofed); err != nil {
			runs.Close()
			return nil, err
		}
		out.Runs = append(out.Runs, r)
	}
	runs.Close()
	if len(out.Runs) == 0 {
		return out, nil
	}
	ids := make([]string, len(out.Rows))
	for i, r := range out.Rows {
		ids[i] = strconv.FormatInt(r.ID, 10)
	}
	answered := map[[2]int64]bool{}
	for _, run := range out.Runs {
		rs, err := db.QueryContext(ctx, `SELECT contact_id FROM responses WHERE pollrun_id = ? AND is_active = 1 AND status = 'C'
			AND contact_id IN (`+strings.Join(ids, ",")+`)`, run.ID)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			var cid int64
			rs.Scan(&cid)
			answered[[2]int64{run.ID, cid}] = true
		}
		rs.Close()
	}
	for i := range out.Rows {
		for _, run := range out.Runs {
			m := "pending"
			if answered[[2]int64{run.ID, out.Rows[i].ID}] {
				m = "answered"
			}
			out.Rows[i].Marks = append(out.Rows[i].Marks, m)
		}
	}
	return out, nil
}

// ContactDetail is a contact as its page and its form show it.
type ContactDetail struct {
	ID           int64
	UUID         string
	Name         string
	URN          string
	RegionID     int64
	Panel        string
	Language     string
	LocalOnly    bool
	CreatedBy    string
	CreatedOn    int64
	Cohorts      []int64
	CohortNames  string
	Fields       map[string]string // key → value, every stored field
	LastResponse int64             // unix ms, 0 = none
	LastPoll     string
}

// ContactDetail returns an active contact of the org in the scope's panels
// (not found otherwise).
func (db *DB) ContactDetail(ctx context.Context, orgID, id int64, scope *Scope) (*ContactDetail, error) {
	d := &ContactDetail{Fields: map[string]string{}}
	err := db.QueryRowContext(ctx, `SELECT c.id, c.uuid, c.name, c.urn, c.region_id, coalesce(r.name, ''), c.language, c.local_only,
		coalesce(nullif(u.full_name, ''), u.email, ''), c.created_on
		FROM contacts c LEFT JOIN regions r ON r.id = c.region_id LEFT JOIN users u ON u.id = c.created_by
		WHERE c.org_id = ? AND c.id = ? AND c.is_active = 1 AND c.region_id IS NOT NULL AND `+panelScope(scope, "c.region_id"), orgID, id).
		Scan(&d.ID, &d.UUID, &d.Name, &d.URN, &d.RegionID, &d.Panel, &d.Language, &d.LocalOnly, &d.CreatedBy, &d.CreatedOn)
	if err == sql.ErrNoRows {
		return nil, NotFound("no such contact")
	} else if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT g.id, g.name, g.is_active FROM contact_cohorts cc JOIN cohorts g ON g.id = cc.cohort_id
		WHERE cc.contact_id = ? ORDER BY lower(g.name)`, id)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var gid int64
		var name string
		var active bool
		rows.Scan(&gid, &name, &active)
		d.Cohorts = append(d.Cohorts, gid)
		if active {
			names = append(names, name)
		}
	}
	rows.Close()
	d.CohortNames = strings.Join(names, ", ")
	rows, err = db.QueryContext(ctx, `SELECT f.key, coalesce(cf.value, '') FROM contact_fields cf JOIN data_fields f ON f.id = cf.field_id WHERE cf.contact_id = ?`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k, v string
		rows.Scan(&k, &v)
		d.Fields[k] = v
	}
	rows.Close()
	err = db.QueryRowContext(ctx, `SELECT r.updated_on, coalesce(nullif(p.name, ''), p.rapidpro_name) FROM pollruns pr
		CROSS JOIN responses r JOIN polls p ON p.id = pr.poll_id
		WHERE pr.org_id = ? AND r.pollrun_id = pr.id AND r.contact_id = ? AND r.is_active = 1 AND r.status <> 'E'
		ORDER BY r.updated_on DESC LIMIT 1`, orgID, id).Scan(&d.LastResponse, &d.LastPoll)
	if err != nil && err != sql.ErrNoRows {
		return nil, err
	}
	return d, nil
}

package models

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// ExportDateFormat is the Date column's format (SPEC §5), org-local.
const ExportDateFormat = "Jan 02, 2006 15:04"

// exportFlushRows is how many rows are written between flushes of the stream.
const exportFlushRows = 500

// NeutraliseCell guards a CSV cell against formula injection: a cell that
// begins with '=', '+', '-', '@', a tab or a carriage return gets a leading
// single quote ('), so a spreadsheet shows it as text instead of evaluating
// it. Such values (e.g. "-3" or "=SUM(A1)") therefore read "'-3", "'=SUM(A1)".
func NeutraliseCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// ExportResponses writes SPEC §5's CSV of a poll's responses to w: the
// responses of one poll run (pollrunID ≠ 0) or of every poll run of the poll
// visible in scope, updated on or after since (zero = no bound), excluding
// empty responses but including inactive (repeat) ones, from active contacts
// in the scope's panels (nil scope = the whole org), newest first.
//
// Columns: Date (updated_on, org-local "Jan 02, 2006 15:04"), Name, URN (with
// its scheme), Panel, Cohorts (active cohort names sorted, ", "-joined), then
// one column per active question (header = display name, cell = the raw answer
// value). Every cell goes through NeutraliseCell. Rows are streamed, flushed
// every few hundred; it returns how many were written.
func (db *DB) ExportResponses(ctx context.Context, w io.Writer, org *Org, pollID, pollrunID int64, since time.Time, scope *Scope) (int, error) {
	all, err := db.PollQuestions(ctx, pollID)
	if err != nil {
		return 0, err
	}
	questions := ActiveQuestions(all)
	col := make(map[int64]int, len(questions))
	header := []string{"Date", "Name", "URN", "Panel", "Cohorts"}
	for i, q := range questions {
		col[q.ID] = i
		header = append(header, NeutraliseCell(q.DisplayName()))
	}

	where := ` WHERE pr.org_id = ? AND pr.poll_id = ? AND ` + pollrunScope(scope, "pr") + ` AND r.pollrun_id = pr.id
		AND r.status <> 'E' AND c.is_active = 1 AND ` + panelScope(scope, "c.region_id")
	args := []any{org.ID, pollID}
	if pollrunID != 0 {
		where += ` AND pr.id = ?`
		args = append(args, pollrunID)
	}
	if !since.IsZero() {
		where += ` AND r.updated_on >= ?`
		args = append(args, Ms(since))
	}
	from := ` FROM pollruns pr CROSS JOIN responses r JOIN contacts c ON c.id = r.contact_id`

	// Cohort names of the contacts exported, in one query.
	cohorts := map[int64]string{}
	rows, err := db.QueryContext(ctx, `SELECT cc.contact_id, group_concat(co.name, char(31)) FROM contact_cohorts cc JOIN cohorts co ON co.id = cc.cohort_id
		WHERE co.is_active = 1 AND cc.contact_id IN (SELECT r.contact_id`+from+where+`) GROUP BY cc.contact_id`, args...)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id int64
		var names string
		if err := rows.Scan(&id, &names); err != nil {
			rows.Close()
			return 0, err
		}
		cohorts[id] = joinCohorts(names)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}

	bw := bufio.NewWriterSize(w, 32<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	rows, err = db.QueryContext(ctx, `SELECT r.id, r.updated_on, c.id, c.name, c.urn, coalesce(rg.name, ''), a.question_id, a.value`+from+`
		LEFT JOIN regions rg ON rg.id = c.region_id LEFT JOIN answers a ON a.response_id = r.id`+where+`
		ORDER BY r.updated_on DESC, r.id DESC`, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	loc := org.Location()
	record := make([]string, len(header))
	var n int
	var cur int64 = -1
	flush := func() error {
		if cur < 0 {
			return nil
		}
		if err := cw.Write(record); err != nil {
			return err
		}
		n++
		if n%exportFlushRows == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		return nil
	}
	for rows.Next() {
		var id, updated, contact int64
		var name, urn, panel string
		var qid *int64
		var value *string
		if err := rows.Scan(&id, &updated, &contact, &name, &urn, &panel, &qid, &value); err != nil {
			return n, err
		}
		if id != cur {
			if err := flush(); err != nil {
				return n, err
			}
			cur = id
			for i := range record {
				record[i] = ""
			}
			record[0] = time.UnixMilli(updated).In(loc).Format(ExportDateFormat)
			record[1] = NeutraliseCell(name)
			record[2] = NeutraliseCell(urn)
			record[3] = NeutraliseCell(panel)
			record[4] = NeutraliseCell(cohorts[contact])
		}
		if qid != nil && value != nil {
			if i, ok := col[*qid]; ok {
				record[5+i] = NeutraliseCell(*value)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if err := flush(); err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// ParseExportSince reads a YYYY-MM-DD date as the org-local midnight.
func ParseExportSince(org *Org, s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", s, org.Location())
	if err != nil {
		return time.Time{}, Invalid("--since %q is not a date (YYYY-MM-DD)", s)
	}
	return t, nil
}

// PollByRef finds one of the org's polls by id or by name (display or
// RapidPro name, case-insensitive).
func (db *DB) PollByRef(ctx context.Context, orgID int64, ref string) (*Poll, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if p, err := db.PollByID(ctx, orgID, id); err == nil {
			return p, nil
		}
	}
	polls, err := db.ListPolls(ctx, orgID, false)
	if err != nil {
		return nil, err
	}
	for i := range polls {
		if strings.EqualFold(polls[i].DisplayName(), ref) || strings.EqualFold(polls[i].RapidProName, ref) {
			return &polls[i], nil
		}
	}
	return nil, NotFound("no poll %q in this org", ref)
}

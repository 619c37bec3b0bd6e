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
// value). Every cell goes through NeutraliseCell. Rows are streamed (one
// query, one row per response), flushed every few hundred; it returns how
// many were written.
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
	// Spoofed poll runs (SPEC §3.6) are marked: when the export holds any, a
	// last column "Spoofed" says "yes" on their rows (exports of real poll
	// runs keep SPEC §5's columns).
	var spoofed bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pollruns pr WHERE pr.org_id = ? AND pr.poll_id = ? AND pr.pollrun_type = 's'
		AND `+pollrunScope(scope, "pr")+pollrunOnly(pollrunID)+`)`, append([]any{org.ID, pollID}, pollrunArg(pollrunID)...)...).Scan(&spoofed); err != nil {
		return 0, err
	}
	if spoofed {
		header = append(header, "Spoofed")
	}

	// Every response of the poll runs is read, so they are read in the
	// order of responses_pollrun and sorted (measured 35 % faster than
	// reading them in date order through responses_pollrun_updated, which
	// serves the responses tab's pages of 50).
	// One row per response: its cohorts' names (char(31)-separated) and
	// its answers as "<question id>:<byte length>:<value>" pieces, so any
	// value (separators included) comes back intact.
	rows, err := db.QueryContext(ctx, `SELECT r.updated_on, pr.pollrun_type = 's', c.name, c.urn, coalesce(rg.name, ''),
		coalesce((SELECT group_concat(co.name, char(31)) FROM contact_cohorts cc JOIN cohorts co ON co.id = cc.cohort_id
			WHERE cc.contact_id = c.id AND co.is_active = 1), ''),
		coalesce((SELECT group_concat(a.question_id || ':' || length(CAST(a.value AS BLOB)) || ':' || a.value, '') FROM answers a
			WHERE a.response_id = r.id), '')
		FROM pollruns pr CROSS JOIN responses r INDEXED BY responses_pollrun JOIN contacts c ON c.id = r.contact_id LEFT JOIN regions rg ON rg.id = c.region_id`+where+`
		ORDER BY r.updated_on DESC, r.id DESC`, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	loc := org.Location()
	record := make([]string, len(header))
	var n int
	var lastMinute int64 = -1
	var lastDate string
	var updated int64
	var isSpoof bool
	var name, urn, panel, cohorts, answers []byte
	joined := map[string]string{} // cohort lists seen, joined (few distinct)
	for rows.Next() {
		if err := rows.Scan(&updated, &isSpoof, &name, &urn, &panel, &cohorts, &answers); err != nil {
			return n, err
		}
		if m := updated / 60000; m != lastMinute { // the date has minute precision
			lastMinute, lastDate = m, time.UnixMilli(updated).In(loc).Format(ExportDateFormat)
		}
		for i := range record {
			record[i] = ""
		}
		record[0] = lastDate
		record[1] = NeutraliseCell(string(name))
		record[2] = NeutraliseCell(string(urn))
		record[3] = NeutraliseCell(string(panel))
		if len(cohorts) > 0 {
			j, ok := joined[string(cohorts)]
			if !ok {
				j = NeutraliseCell(joinCohorts(string(cohorts)))
				joined[string(cohorts)] = j
			}
			record[4] = j
		}
		for rest := answers; len(rest) > 0; {
			qid, value, tail, ok := nextAnswer(rest)
			if !ok {
				return n, Invalid("export: malformed answers of a response")
			}
			if i, ok := col[qid]; ok {
				record[5+i] = NeutraliseCell(string(value))
			}
			rest = tail
		}
		if isSpoof {
			record[len(record)-1] = "yes"
		}
		if err := cw.Write(record); err != nil {
			return n, err
		}
		n++
		if n%exportFlushRows == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return n, err
			}
			if err := bw.Flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// nextAnswer splits "<question id>:<byte length>:<value>" off b.
func nextAnswer(b []byte) (qid int64, value, rest []byte, ok bool) {
	i, size := 0, 0
	for i < len(b) && b[i] != ':' {
		qid = qid*10 + int64(b[i]-'0')
		i++
	}
	i++
	for i < len(b) && b[i] != ':' {
		size = size*10 + int(b[i]-'0')
		i++
	}
	i++
	if i > len(b) || i+size > len(b) {
		return 0, nil, nil, false
	}
	return qid, b[i : i+size], b[i+size:], true
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

// pollrunOnly is the condition on pr of an export of one poll run (none for 0).
func pollrunOnly(pollrunID int64) string {
	if pollrunID == 0 {
		return ""
	}
	return ` AND pr.id = ?`
}

// pollrunArg is pollrunOnly's argument.
func pollrunArg(pollrunID int64) []any {
	if pollrunID == 0 {
		return nil
	}
	return []any{pollrunID}
}

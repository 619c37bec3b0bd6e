package models

import (
	"context"
)

// The baseline of an indicator from first_counters (migrations/0014): per
// poll × question × panel the contacts who responded to the poll (question
// 0), those who answered the question, and the sum of each one's earliest
// answer when it is a number. Those totals are over every poll run of the
// poll, so they answer for the chosen poll runs only when the poll runs left
// out (by the date window or the scope) hold no response of a contact of the
// panels: then every responding contact's responses, and so its earliest
// answer, are among the chosen ones.

// baselineCounted fills the baseline figures from the counters and reports
// true, or reports false (nothing changed) when they do not apply: field
// filters, raw rows asked for, a question no longer numeric, a poll that is
// no stored indicator's baseline poll, or responses of the panels' contacts
// in poll runs left out.
func (db *DB) baselineCounted(ctx context.Context, pollID, questionID int64, prs []PollrunRef, f ChartFilter, panels []int64, sum bool,
	keep func(int64) bool, answered map[int64]bool, rep *IndicatorReport) (bool, error) {
	if f.filtered() || f.rawRows {
		return false, nil
	}
	panelIn := idList(panels)
	// first_answers keeps the numeric questions of indicators' baseline polls
	// only (the question may have been given another type since; the
	// indicator may be one being drafted).
	var leftOut int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT question_type <> 'N' FROM questions WHERE id = ?)
		OR NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = ?) OR EXISTS (SELECT 1 FROM pollruns pr CROSS JOIN response_counters k
		WHERE pr.poll_id = ? AND pr.id NOT IN (`+idList(pollrunIDs(prs))+`) AND k.pollrun_id = pr.id AND k.region_id IN (`+panelIn+`)
		AND k.empty + k.partial + k.complete > 0)`, questionID, pollID, pollID).Scan(&leftOut); err != nil {
		return false, err
	}
	if leftOut != 0 {
		return false, nil
	}
	n, total := "n_last", "sum_last"
	if sum {
		n, total = "n_sum", "sum_sum"
	}
	rows, err := db.QueryContext(ctx, `SELECT question_id, region_id, contacts, `+n+`, `+total+` FROM first_counters
		WHERE poll_id = ? AND question_id IN (0, ?) AND region_id IN (`+panelIn+`) AND contacts > 0`, pollID, questionID)
	if err != nil {
		return false, err
	}
	var responded, answeredN, numeric int
	var base float64
	var kept []int64
	for rows.Next() {
		var q, region int64
		var contacts, nums int
		var s float64
		if err := rows.Scan(&q, &region, &contacts, &nums, &s); err != nil {
			rows.Close()
			return false, err
		}
		if q != 0 {
			answered[region] = true
		}
		if !keep(region) {
			continue
		}
		if q == 0 {
			responded += contacts
			continue
		}
		kept = append(kept, region)
		answeredN += contacts
		numeric += nums
		base += s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	rep.BaselineResponded += responded
	rep.BaselineAnswered += answeredN
	rep.Baseline += base
	if numeric == answeredN {
		return true, nil
	}
	// The contacts whose earliest answer is not a number: their earliest
	// numeric answer counts (all their responses are in the chosen poll runs).
	isNull := "last_num IS NULL"
	if sum {
		isNull = "sum_num IS NULL"
	}
	rows, err = db.QueryContext(ctx, `SELECT contact_id FROM first_answers
		WHERE question_id <> 0 AND (last_num IS NULL OR sum_num IS NULL) AND question_id = ? AND region_id IN (`+idList(kept)+`)
		AND `+isNull+` AND poll_id = ? AND counted = 1`, questionID, pollID)
	if err != nil {
		return false, err
	}
	var again []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return false, err
		}
		again = append(again, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	return true, db.earliestNumbers(ctx, questionID, idList(pollrunIDs(prs)), sum, again, rep)
}

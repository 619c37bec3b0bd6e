package models

import "context"

// ValueCount is one distinct answer value and how many answers have it.
type ValueCount struct {
	Value string
	N     int
}

// AnswerValueCounts is AnswerValues without a limit, grouped by value: the
// distinct value_to_use of a question's answers in those poll runs and their
// counts, for histograms. Counting in SQL returns a few dozen rows instead of
// every answer (a poll run of 18,000 answers: ≈ 60 distinct values).
func (db *DB) AnswerValueCounts(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter) ([]ValueCount, error) {
	qtype, sum, err := db.questionOrg(ctx, questionID, f.Scope.OrgID)
	if err != nil {
		return nil, err
	}
	panels := f.panels()
	if len(prs) == 0 || len(panels) == 0 {
		return nil, nil
	}
	col := "a.value"
	if qtype == QuestionNumeric {
		col = "coalesce(a.last_value, a.value)"
		if sum {
			col = "coalesce(a.sum_value, a.value)"
		}
	}
	ids := make([]int64, len(prs))
	for i, p := range prs {
		ids[i] = p.ID
	}
	from, args := f.from(idList(ids), idList(panels))
	rows, err := db.QueryContext(ctx, `SELECT `+col+`, count(*) `+from+` JOIN answers a ON a.response_id = r.id AND a.question_id = ?
		WHERE r.is_active = 1 AND c.is_active = 1 AND c.region_id IN (`+idList(panels)+`) GROUP BY 1`, append(args, questionID)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ValueCount
	for rows.Next() {
		var v ValueCount
		if err := rows.Scan(&v.Value, &v.N); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// StatsByPanelTop is StatsByPanel for a chart of at most max series: when
// more panels have responses in those poll runs, the max-1 with the most
// (ties: lower id first) keep their own stats and the others are added up
// exactly under panel 0 ("other panels"). Unfiltered, the ranking and the
// sums are worked out from the counters in SQL, so a split chart of "All
// panels" reads a few hundred rows instead of one per panel, poll run and
// category; with field filters it is StatsByPanel, left to the caller to
// merge.
func (db *DB) StatsByPanelTop(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter, max int) (map[int64][]QuestionStats, error) {
	panels := f.panels()
	if f.filtered() || len(prs) == 0 || len(panels) == 0 || max < 1 {
		return db.StatsByPanel(ctx, questionID, prs, f)
	}
	rows, err := db.QueryContext(ctx, `SELECT region_id FROM response_counters WHERE pollrun_id IN (`+idList(pollrunIDs(prs))+`)
		AND region_id IN (`+idList(panels)+`) GROUP BY region_id HAVING sum(empty + partial + complete) <> 0
		ORDER BY sum(empty + partial + complete) DESC, region_id`)
	if err != nil {
		return nil, err
	}
	var ranked []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ranked = append(ranked, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ranked) <= max {
		return db.StatsByPanel(ctx, questionID, prs, f)
	}
	cells, err := db.cellsKeeping(ctx, questionID, prs, f, true, ranked[:max-1])
	if err != nil {
		return nil, err
	}
	return panelLists(cells, prs), nil
}

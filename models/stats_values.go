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

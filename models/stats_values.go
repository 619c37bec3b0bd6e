package models

import (
	"context"
	"sort"
)

// NumberCount is one number among a question's answers and how many
// counted answers have it.
type NumberCount struct {
	Number float64
	N      int
}

// AnswerNumbers returns the numbers among a question's answers in those poll
// runs (the value_to_use: the last value, or the same-day sum under the org's
// "sum" setting, as models.ParseNumber reads it) with their counts, ascending,
// for histograms. Unfiltered it reads value_counters (migration 0006): a few
// dozen rows per panel instead of every answer; with field filters it counts
// the raw rows, grouped by value in SQL.
func (db *DB) AnswerNumbers(ctx context.Context, questionID int64, prs []PollrunRef, f ChartFilter) ([]NumberCount, error) {
	_, sum, err := db.questionOrg(ctx, questionID, f.Scope.OrgID)
	if err != nil {
		return nil, err
	}
	panels := f.panels()
	if len(prs) == 0 || len(panels) == 0 {
		return nil, nil
	}
	prIn, panelIn := idList(pollrunIDs(prs)), idList(panels)
	counts := map[float64]int{}
	if !f.filtered() && !f.rawRows {
		// Same-day sums: the last values' counts plus the sums' differences.
		kinds := "0"
		if sum {
			kinds = "0, 1"
		}
		rows, err := db.QueryContext(ctx, `SELECT number, sum(answers) FROM value_counters WHERE pollrun_id IN (`+prIn+`)
			AND question_id = ? AND same_day_sum IN (`+kinds+`) AND region_id IN (`+panelIn+`) GROUP BY number`, questionID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var x float64
			var n int
			if err := rows.Scan(&x, &n); err != nil {
				return nil, err
			}
			counts[x] += n
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	} else {
		col := "coalesce(a.last_value, '')"
		if sum {
			col = "coalesce(a.sum_value, '')"
		}
		from, args := f.from(prIn, panelIn)
		rows, err := db.QueryContext(ctx, `SELECT `+col+`, count(*) `+from+` JOIN answers a ON a.response_id = r.id AND a.question_id = ?
			WHERE r.is_active = 1 AND c.is_active = 1 AND c.region_id IN (`+panelIn+`) GROUP BY 1`, append(args, questionID)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			var n int
			if err := rows.Scan(&v, &n); err != nil {
				return nil, err
			}
			if x, ok := ParseNumber(v); ok {
				counts[x] += n
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]NumberCount, 0, len(counts))
	for x, n := range counts {
		if n != 0 {
			out = append(out, NumberCount{x, n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
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

package models

import (
	"context"
	"fmt"
	"time"
)

// The demo's recent indicator (SPEC §3.6), so that a newcomer finds a
// featured indicator on the home page and a filled Indicators page: in the
// simulator's "School Attendance" poll, girls present each week against the
// boys present at the start (a parity indicator: the baseline is each
// school's first count of boys, the follow-up the girls counted per poll
// run), over the whole synced history up to today.
const (
	demoIndicatorPoll     = "School Attendance"
	demoIndicatorBaseline = "Boys Present"
	demoIndicatorFollowUp = "Girls Present"
)

// CreateDemoIndicator creates the demo org's indicator from the synced
// simulator poll and returns it (an error when the org lacks the poll or its
// numeric questions).
func (db *DB) CreateDemoIndicator(ctx context.Context, org *Org) (*Indicator, error) {
	polls, err := db.ListPolls(ctx, org.ID, true)
	if err != nil {
		return nil, err
	}
	for _, p := range polls {
		if p.RapidProName != demoIndicatorPoll {
			continue
		}
		qs, err := db.IndicatorQuestions(ctx, org.ID, p.ID)
		if err != nil {
			return nil, err
		}
		var base, follow int64
		for _, q := range qs {
			switch q.RapidProName {
			case demoIndicatorBaseline:
				base = q.ID
			case demoIndicatorFollowUp:
				follow = q.ID
			}
		}
		if base == 0 || follow == 0 {
			break
		}
		var first string
		if err := db.QueryRowContext(ctx, `SELECT coalesce(min(local_date), '') FROM pollruns WHERE poll_id = ?`, p.ID).Scan(&first); err != nil {
			return nil, err
		}
		today := org.LocalDate(time.Now())
		if first == "" {
			first = today
		}
		return db.CreateIndicator(ctx, org, IndicatorInput{Name: "Girls present against the boys at the start",
			StartDate: first, EndDate: today, YAxisTitle: "Boys present at the start",
			BaselinePollID: p.ID, BaselineQuestionID: base, FollowUpPollID: p.ID, FollowUpQuestionID: follow})
	}
	return nil, fmt.Errorf("the simulator has no numeric %q and %q in the poll %q", demoIndicatorBaseline, demoIndicatorFollowUp, demoIndicatorPoll)
}

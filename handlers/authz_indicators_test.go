package handlers

import (
	"net/url"
	"strings"

	"tracpro/models"
)

// matrixIndicator gives org 1 a tracked poll with two numeric questions and
// an indicator between them, and returns the indicator's id. Indicators are
// org-wide: both supervisors may read and edit them (the figures are scoped
// to each one's panels).
func matrixIndicator(f *matrixFixture) int64 {
	if _, _, _, err := f.DB.SyncFlows(f.Ctx, f.Org1.ID, []models.FlowInfo{{UUID: "flow-m", Name: "Matrix poll"}, {UUID: "flow-i", Name: "Indicator poll"}}); err != nil {
		panic(err)
	}
	if _, err := f.DB.TrackPolls(f.Ctx, f.Org1.ID, []string{"Matrix poll", "Indicator poll"}); err != nil {
		panic(err)
	}
	p, err := f.DB.PollByRef(f.Ctx, f.Org1.ID, "Indicator poll")
	if err != nil {
		panic(err)
	}
	num := []models.Rule{{Category: "Any", Test: "number"}}
	if _, _, _, err := f.DB.SyncQuestions(f.Ctx, p.ID, []models.QuestionDef{{UUID: "node-b", ResultKey: "before", Label: "Before", Rules: num},
		{UUID: "node-a", ResultKey: "after", Label: "After", Order: 1, Rules: num}}); err != nil {
		panic(err)
	}
	qs, err := f.DB.PollQuestions(f.Ctx, p.ID)
	if err != nil || len(qs) != 2 {
		panic("matrix indicator questions")
	}
	ind, err := f.DB.CreateIndicator(f.Ctx, f.Org1, models.IndicatorInput{Name: "Matrix indicator", StartDate: "2026-01-01", EndDate: "2026-12-31",
		BaselinePollID: p.ID, BaselineQuestionID: qs[0].ID, FollowUpPollID: p.ID, FollowUpQuestionID: qs[1].ID})
	if err != nil {
		panic(err)
	}
	return ind.ID
}

// showSpoof switches org 1's show_spoof_data on (the spoof routes are 404 without it).
func showSpoof(f *matrixFixture, path string) string {
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE orgs SET show_spoof_data = 1 WHERE id = ?`, f.Org1.ID); err != nil {
		panic(err)
	}
	return path
}

func init() {
	indPath := func(format string) func(f *matrixFixture) string {
		return func(f *matrixFixture) string { return strings.Replace(format, "{ind}", sid(matrixIndicator(f)), 1) }
	}
	member := func(code int) Access {
		return Access{Anon: 303, SupA: code, SupB: code, Admin: code, OtherAdmin: 403, Super: code}
	}
	with := func(a Access, setup func(f *matrixFixture) string, form url.Values) Access {
		a.Setup, a.Form = setup, form
		return a
	}
	addMatrix(map[string]Access{
		"GET /indicators/":             member(200),
		"GET /indicators/create/":      member(200),
		"POST /indicators/create/":     member(422), // empty form
		"GET /indicators/read/:id/":    with(member(200), indPath("/indicators/read/{ind}/"), nil),
		"GET /indicators/update/:id/":  with(member(200), indPath("/indicators/update/{ind}/"), nil),
		"POST /indicators/update/:id/": with(member(422), indPath("/indicators/update/{ind}/"), nil),
		// Without confirm=1 nothing is deleted: 400.
		"POST /indicators/delete/:id/":  with(member(400), indPath("/indicators/delete/{ind}/"), nil),
		"GET /indicators/data_spoof/":   with(member(200), func(f *matrixFixture) string { return showSpoof(f, "/indicators/data_spoof/") }, nil),
		"POST /indicators/data_spoof/":  with(member(422), func(f *matrixFixture) string { return showSpoof(f, "/indicators/data_spoof/") }, nil),
		"POST /indicators/clear_spoof/": with(member(400), func(f *matrixFixture) string { return showSpoof(f, "/indicators/clear_spoof/") }, nil),
	})
}

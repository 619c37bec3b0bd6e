package handlers

import (
	"time"

	"tracpro/models"
)

// Shared setups of the authorization matrix entries (authz_<area>_test.go):
// org 1's tracked poll, a poll run of it sent to Province A, and contacts of
// District A1. They panic on error, as matrix setups do.

// matrixPoll tracks org 1's "Matrix poll" (again when it is already there)
// and returns its id.
func (f *matrixFixture) matrixPoll() int64 {
	if _, _, _, err := f.DB.SyncFlows(f.Ctx, f.Org1.ID, []models.FlowInfo{{UUID: "flow-m", Name: "Matrix poll"}}); err != nil {
		panic(err)
	}
	if _, err := f.DB.TrackPolls(f.Ctx, f.Org1.ID, []string{"Matrix poll"}); err != nil {
		panic(err)
	}
	p, err := f.DB.PollByRef(f.Ctx, f.Org1.ID, "Matrix poll")
	if err != nil {
		panic(err)
	}
	return p.ID
}

// matrixRun adds a poll run of the matrix poll sent to Province A, now, and
// returns its id.
func (f *matrixFixture) matrixRun() int64 {
	var id int64
	now := time.Now()
	if err := f.DB.QueryRowContext(f.Ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date)
		VALUES (?, ?, 'r', ?, ?, ?) RETURNING id`, f.Org1.ID, f.matrixPoll(), f.Panels["Province A"], models.Ms(now), f.Org1.LocalDate(now)).Scan(&id); err != nil {
		panic(err)
	}
	return id
}

// matrixContact syncs an org 1 contact of District A1 (created or updated
// by its UUID) and returns its id.
func (f *matrixFixture) matrixContact(uuid, name, urn string) int64 {
	if _, err := f.DB.ApplyContacts(f.Ctx, f.Org1, []models.ContactRow{{UUID: uuid, Name: name, URNs: []string{urn},
		Groups: []string{"g-org1-District A1"}, Active: true, ModifiedOn: time.Now()}}, nil); err != nil {
		panic(err)
	}
	var id int64
	if err := f.DB.QueryRowContext(f.Ctx, `SELECT id FROM contacts WHERE uuid = ?`, uuid).Scan(&id); err != nil {
		panic(err)
	}
	return id
}

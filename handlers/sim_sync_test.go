package handlers

import (
	"context"
	"io"
	"testing"

	"tracpro/jobs"
	"tracpro/models"
)

// trackAndPull tracks the simulator's groups and flows in org (panels as
// given) and pulls every resource once.
func trackAndPull(t *testing.T, ctx context.Context, s *jobs.Syncer, org *models.Org, panels, cohorts, polls []string) {
	t.Helper()
	if err := jobs.Track(ctx, s, org, panels, cohorts, polls, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, res := range jobs.Resources {
		if r := s.Pull(ctx, org, res); r.Err != nil {
			t.Fatalf("pull %s: %v", res, r.Err)
		}
	}
}

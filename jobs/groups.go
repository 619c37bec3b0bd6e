package jobs

import (
	"context"

	"tracpro/models"
	"tracpro/rapidpro"
)

// pullGroups stores every RapidPro group (the choices for panels and cohorts)
// and keeps tracked panel and cohort names in step.
func (s *Syncer) pullGroups(ctx context.Context, p *pull) error {
	var groups []models.RapidProGroup
	err := p.client.Groups(ctx, rapidpro.GroupQuery{}, func(pg rapidpro.Page[rapidpro.Group]) error {
		for _, g := range pg.Results {
			rg := models.RapidProGroup{UUID: g.UUID, Name: g.Name, Count: g.Count}
			if g.Query != nil {
				rg.Query = *g.Query
			}
			groups = append(groups, rg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.res.Items = len(groups)
	p.res.Created, p.res.Updated, err = s.DB.SyncGroups(ctx, p.org.ID, groups)
	return err
}

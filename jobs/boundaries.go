package jobs

import (
	"context"

	"tracpro/models"
	"tracpro/rapidpro"
)

// pullBoundaries stores the org's boundaries with their geometry, then links
// panels without a boundary to the boundary of the same name.
func (s *Syncer) pullBoundaries(ctx context.Context, p *pull) error {
	var bs []models.Boundary
	err := p.client.Boundaries(ctx, rapidpro.BoundaryQuery{Geometry: true}, func(pg rapidpro.Page[rapidpro.Boundary]) error {
		for _, b := range pg.Results {
			mb := models.Boundary{OSMID: b.OSMID, Name: b.Name, Level: b.Level}
			if b.Parent != nil {
				mb.ParentID = b.Parent.OSMID
			}
			if len(b.Geometry) > 0 && string(b.Geometry) != "null" {
				mb.Geometry = string(b.Geometry)
			}
			bs = append(bs, mb)
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.res.Items = len(bs)
	p.res.Created, p.res.Updated, _, err = s.DB.SyncBoundaries(ctx, p.org.ID, bs)
	if err != nil {
		return err
	}
	_, err = s.DB.LinkRegionsToBoundaries(ctx, p.org.ID)
	return err
}

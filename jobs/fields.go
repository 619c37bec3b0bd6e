package jobs

import (
	"context"

	"tracpro/models"
	"tracpro/rapidpro"
)

// pullFields stores the contact field definitions (deleting vanished ones).
func (s *Syncer) pullFields(ctx context.Context, p *pull) error {
	var fields []models.DataField
	err := p.client.Fields(ctx, rapidpro.FieldQuery{}, func(pg rapidpro.Page[rapidpro.Field]) error {
		for _, f := range pg.Results {
			fields = append(fields, models.DataField{Key: f.Key, Label: f.Name, ValueType: f.Type})
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.res.Items = len(fields)
	p.res.Created, p.res.Updated, _, err = s.DB.SyncFields(ctx, p.org.ID, fields)
	return err
}

package jobs

import (
	"context"

	"tracpro/models"
	"tracpro/rapidpro"
)

// definitionBatch is how many flows one definitions request asks for.
const definitionBatch = 20

// pullFlows upserts every flow as a poll (renames propagate, vanished flows are
// deactivated), then refreshes the questions of the tracked polls from their
// definitions (dependencies=none).
func (s *Syncer) pullFlows(ctx context.Context, p *pull) error {
	var flows []models.FlowInfo
	err := p.client.Flows(ctx, rapidpro.FlowQuery{}, func(pg rapidpro.Page[rapidpro.Flow]) error {
		for _, f := range pg.Results {
			flows = append(flows, models.FlowInfo{UUID: f.UUID, Name: f.Name, Archived: f.Archived})
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.res.Items = len(flows)
	c, u, _, err := s.DB.SyncFlows(ctx, p.org.ID, flows)
	if err != nil {
		return err
	}
	p.res.Created, p.res.Updated = c, u
	return s.syncQuestions(ctx, p)
}

// syncQuestions reads the definitions of the tracked polls and stores their questions.
func (s *Syncer) syncQuestions(ctx context.Context, p *pull) error {
	polls, err := s.DB.ListPolls(ctx, p.org.ID, true)
	if err != nil {
		return err
	}
	byFlow := map[string]int64{}
	var uuids []string
	for _, pl := range polls {
		byFlow[pl.FlowUUID] = pl.ID
		uuids = append(uuids, pl.FlowUUID)
	}
	for start := 0; start < len(uuids); start += definitionBatch {
		end := min(start+definitionBatch, len(uuids))
		defs, err := p.client.Definitions(ctx, uuids[start:end])
		if err != nil {
			return err
		}
		for _, d := range defs {
			pollID, ok := byFlow[d.UUID]
			if !ok {
				continue // a flow we did not ask for
			}
			qs := make([]models.QuestionDef, 0, len(d.Questions))
			for _, q := range d.Questions {
				qd := models.QuestionDef{UUID: q.UUID, ResultKey: q.ResultKey, Label: q.Label, Order: q.Order, Categories: q.Categories}
				for _, r := range q.Rules {
					qd.Rules = append(qd.Rules, models.Rule{Category: r.Category, Test: r.Test, Args: r.Args})
				}
				switch q.Type {
				case rapidpro.QuestionOpen:
					qd.Type = models.QuestionOpen
				case rapidpro.QuestionNumeric:
					qd.Type = models.QuestionNumeric
				case rapidpro.QuestionCategorical:
					qd.Type = models.QuestionChoice
				}
				qs = append(qs, qd)
			}
			if _, _, _, err := s.DB.SyncQuestions(ctx, pollID, qs); err != nil {
				return err
			}
		}
	}
	return nil
}

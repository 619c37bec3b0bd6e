package models

import (
	"context"
	"database/sql"
	"encoding/json"
)

// Question types (SPEC §1).
const (
	QuestionOpen      = "O"
	QuestionChoice    = "C"
	QuestionNumeric   = "N"
	QuestionMenu      = "M"
	QuestionKeypad    = "K"
	QuestionRecording = "R"
)

// Rule is one categorisation rule of a question: a test with arguments and the
// category it yields (SPEC §3.1).
type Rule struct {
	Category string   `json:"category"`
	Test     string   `json:"test"`
	Args     []string `json:"args,omitempty"`
}

// QuestionDef is a question as read from a flow definition.
type QuestionDef struct {
	UUID       string // router node / ruleset uuid
	ResultKey  string
	Label      string
	Order      int
	Rules      []Rule
	Categories []string
	Type       string // O, C or N when the definition says; "" = guess from the rules
}

var numericTests = map[string]bool{"number": true, "between": true, "eq": true, "lt": true, "lte": true, "gt": true, "gte": true}

// GuessQuestionType applies SPEC §3.1: no rules → open; every rule test numeric
// → numeric; otherwise multiple choice.
func GuessQuestionType(rules []Rule) string {
	if len(rules) == 0 {
		return QuestionOpen
	}
	for _, r := range rules {
		if !numericTests[r.Test] {
			return QuestionChoice
		}
	}
	return QuestionNumeric
}

// SyncQuestions stores a poll's questions from its definition: upsert by node
// UUID with order, label, rules and categories; the type is guessed only while
// no administrator chose one; questions that left the flow are deactivated
// (their answers stay).
func (db *DB) SyncQuestions(ctx context.Context, pollID int64, defs []QuestionDef) (created, updated, gone int, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		have, err := stringSet(ctx, tx, `SELECT ruleset_uuid FROM questions WHERE poll_id = ?`, pollID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, d := range defs {
			seen[d.UUID] = true
			typ := d.Type
			if typ == "" {
				typ = GuessQuestionType(d.Rules)
			}
			rules, _ := json.Marshal(nonNil(d.Rules))
			cats, _ := json.Marshal(nonNilS(d.Categories))
			if _, err := tx.ExecContext(ctx, `INSERT INTO questions (poll_id, ruleset_uuid, result_key, rapidpro_name, question_type, display_order, json_rules, categories)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (poll_id, ruleset_uuid) DO UPDATE SET result_key = excluded.result_key, rapidpro_name = excluded.rapidpro_name,
				display_order = CASE WHEN questions.order_set = 1 THEN questions.display_order ELSE excluded.display_order END, json_rules = excluded.json_rules, categories = excluded.categories, in_rapidpro = 1,
				is_active = CASE WHEN questions.in_rapidpro = 0 THEN 1 ELSE questions.is_active END,
				question_type = CASE WHEN questions.type_set = 1 THEN questions.question_type ELSE excluded.question_type END,
				name = CASE WHEN questions.name = excluded.rapidpro_name THEN '' ELSE questions.name END`,
				pollID, d.UUID, d.ResultKey, d.Label, typ, d.Order, string(rules), string(cats)); err != nil {
				return err
			}
			if have[d.UUID] {
				updated++
			} else {
				created++
			}
		}
		gone, err = retireMissing(ctx, tx, `UPDATE questions SET in_rapidpro = 0, is_active = 0 WHERE poll_id = ? AND ruleset_uuid = ? AND in_rapidpro = 1`, pollID, have, seen)
		return err
	})
	return
}

func nonNil(r []Rule) []Rule {
	if r == nil {
		return []Rule{}
	}
	return r
}

func nonNilS(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Question is a stored question.
type Question struct {
	ID           int64
	PollID       int64
	UUID         string
	ResultKey    string
	RapidProName string
	Name         string
	Type         string
	Order        int
	IsActive     bool
	Rules        []Rule
}

// DisplayName is the override name, else RapidPro's.
func (q *Question) DisplayName() string {
	if q.Name != "" {
		return q.Name
	}
	return q.RapidProName
}

// PollQuestions returns a poll's questions (present in RapidPro) in order.
func (db *DB) PollQuestions(ctx context.Context, pollID int64) ([]Question, error) {
	return pollQuestions(ctx, db.DB, pollID)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func pollQuestions(ctx context.Context, q querier, pollID int64) ([]Question, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, poll_id, ruleset_uuid, result_key, rapidpro_name, name, question_type, display_order, is_active, json_rules
		FROM questions WHERE poll_id = ? AND in_rapidpro = 1 ORDER BY display_order, id`, pollID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Question
	for rows.Next() {
		var qu Question
		var rules string
		if err := rows.Scan(&qu.ID, &qu.PollID, &qu.UUID, &qu.ResultKey, &qu.RapidProName, &qu.Name, &qu.Type, &qu.Order, &qu.IsActive, &rules); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(rules), &qu.Rules)
		out = append(out, qu)
	}
	return out, rows.Err()
}

// ActiveQuestions keeps the questions shown on TracPro, in order.
func ActiveQuestions(qs []Question) []Question {
	var out []Question
	for _, q := range qs {
		if q.IsActive {
			out = append(out, q)
		}
	}
	return out
}

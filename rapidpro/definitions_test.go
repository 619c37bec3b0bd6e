package rapidpro

import (
	"context"
	"net/http"
	"reflect"
	"testing"
)

// spec13Definitions holds a flow with a numeric, a categorical, an open and
// two calculated routers, a router without result_name, and a second
// (dependency) flow.
const spec13Definitions = `{
 "version": "13",
 "site": "https://app.rapidpro.io",
 "flows": [
  {"uuid": "dep-flow", "name": "Dependency", "spec_version": "13.1.0", "nodes": [
    {"uuid": "dn1", "actions": [], "router": {"type": "switch", "operand": "@input.text", "result_name": "Dep",
      "categories": [{"uuid": "dc1", "name": "All Responses", "exit_uuid": "de1"}], "default_category_uuid": "dc1", "cases": []}}
  ]},
  {"uuid": "main-flow", "name": "Household Survey", "spec_version": "13.1.0", "language": "eng", "type": "messaging",
   "nodes": [
    {"uuid": "send-1", "actions": [{"type": "send_msg", "text": "How old are you?"}], "exits": [{"uuid": "x1", "destination_uuid": "age-node"}]},
    {"uuid": "age-node", "actions": [], "router": {
      "type": "switch", "wait": {"type": "msg", "timeout": {"seconds": 300, "category_uuid": "age-timeout"}},
      "operand": "@input.text", "result_name": "Age (years)",
      "cases": [{"uuid": "k1", "type": "has_number_between", "arguments": ["0", "120"], "category_uuid": "age-valid"},
                {"uuid": "k2", "type": "has_number_gte", "arguments": [121], "category_uuid": "age-old"}],
      "categories": [{"uuid": "age-valid", "name": "Valid", "exit_uuid": "e1"},
                     {"uuid": "age-old", "name": "Too Old", "exit_uuid": "e2"},
                     {"uuid": "age-other", "name": "Other", "exit_uuid": "e3"},
                     {"uuid": "age-timeout", "name": "No Response", "exit_uuid": "e4"}],
      "default_category_uuid": "age-other"}},
    {"uuid": "color-node", "actions": [], "router": {
      "type": "switch", "wait": {"type": "msg"}, "operand": "@input.text", "result_name": "Favourite Color",
      "cases": [{"uuid": "k3", "type": "has_any_word", "arguments": ["red rouge"], "category_uuid": "red"},
                {"uuid": "k4", "type": "has_any_word", "arguments": ["blue"], "category_uuid": "blue"},
                {"uuid": "k5", "type": "has_number_lt", "arguments": ["3"], "category_uuid": "red"}],
      "categories": [{"uuid": "red", "name": "Red"}, {"uuid": "blue", "name": "Blue"}, {"uuid": "oth", "name": "Other"}],
      "default_category_uuid": "oth"}},
    {"uuid": "split-no-result", "router": {"type": "switch", "operand": "@contact.language",
      "cases": [{"uuid": "k6", "type": "has_text", "arguments": [], "category_uuid": "c-has"}],
      "categories": [{"uuid": "c-has", "name": "Has Text"}, {"uuid": "c-oth", "name": "Other"}], "default_category_uuid": "c-oth"}},
    {"uuid": "comment-node", "router": {
      "type": "switch", "wait": {"type": "msg", "timeout": {"seconds": 60, "category_uuid": "cm-to"}}, "operand": "@input.text",
      "result_name": "Comment", "cases": [],
      "categories": [{"uuid": "cm-all", "name": "All Responses"}, {"uuid": "cm-to", "name": "No Response"}],
      "default_category_uuid": "cm-all"}},
    {"uuid": "calc-node", "router": {
      "type": "switch", "operand": "@(results.age_years.value * 12)", "result_name": "Age Months",
      "cases": [{"uuid": "k7", "type": "has_number", "arguments": [], "category_uuid": "cm-num"}],
      "categories": [{"uuid": "cm-num", "name": "Has Number"}, {"uuid": "cm-oth", "name": "Other"}], "default_category_uuid": "cm-oth"}},
    {"uuid": "calc-text", "router": {
      "type": "switch", "operand": "@(upper(results.comment.value))", "result_name": "Shout",
      "cases": [{"uuid": "k8", "type": "has_text", "arguments": [], "category_uuid": "ct-has"}],
      "categories": [{"uuid": "ct-has", "name": "Has Text"}, {"uuid": "ct-oth", "name": "Other"}], "default_category_uuid": "ct-oth"}}
   ]}
 ]
}`

func TestSpec13Definitions(t *testing.T) {
	defs, err := ParseDefinitions([]byte(spec13Definitions))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 2 || defs[1].UUID != "main-flow" || defs[1].SpecVersion != "13.1.0" || defs[1].Name != "Household Survey" {
		t.Fatalf("defs: %+v", defs)
	}
	want := []QuestionDef{
		{UUID: "age-node", ResultKey: "age_years", Label: "Age (years)", Order: 0,
			Rules: []Rule{{Category: "Valid", Test: "between", Args: []string{"0", "120"}},
				{Category: "Too Old", Test: "gte", Args: []string{"121"}}},
			Categories: []string{"Valid", "Too Old", "Other", "No Response"}, Type: QuestionNumeric},
		{UUID: "color-node", ResultKey: "favourite_color", Label: "Favourite Color", Order: 1,
			Rules: []Rule{{Category: "Red", Test: "has_any_word", Args: []string{"red rouge"}},
				{Category: "Blue", Test: "has_any_word", Args: []string{"blue"}},
				{Category: "Red", Test: "lt", Args: []string{"3"}}},
			Categories: []string{"Red", "Blue", "Other"}, Type: QuestionCategorical},
		{UUID: "comment-node", ResultKey: "comment", Label: "Comment", Order: 2,
			Categories: []string{"All Responses", "No Response"}, Type: QuestionOpen},
		{UUID: "calc-node", ResultKey: "age_months", Label: "Age Months", Order: 3,
			Rules:      []Rule{{Category: "Has Number", Test: "number", Args: []string{}}},
			Categories: []string{"Has Number", "Other"}, Type: QuestionNumeric},
		{UUID: "calc-text", ResultKey: "shout", Label: "Shout", Order: 4,
			Rules:      []Rule{{Category: "Has Text", Test: "has_text", Args: []string{}}},
			Categories: []string{"Has Text", "Other"}, Type: QuestionOpen},
	}
	got := defs[1].Questions
	if len(got) != len(want) {
		t.Fatalf("got %d questions: %+v", len(got), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("question %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

const legacyDefinitions = `{"version": "10.1", "flows": [{
 "metadata": {"uuid": "legacy-flow", "name": "Old Survey"}, "version": 8, "base_language": "fra",
 "rule_sets": [
  {"uuid": "rs-age", "label": "Age", "ruleset_type": "wait_message", "operand": "@step.value", "rules": [
    {"category": {"eng": "Adult", "fra": "Adulte"}, "test": {"type": "between", "min": "18", "max": 120}},
    {"category": {"eng": "Child"}, "test": {"type": "lt", "test": 18}},
    {"category": {"eng": "Other", "fra": "Autre"}, "test": {"type": "true", "test": "true"}}]},
  {"uuid": "rs-color", "label": "Color?", "ruleset_type": "wait_message", "rules": [
    {"category": "Red", "test": {"type": "contains_any", "test": {"fra": "rouge", "eng": "red"}}},
    {"category": "Red", "test": {"type": "contains_any", "test": {"eng": "crimson"}}},
    {"category": "No Response", "test": {"type": "timeout", "minutes": 5}},
    {"category": "Other", "test": {"type": "true"}}]},
  {"uuid": "rs-calc", "label": "Double", "ruleset_type": "expression", "operand": "@(step.value * 2)", "rules": [
    {"category": "All Responses", "test": {"type": "true"}}]}
 ]}]}`

func TestLegacyDefinitions(t *testing.T) {
	defs, err := ParseDefinitions([]byte(legacyDefinitions))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || defs[0].UUID != "legacy-flow" || defs[0].Name != "Old Survey" || defs[0].SpecVersion != "8" {
		t.Fatalf("defs: %+v", defs)
	}
	want := []QuestionDef{
		{UUID: "rs-age", ResultKey: "age", Label: "Age", Order: 0,
			Rules: []Rule{{Category: "Adulte", Test: "between", Args: []string{"18", "120"}},
				{Category: "Child", Test: "lt", Args: []string{"18"}}},
			Categories: []string{"Adulte", "Child", "Autre"}, Type: QuestionNumeric},
		{UUID: "rs-color", ResultKey: "color", Label: "Color?", Order: 1,
			Rules: []Rule{{Category: "Red", Test: "contains_any", Args: []string{"rouge"}},
				{Category: "Red", Test: "contains_any", Args: []string{"crimson"}}},
			Categories: []string{"Red", "No Response", "Other"}, Type: QuestionCategorical},
		{UUID: "rs-calc", ResultKey: "double", Label: "Double", Order: 2,
			Categories: []string{"All Responses"}, Type: QuestionOpen},
	}
	if !reflect.DeepEqual(defs[0].Questions, want) {
		t.Errorf("questions:\n got %+v\nwant %+v", defs[0].Questions, want)
	}
}

func TestSnakify(t *testing.T) {
	cases := map[string]string{
		"Has Water?":        "has_water",
		"  Age (years)  ":   "age_years",
		"Favourite Colour!": "favourite_colour",
		"Ça va":             "ça_va",
		"a__b":              "a__b",
		"--":                "",
		"x":                 "x",
	}
	for in, want := range cases {
		if got := Snakify(in); got != want {
			t.Errorf("Snakify(%q) = %q, want %q", in, got, want)
		}
	}
	long := Snakify("a very long result name that goes on and on and on well beyond sixty four chars")
	if len(long) > 64 || long[len(long)-1] == '_' {
		t.Errorf("long key %q (%d)", long, len(long))
	}
}

func TestDefinitionsRequest(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(spec13Definitions))
	})
	c, _ := testClient(rec, nil)
	defs, err := c.Definitions(context.Background(), []string{"main-flow", "missing", "main-flow"})
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || defs[0].UUID != "main-flow" {
		t.Fatalf("defs: %+v", defs)
	}
	want := []string{"/api/v2/definitions.json?dependencies=none&flow=main-flow&flow=missing"}
	if got := rec.urls(); !reflect.DeepEqual(got, want) {
		t.Errorf("urls %v", got)
	}
	if defs, err := c.Definitions(context.Background(), nil); err != nil || defs != nil || rec.count() != 1 {
		t.Errorf("empty request: %v %v %d", defs, err, rec.count())
	}
}

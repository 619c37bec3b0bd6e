package rapidpro

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseDefinitions parses a definitions.json answer (or a flow export) into
// one FlowDefinition per flow, in document order. Flows in goflow spec 13
// (with "nodes") are read first-class; legacy flows (spec ≤ 10, with
// "rule_sets") are read as a fallback. Only a body that is not JSON at all
// gives an error.
func ParseDefinitions(data []byte) ([]FlowDefinition, error) {
	var top struct {
		Version jString           `json:"version"`
		Flows   []json.RawMessage `json:"flows"`
	}
	if err := decodeTolerant(data, &top); err != nil {
		return nil, err
	}
	out := make([]FlowDefinition, 0, len(top.Flows))
	for _, raw := range top.Flows {
		var f defFlow
		if err := decodeTolerant(raw, &f); err != nil {
			continue
		}
		out = append(out, f.definition(string(top.Version)))
	}
	return out, nil
}

// defFlow holds the union of the spec-13 and legacy flow shapes.
type defFlow struct {
	UUID         jString `json:"uuid"`
	Name         jString `json:"name"`
	SpecVersion  jString `json:"spec_version"`
	Version      jString `json:"version"`
	BaseLanguage jString `json:"base_language"`
	Metadata     *struct {
		UUID jString `json:"uuid"`
		Name jString `json:"name"`
	} `json:"metadata"`
	Nodes    []defNode    `json:"nodes"`
	RuleSets []defRuleSet `json:"rule_sets"`
}

type defNode struct {
	UUID   jString    `json:"uuid"`
	Router *defRouter `json:"router"`
}

type defRouter struct {
	Type       jString `json:"type"`
	Operand    jString `json:"operand"`
	ResultName jString `json:"result_name"`
	Wait       *struct {
		Type    jString `json:"type"`
		Timeout *struct {
			CategoryUUID jString `json:"category_uuid"`
		} `json:"timeout"`
	} `json:"wait"`
	Cases []struct {
		UUID         jString   `json:"uuid"`
		Type         jString   `json:"type"`
		Arguments    []jString `json:"arguments"`
		CategoryUUID jString   `json:"category_uuid"`
	} `json:"cases"`
	Categories []struct {
		UUID jString `json:"uuid"`
		Name jString `json:"name"`
	} `json:"categories"`
	DefaultCategoryUUID jString `json:"default_category_uuid"`
}

type defRuleSet struct {
	UUID        jString   `json:"uuid"`
	Label       jString   `json:"label"`
	RulesetType jString   `json:"ruleset_type"`
	Operand     jString   `json:"operand"`
	Rules       []defRule `json:"rules"`
}

type defRule struct {
	Category json.RawMessage `json:"category"`
	Test     struct {
		Type jString         `json:"type"`
		Test json.RawMessage `json:"test"`
		Min  json.RawMessage `json:"min"`
		Max  json.RawMessage `json:"max"`
	} `json:"test"`
}

func (f *defFlow) definition(topVersion string) FlowDefinition {
	d := FlowDefinition{UUID: string(f.UUID), Name: string(f.Name), SpecVersion: string(f.SpecVersion)}
	if f.Metadata != nil {
		if d.UUID == "" {
			d.UUID = string(f.Metadata.UUID)
		}
		if d.Name == "" {
			d.Name = string(f.Metadata.Name)
		}
	}
	if d.SpecVersion == "" {
		d.SpecVersion = string(f.Version)
	}
	if d.SpecVersion == "" {
		d.SpecVersion = topVersion
	}
	switch {
	case f.Nodes != nil:
		d.Questions = spec13Questions(f.Nodes)
	case f.RuleSets != nil:
		d.Questions = legacyQuestions(f.RuleSets, string(f.BaseLanguage))
	}
	return d
}

const (
	allResponses = "All Responses"
	noResponse   = "No Response"
)

// spec13Questions reads the routers that write a result, in node order.
func spec13Questions(nodes []defNode) []QuestionDef {
	var qs []QuestionDef
	for _, n := range nodes {
		r := n.Router
		if r == nil || strings.TrimSpace(string(r.ResultName)) == "" {
			continue
		}
		label := string(r.ResultName)
		q := QuestionDef{UUID: string(n.UUID), ResultKey: Snakify(label), Label: label, Order: len(qs)}
		timeoutUUID := ""
		if r.Wait != nil && r.Wait.Timeout != nil {
			timeoutUUID = string(r.Wait.Timeout.CategoryUUID)
		}
		isTimeout := func(uuid, name string) bool {
			return (uuid != "" && uuid == timeoutUUID) || strings.EqualFold(name, noResponse)
		}
		names := make(map[string]string, len(r.Categories))
		var answerCats []string
		for _, c := range r.Categories {
			name := string(c.Name)
			names[string(c.UUID)] = name
			q.Categories = append(q.Categories, name)
			if !isTimeout(string(c.UUID), name) {
				answerCats = append(answerCats, name)
			}
		}
		numeric, cases := true, 0
		for _, cs := range r.Cases {
			catUUID := string(cs.CategoryUUID)
			name := names[catUUID]
			if isTimeout(catUUID, name) {
				continue
			}
			cases++
			test := normaliseTest(string(cs.Type))
			numeric = numeric && isNumericTest(test)
			if catUUID == string(r.DefaultCategoryUUID) && catUUID != "" {
				continue
			}
			q.Rules = append(q.Rules, Rule{Category: name, Test: test, Args: strs(cs.Arguments)})
		}
		numeric = numeric && cases > 0
		calculated := r.Wait == nil && strings.HasPrefix(strings.TrimSpace(string(r.Operand)), "@(")
		q.Type = questionType(cases == 0 || onlyAllResponses(answerCats), numeric, calculated)
		qs = append(qs, q)
	}
	return qs
}

// legacyQuestions reads legacy rule sets, in document order.
func legacyQuestions(sets []defRuleSet, baseLang string) []QuestionDef {
	var qs []QuestionDef
	for _, rs := range sets {
		label := string(rs.Label)
		q := QuestionDef{UUID: string(rs.UUID), ResultKey: Snakify(label), Label: label, Order: len(qs)}
		seen := make(map[string]bool)
		var answerCats []string
		numeric := true
		for i, rule := range rs.Rules {
			name, _ := localized(rule.Category, baseLang)
			if !seen[name] {
				seen[name] = true
				q.Categories = append(q.Categories, name)
				if !strings.EqualFold(name, noResponse) {
					answerCats = append(answerCats, name)
				}
			}
			typ := string(rule.Test.Type)
			if typ == "timeout" || strings.EqualFold(name, noResponse) {
				continue
			}
			if typ == "true" && i == len(rs.Rules)-1 {
				// The trailing catch-all (Other / All Responses).
				continue
			}
			test := normaliseTest(typ)
			numeric = numeric && isNumericTest(test)
			var args []string
			for _, raw := range []json.RawMessage{rule.Test.Min, rule.Test.Max} {
				if s, ok := localized(raw, baseLang); ok {
					args = append(args, s)
				}
			}
			if typ != "true" {
				if s, ok := localized(rule.Test.Test, baseLang); ok {
					args = append(args, s)
				}
			}
			q.Rules = append(q.Rules, Rule{Category: name, Test: test, Args: args})
		}
		numeric = numeric && len(q.Rules) > 0
		operand := strings.TrimSpace(string(rs.Operand))
		calculated := rs.RulesetType == "expression" ||
			(strings.HasPrefix(operand, "@(") && !strings.HasPrefix(string(rs.RulesetType), "wait_"))
		q.Type = questionType(len(q.Rules) == 0 || onlyAllResponses(answerCats), numeric, calculated)
		qs = append(qs, q)
	}
	return qs
}

// questionType applies the §4.7 mapping: a catch-all-only router is open;
// all-numeric cases are numeric; a calculated value (an expression router
// without a wait) that is not numeric is open; anything else is
// categorical.
func questionType(open, numeric, calculated bool) string {
	switch {
	case open:
		return QuestionOpen
	case numeric:
		return QuestionNumeric
	case calculated:
		return QuestionOpen
	default:
		return QuestionCategorical
	}
}

func onlyAllResponses(cats []string) bool {
	return len(cats) == 1 && strings.EqualFold(strings.TrimSpace(cats[0]), allResponses)
}

// normaliseTest maps numeric tests of both generations onto number,
// between, eq, lt, lte, gt and gte; other test types are returned as is.
func normaliseTest(t string) string {
	switch t {
	case "has_number", "number":
		return "number"
	case "has_number_between", "between":
		return "between"
	case "has_number_eq", "eq":
		return "eq"
	case "has_number_lt", "lt":
		return "lt"
	case "has_number_lte", "lte":
		return "lte"
	case "has_number_gt", "gt":
		return "gt"
	case "has_number_gte", "gte":
		return "gte"
	}
	return t
}

func isNumericTest(t string) bool {
	switch t {
	case "number", "between", "eq", "lt", "lte", "gt", "gte":
		return true
	}
	return false
}

// maxResultKey is the longest result key RapidPro produces.
const maxResultKey = 64

// Snakify turns a result name into its result key the way RapidPro does:
// lowercase, every run of characters other than letters, digits and "_"
// becomes one "_", leading and trailing "_" are trimmed, and the key is cut
// to 64 bytes. "Has Water?" becomes "has_water".
func Snakify(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	pending := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			if pending {
				b.WriteByte('_')
			}
			pending = false
			b.WriteRune(r)
			continue
		}
		pending = true
	}
	s := strings.Trim(b.String(), "_")
	if len(s) > maxResultKey {
		s = s[:maxResultKey]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s = strings.TrimRight(s, "_")
	}
	return s
}

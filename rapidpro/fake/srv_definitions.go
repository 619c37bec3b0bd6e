package fake

import (
	"strings"
)

// svFlowTypes maps API flow types to goflow types.
var svFlowTypes = map[string]string{
	"message": "messaging", "voice": "voice", "background": "messaging_background", "survey": "messaging_offline",
}

type defDoc struct {
	Version   string `json:"version"`
	Site      string `json:"site"`
	Flows     []any  `json:"flows"`
	Campaigns []any  `json:"campaigns"`
	Triggers  []any  `json:"triggers"`
	Fields    []any  `json:"fields"`
	Groups    []any  `json:"groups"`
}

// legacyDefDoc is the v10 export envelope (no fields/groups).
type legacyDefDoc struct {
	Version   string `json:"version"`
	Site      string `json:"site"`
	Flows     []any  `json:"flows"`
	Campaigns []any  `json:"campaigns"`
	Triggers  []any  `json:"triggers"`
}

type defExit struct {
	UUID        string  `json:"uuid"`
	Destination *string `json:"destination_uuid"`
}

type defCategory struct {
	UUID     string `json:"uuid"`
	Name     string `json:"name"`
	ExitUUID string `json:"exit_uuid"`
}

type defCase struct {
	UUID         string   `json:"uuid"`
	Type         string   `json:"type"`
	Arguments    []string `json:"arguments"`
	CategoryUUID string   `json:"category_uuid"`
}

type defRouter struct {
	Type                string         `json:"type"`
	Wait                map[string]any `json:"wait,omitempty"`
	Operand             string         `json:"operand"`
	ResultName          string         `json:"result_name"`
	Cases               []defCase      `json:"cases"`
	Categories          []defCategory  `json:"categories"`
	DefaultCategoryUUID string         `json:"default_category_uuid,omitempty"`
}

type defNode struct {
	UUID    string           `json:"uuid"`
	Actions []map[string]any `json:"actions"`
	Router  *defRouter       `json:"router,omitempty"`
	Exits   []defExit        `json:"exits"`
}

// svDefaultCategory is the category a question falls back to.
func svDefaultCategory(q *Question) string {
	for _, want := range []string{"Other", "All Responses"} {
		for _, c := range q.Categories {
			if c == want {
				return c
			}
		}
	}
	if len(q.Categories) > 0 {
		return q.Categories[len(q.Categories)-1]
	}
	return ""
}

// svHasPrompt reports whether a question gets a send_msg node before it.
func svHasPrompt(q *Question) bool { return q.Prompt != "" && q.Kind != KindCalculated }

// svEntryUUID is the first node of question q.
func svEntryUUID(q *Question) string {
	if svHasPrompt(q) {
		return svDerivedUUID(q.NodeUUID, "send")
	}
	return q.NodeUUID
}

// spec13Flow renders a flow as a goflow 13 definition.
func spec13Flow(f *Flow) map[string]any {
	var nodes []defNode
	for i, q := range f.Questions {
		var next *string
		if i+1 < len(f.Questions) {
			n := svEntryUUID(f.Questions[i+1])
			next = &n
		}
		if svHasPrompt(q) {
			dest := q.NodeUUID
			nodes = append(nodes, defNode{
				UUID: svDerivedUUID(q.NodeUUID, "send"),
				Actions: []map[string]any{{"uuid": svDerivedUUID(q.NodeUUID, "action"), "type": "send_msg",
					"text": q.Prompt, "attachments": []string{}, "quick_replies": []string{}}},
				Exits: []defExit{{UUID: svDerivedUUID(q.NodeUUID, "send-exit"), Destination: &dest}},
			})
		}
		rt := &defRouter{Type: "switch", Operand: q.Operand, ResultName: q.Name, Cases: []defCase{}, Categories: []defCategory{}}
		if rt.Operand == "" {
			rt.Operand = "@input.text"
		}
		if q.Kind != KindCalculated {
			rt.Wait = map[string]any{"type": "msg"}
		}
		catUUID := func(name string) string { return svDerivedUUID(q.NodeUUID, "category", name) }
		node := defNode{UUID: q.NodeUUID, Actions: []map[string]any{}, Router: rt, Exits: []defExit{}}
		for _, c := range q.Categories {
			ex := svDerivedUUID(q.NodeUUID, "exit", c)
			rt.Categories = append(rt.Categories, defCategory{UUID: catUUID(c), Name: c, ExitUUID: ex})
			node.Exits = append(node.Exits, defExit{UUID: ex, Destination: next})
		}
		for _, c := range q.Cases {
			id := c.UUID
			if id == "" {
				id = svDerivedUUID(q.NodeUUID, "case", c.Type, strings.Join(c.Arguments, " "))
			}
			args := c.Arguments
			if args == nil {
				args = []string{}
			}
			rt.Cases = append(rt.Cases, defCase{UUID: id, Type: c.Type, Arguments: args, CategoryUUID: catUUID(c.Category)})
		}
		if d := svDefaultCategory(q); d != "" {
			rt.DefaultCategoryUUID = catUUID(d)
		}
		nodes = append(nodes, node)
	}
	if nodes == nil {
		nodes = []defNode{}
	}
	typ := svFlowTypes[f.Type]
	if typ == "" {
		typ = "messaging"
	}
	lang := f.Language
	if lang == "" {
		lang = "eng"
	}
	return map[string]any{
		"uuid": f.UUID, "name": f.Name, "spec_version": "13.1.0", "language": lang, "type": typ,
		"revision": 1, "expire_after_minutes": f.Expires, "localization": map[string]any{},
		"nodes": nodes, "_ui": map[string]any{},
	}
}

// svLegacyTest maps a goflow case to a legacy (v10) rule test.
func svLegacyTest(c Case, lang string) map[string]any {
	arg := func(i int) string {
		if i < len(c.Arguments) {
			return c.Arguments[i]
		}
		return ""
	}
	words := map[string]any{lang: strings.Join(c.Arguments, " ")}
	switch c.Type {
	case "has_number_between":
		return map[string]any{"type": "between", "min": arg(0), "max": arg(1)}
	case "has_number_lt", "has_number_lte":
		return map[string]any{"type": "lt", "test": arg(0)}
	case "has_number_gt", "has_number_gte":
		return map[string]any{"type": "gt", "test": arg(0)}
	case "has_number_eq":
		return map[string]any{"type": "eq", "test": arg(0)}
	case "has_number":
		return map[string]any{"type": "number"}
	case "has_any_word":
		return map[string]any{"type": "contains_any", "test": words}
	case "has_all_words":
		return map[string]any{"type": "contains", "test": words}
	case "has_phrase":
		return map[string]any{"type": "contains_phrase", "test": words}
	case "has_beginning":
		return map[string]any{"type": "starts", "test": words}
	case "has_text":
		return map[string]any{"type": "not_empty"}
	}
	return map[string]any{"type": "true"}
}

// legacyFlow renders a flow in the legacy v10 export shape.
func legacyFlow(f *Flow) map[string]any {
	lang := f.Language
	if lang == "" {
		lang = "eng"
	}
	var actionSets, ruleSets []map[string]any
	for i, q := range f.Questions {
		var next any
		if i+1 < len(f.Questions) {
			next = svEntryUUID(f.Questions[i+1])
		}
		if svHasPrompt(q) {
			actionSets = append(actionSets, map[string]any{
				"uuid": svDerivedUUID(q.NodeUUID, "send"), "x": 100, "y": i * 200, "destination": q.NodeUUID,
				"exit_uuid": svDerivedUUID(q.NodeUUID, "send-exit"),
				"actions": []map[string]any{{"type": "reply", "uuid": svDerivedUUID(q.NodeUUID, "action"),
					"msg": map[string]string{lang: q.Prompt}}},
			})
		}
		var rules []map[string]any
		rule := func(id, cat string, test map[string]any) {
			destType := any(nil)
			if next != nil {
				destType = "A"
				if !svHasPrompt(f.Questions[i+1]) {
					destType = "R"
				}
			}
			rules = append(rules, map[string]any{"uuid": id, "category": map[string]string{lang: cat},
				"test": test, "destination": next, "destination_type": destType})
		}
		for _, c := range q.Cases {
			rule(svDerivedUUID(q.NodeUUID, "rule", c.UUID, c.Type, strings.Join(c.Arguments, " ")), c.Category, svLegacyTest(c, lang))
		}
		if d := svDefaultCategory(q); d != "" {
			rule(svDerivedUUID(q.NodeUUID, "rule-default"), d, map[string]any{"type": "true", "test": "true"})
		}
		typ, operand := "wait_message", "@step.value"
		if q.Kind == KindCalculated {
			typ, operand = "expression", q.Operand
		}
		if rules == nil {
			rules = []map[string]any{}
		}
		ruleSets = append(ruleSets, map[string]any{
			"uuid": q.NodeUUID, "label": q.Name, "ruleset_type": typ, "operand": operand, "rules": rules,
			"finished_key": nil, "webhook": nil, "webhook_action": nil, "config": map[string]any{},
			"x": 100, "y": i*200 + 100,
		})
	}
	if actionSets == nil {
		actionSets = []map[string]any{}
	}
	if ruleSets == nil {
		ruleSets = []map[string]any{}
	}
	entry := any(nil)
	if len(f.Questions) > 0 {
		entry = svEntryUUID(f.Questions[0])
	}
	return map[string]any{
		"metadata": map[string]any{"uuid": f.UUID, "name": f.Name, "saved_on": f.ModifiedOn.UTC().Format("2006-01-02T15:04:05.000000Z"),
			"revision": 1, "expires": f.Expires, "id": f.ID},
		"version": "10.1", "flow_type": "M", "base_language": lang, "entry": entry,
		"action_sets": actionSets, "rule_sets": ruleSets,
	}
}

func (s *Server) getDefinitions(rc *reqCtx) *reply {
	q := rc.q
	deps := q.Get("dependencies")
	if rc.prof == ProfileLegacy2017 {
		deps = "none"
		if q.Get("dependencies") == "" || svStrToBool(q.Get("dependencies")) {
			deps = "all"
		}
	}
	if deps == "" {
		deps = "all"
	}
	if deps != "all" && deps != "flows" && deps != "none" {
		return detailReply(400, "dependencies must be one of none, flows, all")
	}
	var doc defDoc
	s.store.Read(func() {
		st := s.store
		requested := map[string]bool{}
		var flows []*Flow
		for _, u := range q["flow"] {
			if f := st.FlowsByUUID[u]; f != nil && !requested[u] {
				requested[u] = true
				flows = append(flows, f)
			}
		}
		if deps != "none" && len(flows) > 0 {
			for _, f := range st.Flows {
				if !requested[f.UUID] {
					flows = append(flows, f)
				}
			}
		}
		doc = defDoc{Version: "13", Site: svBaseURL(rc.r), Flows: []any{}, Campaigns: []any{}, Triggers: []any{}}
		if rc.prof == ProfileLegacy2017 {
			doc.Version = "10.1"
		}
		for _, f := range flows {
			if rc.prof == ProfileLegacy2017 {
				doc.Flows = append(doc.Flows, legacyFlow(f))
			} else {
				doc.Flows = append(doc.Flows, spec13Flow(f))
			}
		}
		doc.Fields, doc.Groups = []any{}, []any{}
		if deps == "all" && len(flows) > 0 {
			for _, f := range st.Fields {
				doc.Fields = append(doc.Fields, map[string]string{"key": f.Key, "name": f.Name, "type": f.Type})
			}
			for _, g := range st.Groups {
				var query any
				if g.Query != "" {
					query = g.Query
				}
				doc.Groups = append(doc.Groups, map[string]any{"uuid": g.UUID, "name": g.Name, "query": query})
			}
		}
	})
	if rc.prof == ProfileLegacy2017 {
		return jsonReply(200, legacyDefDoc{Version: doc.Version, Site: doc.Site, Flows: doc.Flows,
			Campaigns: doc.Campaigns, Triggers: doc.Triggers})
	}
	return jsonReply(200, doc)
}

package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

const (
	svMaxItems      = 100
	svTooMany       = "Ensure this field has no more than 100 elements."
	svInvalidURNFmt = "Invalid URN: %s. Ensure phone numbers contain country codes."
	svURNInUse      = "URN is in use by another contact."
	svOneLookupOnly = "URL can only contain one of the following parameters: urn, uuid"
	svNeedLookup    = "URL must contain one of the following parameters: urn, uuid"
)

// svErrors collects DRF validation errors.
type svErrors map[string]any

func (e svErrors) add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = []string{msg}
	}
}

// addItem records an error for item i of a list field: {"field": {"i": [msg]}}.
func (e svErrors) addItem(field string, i int, msg string) {
	m, ok := e[field].(map[string][]string)
	if !ok {
		if _, taken := e[field]; taken {
			return
		}
		m = map[string][]string{}
		e[field] = m
	}
	k := strconv.Itoa(i)
	m[k] = append(m[k], msg)
}

// svParseBody decodes a JSON object body (numbers kept as json.Number).
func svParseBody(body []byte) (map[string]any, *reply) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, detailReply(400, "JSON parse error - "+err.Error())
	}
	obj, ok := v.(map[string]any)
	if !ok {
		kind := "list"
		switch v.(type) {
		case string:
			kind = "str"
		case json.Number:
			kind = "int"
		case bool:
			kind = "bool"
		case nil:
			kind = "NoneType"
		}
		return nil, jsonReply(400, svErrors{"non_field_errors": []string{"Invalid data. Expected a dictionary, but got " + kind + "."}})
	}
	return obj, nil
}

// svStrings reads a list-of-strings field; it reports the DRF error otherwise.
func svStrings(v any) ([]string, string) {
	if v == nil {
		return nil, "This field may not be null."
	}
	l, ok := v.([]any)
	if !ok {
		return nil, "Expected a list of items but got type \"" + svPyType(v) + "\"."
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case json.Number:
			out = append(out, t.String())
		default:
			return nil, "Not a valid string."
		}
	}
	if len(out) > svMaxItems {
		return nil, svTooMany
	}
	return out, ""
}

func svPyType(v any) string {
	switch v.(type) {
	case string:
		return "str"
	case json.Number:
		return "int"
	case bool:
		return "bool"
	case map[string]any:
		return "dict"
	case []any:
		return "list"
	}
	return "NoneType"
}

// svBool reads a DRF BooleanField value (JSON booleans, 0/1, and the usual strings).
func svBool(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case json.Number:
		switch t.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	case string:
		switch strings.ToLower(t) {
		case "t", "y", "yes", "true", "on", "1":
			return true, true
		case "f", "n", "no", "false", "off", "0":
			return false, true
		}
	}
	return false, false
}

// svScalarString renders a field value as the string RapidPro stores.
func svScalarString(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", true
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		if t {
			return "True", true
		}
		return "False", true
	}
	return "", false
}

// svURNOwners maps each URN to its live contact. Lock held.
func svURNOwners(st *Store) map[string]*Contact {
	m := map[string]*Contact{}
	for _, c := range st.Contacts {
		if !c.Deleted {
			for _, u := range c.URNs {
				m[u] = c
			}
		}
	}
	return m
}

// svFindGroup resolves a group by UUID or name. Lock held.
func svFindGroup(st *Store, ref string) *Group {
	if g := st.GroupsByUUID[ref]; g != nil {
		return g
	}
	if g := st.GroupByName(ref); g != nil {
		return g
	}
	for _, g := range st.Groups {
		if strings.EqualFold(g.Name, ref) {
			return g
		}
	}
	return nil
}

// svActiveFlow returns the flow UUID of the contact's newest unexited run. Lock held.
func svActiveFlow(st *Store, contact string) map[string]string {
	var best *Run
	for _, r := range st.Runs {
		if r.ContactUUID == contact && r.ExitType == "" && !r.Archived && (best == nil || r.ModifiedOn.After(best.ModifiedOn)) {
			best = r
		}
	}
	if best == nil {
		return nil
	}
	return map[string]string{contact: best.FlowUUID}
}

func (s *Server) postContact(rc *reqCtx) *reply {
	uuidQ, urnQ := rc.q.Get("uuid"), rc.q.Get("urn")
	if uuidQ != "" && urnQ != "" {
		return detailReply(400, svOneLookupOnly)
	}
	data, rep := svParseBody(rc.body)
	if rep != nil {
		return rep
	}
	s.store.Write(func() { rep = s.writeContact(rc, data, uuidQ, urnQ) })
	return rep
}

// writeContact validates and applies a contact create/update. Write lock held.
func (s *Server) writeContact(rc *reqCtx, data map[string]any, uuidQ, urnQ string) *reply {
	st := s.store
	owners := svURNOwners(st)
	var target *Contact
	lookupURN := ""
	switch {
	case uuidQ != "":
		if target = st.ContactsByUUID[uuidQ]; target == nil {
			return detailReply(404, svNotFoundDetail)
		}
	case urnQ != "":
		n, ok := svNormalizeURN(urnQ)
		if !ok {
			return detailReply(400, "Invalid URN: "+urnQ)
		}
		lookupURN, target = n, owners[n]
	}
	errs := svErrors{}
	var name, lang *string
	if v, ok := data["name"]; ok {
		str, ok := svScalarString(v)
		switch {
		case !ok || svPyType(v) == "bool":
			errs.add("name", "Not a valid string.")
		case len([]rune(str)) > 64:
			errs.add("name", "Ensure this field has no more than 64 characters.")
		default:
			name = &str
		}
	}
	if v, ok := data["language"]; ok {
		str, isStr := v.(string)
		switch {
		case v == nil:
			empty := ""
			lang = &empty
		case !isStr || !svISO639(str):
			errs.add("language", "Not a valid ISO639-3 language code.")
		default:
			lang = &str
		}
	}
	var urns []string
	_, hasURNs := data["urns"]
	if hasURNs {
		list, msg := svStrings(data["urns"])
		switch {
		case lookupURN != "":
			errs.add("urns", "Can't update contact URNs when referencing by URN")
		case msg != "":
			errs.add("urns", msg)
		}
		for i, raw := range list {
			n, ok := svNormalizeURN(raw)
			if !ok {
				errs.addItem("urns", i, fmt.Sprintf(svInvalidURNFmt, raw))
				continue
			}
			if o := owners[n]; o != nil && o != target {
				errs.addItem("urns", i, svURNInUse)
				continue
			}
			urns = append(urns, n)
		}
	}
	var groups []string
	_, hasGroups := data["groups"]
	if hasGroups {
		list, msg := svStrings(data["groups"])
		if msg != "" {
			errs.add("groups", msg)
		}
		for i, ref := range list {
			g := svFindGroup(st, ref)
			switch {
			case g == nil || g.System:
				errs.addItem("groups", i, "No such object: "+ref)
			case g.Query != "":
				errs.add("groups", "Contact group must not be query based: "+g.Name)
			default:
				groups = append(groups, g.UUID)
			}
		}
	}
	fields := map[string]*string{}
	if v, ok := data["fields"]; ok {
		obj, isObj := v.(map[string]any)
		if !isObj {
			errs.add("fields", "Expected a dictionary of items but got type \""+svPyType(v)+"\".")
		}
		if len(obj) > svMaxItems {
			errs.add("fields", "Ensure this field has no more than 100 elements.")
		}
		known := map[string]bool{}
		for _, f := range st.Fields {
			known[f.Key] = true
		}
		for k, val := range obj {
			str, ok := svScalarString(val)
			switch {
			case !known[k]:
				svNested(errs, "fields", k, "Invalid contact field key")
			case !ok:
				svNested(errs, "fields", k, "Not a valid string.")
			case str == "":
				fields[k] = nil
			default:
				fields[k] = &str
			}
		}
	}
	if len(errs) > 0 {
		return jsonReply(400, errs)
	}
	if target != nil && target.Deleted {
		return jsonReply(400, svErrors{"non_field_errors": []string{"Deleted contacts can't be modified."}})
	}
	status := 200
	if target == nil {
		status = 201
		target = &Contact{}
		if lookupURN != "" {
			target.URNs = []string{lookupURN}
		}
	}
	if name != nil {
		target.Name = *name
	}
	if lang != nil {
		target.Language = *lang
	}
	if hasURNs {
		target.URNs = urns
	}
	if hasGroups {
		target.Groups = groups
	}
	if target.Fields == nil {
		target.Fields = map[string]string{}
	}
	for k, v := range fields {
		if v == nil {
			delete(target.Fields, k)
		} else {
			target.Fields[k] = *v
		}
	}
	if status == 201 {
		st.AddContact(target)
	} else {
		target.ModifiedOn = st.Clock.Now()
	}
	sc := &serCtx{st: st, prof: rc.prof, paths: true, activeFlow: svActiveFlow(st, target.UUID)}
	var j jbuf
	sc.contact(&j, target)
	return &reply{status: status, body: j.b, ctype: "application/json"}
}

// svNested records {"field": {"key": [msg]}}.
func svNested(errs svErrors, field, key, msg string) {
	m, ok := errs[field].(map[string][]string)
	if !ok {
		if _, taken := errs[field]; taken {
			return
		}
		m = map[string][]string{}
		errs[field] = m
	}
	m[key] = append(m[key], msg)
}

// svISO639 reports whether s looks like an ISO 639-3 code.
func svISO639(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func (s *Server) deleteContact(rc *reqCtx) *reply {
	uuidQ, urnQ := rc.q.Get("uuid"), rc.q.Get("urn")
	switch {
	case uuidQ != "" && urnQ != "":
		return detailReply(400, svOneLookupOnly)
	case uuidQ == "" && urnQ == "":
		return detailReply(400, svNeedLookup)
	}
	var rep *reply
	s.store.Write(func() {
		st := s.store
		var c *Contact
		if uuidQ != "" {
			c = st.ContactsByUUID[uuidQ]
		} else if n, ok := svNormalizeURN(urnQ); ok {
			c = svURNOwners(st)[n]
		} else {
			rep = detailReply(400, "Invalid URN: "+urnQ)
			return
		}
		if c == nil || c.Deleted {
			rep = detailReply(404, svNotFoundDetail)
			return
		}
		c.Deleted = true
		c.ModifiedOn = st.Clock.Now()
		rep = &reply{status: 204}
	})
	return rep
}

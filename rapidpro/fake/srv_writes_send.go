package fake

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// svResolveContacts resolves contact refs (UUIDs or URNs) to UUIDs; it
// returns the first unknown ref. Lock held.
func svResolveContacts(st *Store, refs []string) ([]string, string) {
	var owners map[string]*Contact
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		if c := st.ContactsByUUID[ref]; c != nil && !c.Deleted {
			out = append(out, c.UUID)
			continue
		}
		if strings.Contains(ref, ":") {
			if owners == nil {
				owners = svURNOwners(st)
			}
			if n, ok := svNormalizeURN(ref); ok && owners[n] != nil {
				out = append(out, owners[n].UUID)
				continue
			}
		}
		return nil, ref
	}
	return out, ""
}

// svResolveGroups resolves group refs (UUIDs or names). Lock held.
func svResolveGroups(st *Store, refs []string) ([]string, string) {
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		g := svFindGroup(st, ref)
		if g == nil {
			return nil, ref
		}
		out = append(out, g.UUID)
	}
	return out, ""
}

// svRecipients validates the contacts/groups/urns lists of a send. Lock held.
func svRecipients(st *Store, data map[string]any, errs svErrors) (contacts, groups, urns []string) {
	if v, ok := data["contacts"]; ok && v != nil {
		list, msg := svStrings(v)
		if msg != "" {
			errs.add("contacts", msg)
		} else if ids, bad := svResolveContacts(st, list); bad != "" {
			errs.add("contacts", "No such object: "+bad)
		} else {
			contacts = ids
		}
	}
	if v, ok := data["groups"]; ok && v != nil {
		list, msg := svStrings(v)
		if msg != "" {
			errs.add("groups", msg)
		} else if ids, bad := svResolveGroups(st, list); bad != "" {
			errs.add("groups", "No such object: "+bad)
		} else {
			groups = ids
		}
	}
	if v, ok := data["urns"]; ok && v != nil {
		list, msg := svStrings(v)
		if msg != "" {
			errs.add("urns", msg)
		}
		for i, raw := range list {
			n, ok := svNormalizeURN(raw)
			if !ok {
				errs.addItem("urns", i, fmt.Sprintf(svInvalidURNFmt, raw))
				continue
			}
			urns = append(urns, n)
		}
	}
	return contacts, groups, urns
}

func (s *Server) postBroadcast(rc *reqCtx) *reply {
	data, rep := svParseBody(rc.body)
	if rep != nil {
		return rep
	}
	s.store.Write(func() {
		st := s.store
		errs := svErrors{}
		lang := "eng"
		if len(st.Org.Languages) > 0 {
			lang = st.Org.Languages[0]
		}
		if v, ok := data["base_language"].(string); ok && v != "" {
			lang = v
		}
		text := ""
		switch t := data["text"].(type) {
		case nil:
		case string:
			text = t
		case map[string]any:
			if v, ok := t[lang].(string); ok {
				text = v
			} else {
				keys := make([]string, 0, len(t))
				for k := range t {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if len(keys) > 0 {
					text, _ = t[keys[0]].(string)
				}
			}
		default:
			errs.add("text", "Not a valid string.")
		}
		var attachments []string
		if v, ok := data["attachments"]; ok && v != nil {
			list, msg := svStrings(v)
			if msg != "" {
				errs.add("attachments", msg)
			}
			attachments = list
		}
		contacts, groups, urns := svRecipients(st, data, errs)
		if len(errs) > 0 {
			rep = jsonReply(400, errs)
			return
		}
		switch {
		case text == "" && len(attachments) == 0:
			rep = jsonReply(400, svErrors{"non_field_errors": []string{"Must provide either text or attachments."}})
			return
		case len(contacts) == 0 && len(groups) == 0 && len(urns) == 0:
			rep = jsonReply(400, svErrors{"non_field_errors": []string{"Must provide either urns, contacts or groups."}})
			return
		}
		b := st.AddBroadcast(&Broadcast{URNs: urns, Contacts: contacts, Groups: groups, Text: text, Status: "queued"})
		var j jbuf
		(&serCtx{st: st, prof: rc.prof}).broadcast(&j, b)
		rep = &reply{status: 201, body: j.b, ctype: "application/json"}
	})
	return rep
}

// svParamsMax is the longest encoded params (or extra) of a flow start.
const svParamsMax = 10000

func (s *Server) postFlowStart(rc *reqCtx) *reply {
	data, rep := svParseBody(rc.body)
	if rep != nil {
		return rep
	}
	s.store.Write(func() {
		st := s.store
		errs := svErrors{}
		flowUUID := ""
		switch v := data["flow"].(type) {
		case nil:
			errs.add("flow", "This field is required.")
		case string:
			if f := st.FlowsByUUID[v]; f == nil {
				errs.add("flow", "No such object: "+v)
			} else {
				flowUUID = f.UUID
			}
		default:
			errs.add("flow", "No such object: "+fmt.Sprint(v))
		}
		contacts, groups, urns := svRecipients(st, data, errs)
		boolField := func(name string, def bool) bool {
			v, ok := data[name]
			if !ok || v == nil {
				return def
			}
			b, ok := svBool(v)
			if !ok {
				errs.add(name, "Must be a valid boolean.")
			}
			return b
		}
		restart := boolField("restart_participants", true)
		exclude := boolField("exclude_active", false)
		// "params", else its deprecated alias "extra" (an empty params
		// falls back to extra, as the server's `params or extra` does).
		var params map[string]any
		for _, name := range []string{"extra", "params"} {
			v, ok := data[name]
			if !ok || v == nil {
				continue
			}
			obj, isObj := v.(map[string]any)
			if !isObj {
				errs.add(name, "Must be a valid JSON object")
				continue
			}
			if enc, _ := json.Marshal(obj); len(enc) > svParamsMax {
				errs.add(name, "Cannot exceed 10,000 characters encoded.")
				continue
			}
			if len(obj) > 0 || params == nil {
				params = obj
			}
		}
		if len(errs) > 0 {
			rep = jsonReply(400, errs)
			return
		}
		if len(contacts) == 0 && len(groups) == 0 && len(urns) == 0 {
			rep = jsonReply(400, svErrors{"non_field_errors": []string{"Must specify at least one group, contact or URN"}})
			return
		}
		fs := st.AddFlowStart(&FlowStart{FlowUUID: flowUUID, Groups: groups, Contacts: contacts, URNs: urns,
			RestartParticipants: restart, ExcludeActive: exclude, Params: params, Status: "pending"})
		var j jbuf
		(&serCtx{st: st, prof: rc.prof}).flowStart(&j, fs)
		rep = &reply{status: 201, body: j.b, ctype: "application/json"}
	})
	return rep
}

package models

import (
	"context"
	"sort"
	"strconv"
	"strings"
)

// PanelTree is an org's active panels with their parent links.
type PanelTree struct {
	Panels   []Region // active, by name
	byID     map[int64]*Region
	children map[int64][]int64
}

// LoadPanelTree reads the org's active panels.
func (db *DB) LoadPanelTree(ctx context.Context, orgID int64) (*PanelTree, error) {
	rs, err := db.ListRegions(ctx, orgID, true)
	if err != nil {
		return nil, err
	}
	t := &PanelTree{Panels: rs, byID: map[int64]*Region{}, children: map[int64][]int64{}}
	for i := range t.Panels {
		t.byID[t.Panels[i].ID] = &t.Panels[i]
	}
	for _, r := range t.Panels {
		if _, ok := t.byID[r.ParentID]; ok {
			t.children[r.ParentID] = append(t.children[r.ParentID], r.ID)
		}
	}
	return t, nil
}

// Get returns an active panel.
func (t *PanelTree) Get(id int64) (*Region, bool) {
	r, ok := t.byID[id]
	return r, ok
}

// Descendants returns id and every active panel below it.
func (t *PanelTree) Descendants(id int64) []int64 {
	out := []int64{id}
	for i := 0; i < len(out); i++ {
		out = append(out, t.children[out[i]]...)
	}
	return out
}

// Ancestors returns the active panels above id, nearest first.
func (t *PanelTree) Ancestors(id int64) []int64 {
	var out []int64
	seen := map[int64]bool{id: true}
	for r, ok := t.byID[id]; ok; r, ok = t.byID[r.ParentID] {
		if seen[r.ParentID] || r.ParentID == 0 {
			break
		}
		if _, ok := t.byID[r.ParentID]; !ok {
			break
		}
		seen[r.ParentID] = true
		out = append(out, r.ParentID)
	}
	return out
}

// HasChildren reports whether an active panel has active sub-panels.
func (t *PanelTree) HasChildren(id int64) bool { return len(t.children[id]) > 0 }

// Depth is how many active ancestors a panel has.
func (t *PanelTree) Depth(id int64) int { return len(t.Ancestors(id)) }

// Scope is what one request may see, per SPEC §2.2: the panels the user may
// access, the selected panel (none = "All panels", administrators only), the
// include-sub-panels switch, and the resulting data panels. It is computed
// once per request and used by every query that returns data.
type Scope struct {
	OrgID      int64
	Tree       *PanelTree
	UserPanels []int64 // accessible panels (assigned + descendants; all for administrators)
	Selected   int64   // 0 = All panels
	IncludeSub bool
	DataPanels []int64 // nil when All panels
	userSet    map[int64]bool
	admin      bool
}

// AllPanelsAllowed reports whether the user may choose "All panels"
// (administrators only).
func (s *Scope) AllPanelsAllowed() bool { return s.admin }

// AllPanels reports the administrators' "All panels" view.
func (s *Scope) AllPanels() bool { return s.Selected == 0 }

// CanAccess reports whether the user may see a panel.
func (s *Scope) CanAccess(panel int64) bool { return s.userSet[panel] }

// SelectedPanel returns the selected panel (nil for All panels).
func (s *Scope) SelectedPanel() *Region {
	r, _ := s.Tree.Get(s.Selected)
	return r
}

// ShowSubToggle reports whether the include-sub-panels switch applies: the
// selected panel has sub-panels the user can see.
func (s *Scope) ShowSubToggle() bool {
	if s.Selected == 0 {
		return false
	}
	for _, c := range s.Tree.children[s.Selected] {
		if s.userSet[c] {
			return true
		}
	}
	return false
}

// UserPanelList returns the accessible panels as regions, in tree order
// (each panel followed by its sub-panels), with their depth.
func (s *Scope) UserPanelList() []ScopedPanel {
	var out []ScopedPanel
	var walk func(id int64, depth int)
	walk = func(id int64, depth int) {
		if s.userSet[id] {
			r := s.Tree.byID[id]
			out = append(out, ScopedPanel{Region: *r, Depth: depth})
			depth++ // depth counts visible ancestors only
		}
		kids := append([]int64(nil), s.Tree.children[id]...)
		sort.Slice(kids, func(i, j int) bool {
			return strings.ToLower(s.Tree.byID[kids[i]].Name) < strings.ToLower(s.Tree.byID[kids[j]].Name)
		})
		for _, k := range kids {
			walk(k, depth)
		}
	}
	for _, r := range s.Tree.Panels {
		if _, hasParent := s.Tree.byID[r.ParentID]; !hasParent {
			walk(r.ID, 0)
		}
	}
	return out
}

// ScopedPanel is a panel with its depth in the tree.
type ScopedPanel struct {
	Region
	Depth int
}

// UserPanels returns the active panels a user may access in an org:
// administrators (and superusers) all of them; others their assigned active
// panels plus all their descendants.
func (db *DB) UserPanels(ctx context.Context, tree *PanelTree, userID int64, admin bool) ([]int64, error) {
	if admin {
		out := make([]int64, 0, len(tree.Panels))
		for _, r := range tree.Panels {
			out = append(out, r.ID)
		}
		return out, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT region_id FROM user_regions WHERE user_id = ?`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := map[int64]bool{}
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if _, ok := tree.Get(id); !ok {
			continue // inactive or another org's
		}
		for _, d := range tree.Descendants(id) {
			if !set[d] {
				set[d] = true
				out = append(out, d)
			}
		}
	}
	return out, rows.Err()
}

// ResolveScope computes the request's scope from the user's access and the
// session's choice: an invalid or missing selection falls back to "All
// panels" for administrators and to the first accessible panel (by name) for
// everyone else; non-administrators are never in "All panels".
func (db *DB) ResolveScope(ctx context.Context, orgID, userID int64, admin bool, selected int64, includeSub bool) (*Scope, error) {
	tree, err := db.LoadPanelTree(ctx, orgID)
	if err != nil {
		return nil, err
	}
	panels, err := db.UserPanels(ctx, tree, userID, admin)
	if err != nil {
		return nil, err
	}
	s := &Scope{OrgID: orgID, Tree: tree, UserPanels: panels, IncludeSub: includeSub, userSet: map[int64]bool{}, admin: admin}
	for _, id := range panels {
		s.userSet[id] = true
	}
	switch {
	case selected != 0 && s.userSet[selected]:
		s.Selected = selected
	case admin:
		s.Selected = 0
	default:
		// The first accessible panel in tree order: a supervisor of a
		// province starts on the province, not on one of its districts.
		if list := s.UserPanelList(); len(list) > 0 {
			s.Selected = list[0].ID
		}
	}
	if s.Selected != 0 {
		if includeSub {
			for _, d := range tree.Descendants(s.Selected) {
				if s.userSet[d] {
					s.DataPanels = append(s.DataPanels, d)
				}
			}
		} else {
			s.DataPanels = []int64{s.Selected}
		}
	} else if !admin {
		s.DataPanels = []int64{} // a user without panels sees no data
	}
	return s, nil
}

func idList(ids []int64) string {
	if len(ids) == 0 {
		return "NULL"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// PanelFilter returns an SQL condition restricting a panel column to the data
// panels ("1" when All panels). The ids are integers from the database.
func (s *Scope) PanelFilter(col string) string {
	if s.DataPanels == nil {
		return "1"
	}
	return col + " IN (" + idList(s.DataPanels) + ")"
}

// PollrunFilter returns an SQL condition on a pollruns alias for the poll runs
// visible in the scope (SPEC §2.2): every universal and spoofed run; runs sent
// to the selected panel; propagated runs sent to one of its ancestors; and,
// when sub-panels are included, runs sent to one of its descendants. "All
// panels" sees every poll run; a user without panels only universal ones.
func (s *Scope) PollrunFilter(alias string) string {
	if s.DataPanels == nil {
		return "1"
	}
	cond := alias + ".pollrun_type IN ('u', 's')"
	if s.Selected == 0 {
		return "(" + cond + ")"
	}
	sent := []int64{s.Selected}
	if s.IncludeSub {
		sent = s.DataPanels
	}
	cond += " OR " + alias + ".region_id IN (" + idList(sent) + ")"
	if anc := s.Tree.Ancestors(s.Selected); len(anc) > 0 {
		cond += " OR (" + alias + ".pollrun_type = 'p' AND " + alias + ".region_id IN (" + idList(anc) + "))"
	}
	return "(" + cond + ")"
}

package models

import (
	"context"
	"fmt"
	"sort"
	"testing"
)

// scopeFixture is an org with the panel tree
//
//	Country → Province A → District A1, District A2
//	        → Province B → District B1
//
// plus an inactive panel under Province A, one poll and a set of poll runs
// named by kind and target.
type scopeFixture struct {
	db     *DB
	org    *Org
	p      map[string]int64 // panel ids by name
	admin  int64
	supA   int64 // assigned Province A
	supMix int64 // assigned District A1 and Province B
	none   int64 // supervisor without panels
}

func newScopeFixture(t *testing.T) *scopeFixture {
	t.Helper()
	ctx := context.Background()
	db := testDB(t)
	org, err := db.CreateOrg(ctx, NewOrg{Name: "Org", Subdomain: "org", RapidProURL: "http://127.0.0.1:1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	tree := [][2]string{{"Country", ""}, {"Province A", "Country"}, {"Province B", "Country"},
		{"District A1", "Province A"}, {"District A2", "Province A"}, {"District B1", "Province B"}, {"Gone", "Province A"}}
	var groups []RapidProGroup
	var names []string
	for _, n := range tree {
		groups = append(groups, RapidProGroup{UUID: "g-" + n[0], Name: n[0]})
		names = append(names, n[0])
	}
	if _, _, err := db.SyncGroups(ctx, org.ID, groups); err != nil {
		t.Fatal(err)
	}
	gs, err := db.ResolveGroups(ctx, org.ID, names)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.TrackGroups(ctx, org.ID, "regions", gs); err != nil {
		t.Fatal(err)
	}
	f := &scopeFixture{db: db, org: org, p: map[string]int64{}}
	rs, _ := db.ListRegions(ctx, org.ID, false)
	for _, r := range rs {
		f.p[r.Name] = r.ID
	}
	for _, n := range tree {
		if n[1] != "" {
			if _, err := db.ExecContext(ctx, `UPDATE regions SET parent_id = ? WHERE id = ?`, f.p[n[1]], f.p[n[0]]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE regions SET is_active = 0 WHERE id = ?`, f.p["Gone"]); err != nil {
		t.Fatal(err)
	}
	user := func(email, role string, panels ...string) int64 {
		var ids []int64
		for _, p := range panels {
			ids = append(ids, f.p[p])
		}
		u, err := db.CreateMember(ctx, org.ID, NewUser{Email: email, FullName: email}, role, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Assigned directly, so an inactive panel can be among them.
		for _, id := range ids {
			if _, err := db.ExecContext(ctx, `INSERT INTO user_regions (user_id, region_id) VALUES (?, ?)`, u.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		return u.ID
	}
	f.admin = user("admin@x.test", RoleAdmin)
	f.supA = user("a@x.test", RoleSupervisor, "Province A", "Gone")
	f.supMix = user("mix@x.test", RoleSupervisor, "District A1", "Province B")
	f.none = user("none@x.test", RoleSupervisor)
	return f
}

func (f *scopeFixture) names(ids []int64) []string {
	var out []string
	for name, id := range f.p {
		for _, x := range ids {
			if x == id {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (f *scopeFixture) scope(t *testing.T, user int64, admin bool, selected string, includeSub bool) *Scope {
	t.Helper()
	s, err := f.db.ResolveScope(context.Background(), f.org.ID, user, admin, f.p[selected], includeSub)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func same(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestResolveScopeAdministrator(t *testing.T) {
	f := newScopeFixture(t)
	s := f.scope(t, f.admin, true, "", true)
	if !s.AllPanelsAllowed() || !s.AllPanels() || s.DataPanels != nil || s.PanelFilter("r.id") != "1" || s.PollrunFilter("pr") != "1" {
		t.Errorf("administrator default: all=%v data=%v", s.AllPanels(), s.DataPanels)
	}
	want := []string{"Country", "District A1", "District A2", "District B1", "Province A", "Province B"}
	if got := f.names(s.UserPanels); !same(got, want) {
		t.Errorf("administrator panels = %q, want every active one %q", got, want)
	}
	s = f.scope(t, f.admin, true, "Province A", true)
	if s.AllPanels() || !same(f.names(s.DataPanels), []string{"District A1", "District A2", "Province A"}) {
		t.Errorf("administrator on Province A: data = %q", f.names(s.DataPanels))
	}
	// An inactive panel is not a valid choice: back to All panels.
	if s := f.scope(t, f.admin, true, "Gone", true); !s.AllPanels() {
		t.Errorf("administrator on an inactive panel is not on All panels")
	}
}

func TestResolveScopeSupervisor(t *testing.T) {
	f := newScopeFixture(t)
	s := f.scope(t, f.supA, false, "", true)
	if s.AllPanelsAllowed() || s.AllPanels() {
		t.Fatalf("a supervisor may be on All panels")
	}
	if got := f.names(s.UserPanels); !same(got, []string{"District A1", "District A2", "Province A"}) {
		t.Errorf("supervisor A panels = %q (assigned + descendants, no inactive)", got)
	}
	if s.Selected != f.p["Province A"] || !same(f.names(s.DataPanels), []string{"District A1", "District A2", "Province A"}) {
		t.Errorf("supervisor A default: selected %d, data %q", s.Selected, f.names(s.DataPanels))
	}
	if !s.ShowSubToggle() || s.CanAccess(f.p["Province B"]) || s.CanAccess(f.p["Country"]) || !s.CanAccess(f.p["District A2"]) {
		t.Errorf("supervisor A access wrong")
	}
	// A sibling, the parent or an inactive panel fall back to the first panel.
	for _, bad := range []string{"Province B", "Country", "District B1", "Gone"} {
		if s := f.scope(t, f.supA, false, bad, true); s.Selected != f.p["Province A"] {
			t.Errorf("supervisor A selecting %s is on %d", bad, s.Selected)
		}
	}
	s = f.scope(t, f.supA, false, "District A1", true)
	if s.Selected != f.p["District A1"] || !same(f.names(s.DataPanels), []string{"District A1"}) || s.ShowSubToggle() {
		t.Errorf("supervisor A on District A1: data %q", f.names(s.DataPanels))
	}
	// The include-sub-panels switch.
	s = f.scope(t, f.supA, false, "Province A", false)
	if !same(f.names(s.DataPanels), []string{"Province A"}) || s.PanelFilter("r.id") != fmt.Sprintf("r.id IN (%d)", f.p["Province A"]) {
		t.Errorf("sub-panels off: data %q, filter %s", f.names(s.DataPanels), s.PanelFilter("r.id"))
	}
	// Two unrelated assignments: the first in tree order.
	s = f.scope(t, f.supMix, false, "", true)
	if got := f.names(s.UserPanels); !same(got, []string{"District A1", "District B1", "Province B"}) || s.Selected != f.p["District A1"] {
		t.Errorf("mixed supervisor: panels %q selected %d", got, s.Selected)
	}
	// No panels: no data panels, never All.
	s = f.scope(t, f.none, false, "", true)
	if s.DataPanels == nil || len(s.DataPanels) != 0 || s.PanelFilter("r.id") != "r.id IN (NULL)" {
		t.Errorf("supervisor without panels: data %v filter %s", s.DataPanels, s.PanelFilter("r.id"))
	}
}

func TestPollrunFilter(t *testing.T) {
	f := newScopeFixture(t)
	ctx := context.Background()
	res, err := f.db.ExecContext(ctx, `INSERT INTO polls (org_id, flow_uuid, rapidpro_name, is_active) VALUES (?, 'flow', 'Attendance', 1)`, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	poll, _ := res.LastInsertId()
	runs := []struct{ name, kind, panel string }{
		{"universal", "u", ""}, {"spoofed", "s", ""},
		{"r Province A", "r", "Province A"}, {"p Province A", "p", "Province A"},
		{"r Province B", "r", "Province B"}, {"p Province B", "p", "Province B"},
		{"p Country", "p", "Country"}, {"r Country", "r", "Country"},
		{"r District A1", "r", "District A1"}, {"p District A1", "p", "District A1"},
		{"r District B1", "r", "District B1"},
	}
	byID := map[int64]string{}
	for i, r := range runs {
		var region any
		if r.panel != "" {
			region = f.p[r.panel]
		}
		day := fmt.Sprintf("2024-01-%02d", i+1)
		res, err := f.db.ExecContext(ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date) VALUES (?, ?, ?, ?, ?, ?)`,
			f.org.ID, poll, r.kind, region, 1704067200000+int64(i)*86400000, day)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		byID[id] = r.name
	}
	visible := func(s *Scope) []string {
		rows, err := f.db.QueryContext(ctx, `SELECT pr.id FROM pollruns pr WHERE pr.org_id = ? AND `+s.PollrunFilter("pr"), f.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out = append(out, byID[id])
		}
		sort.Strings(out)
		return out
	}
	all := make([]string, 0, len(runs))
	for _, r := range runs {
		all = append(all, r.name)
	}
	sort.Strings(all)
	for _, tc := range []struct {
		name     string
		s        *Scope
		expected []string
	}{
		{"administrator, All panels", f.scope(t, f.admin, true, "", true), all},
		// Sent to the panel, propagated from an ancestor, universal/spoofed, and to descendants.
		{"Province A with sub-panels", f.scope(t, f.supA, false, "Province A", true),
			[]string{"p Country", "p District A1", "p Province A", "r District A1", "r Province A", "spoofed", "universal"}},
		{"Province A without sub-panels", f.scope(t, f.supA, false, "Province A", false),
			[]string{"p Country", "p Province A", "r Province A", "spoofed", "universal"}},
		// Propagated runs of both ancestors reach a district; regional ones do not.
		{"District A1", f.scope(t, f.supA, false, "District A1", true),
			[]string{"p Country", "p District A1", "p Province A", "r District A1", "spoofed", "universal"}},
		{"administrator on Province B", f.scope(t, f.admin, true, "Province B", true),
			[]string{"p Country", "p Province B", "r District B1", "r Province B", "spoofed", "universal"}},
		{"no panels", f.scope(t, f.none, false, "", true), []string{"spoofed", "universal"}},
	} {
		if got := visible(tc.s); !same(got, tc.expected) {
			t.Errorf("%s: poll runs %q, want %q", tc.name, got, tc.expected)
		}
	}
}

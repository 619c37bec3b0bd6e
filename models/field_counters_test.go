package models

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"tracpro/migrations"
)

// TestFieldCountersEqualRawRows: charts filtered on one shown contact field
// read the field counters (migration 0006); their figures equal the raw-row
// computation for every filter, scope and question, after ingest, re-answers,
// same-day sums, field values set, changed and cleared, contacts moved,
// deactivated and re-activated, and a field hidden and shown again; recount
// finds no drift and repairs a broken counter.
func TestFieldCountersEqualRawRows(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kabul, herat := addPanels(t, f)
	if _, _, _, err := f.db.SyncFields(ctx, f.org.ID, []DataField{{Key: "district", Label: "District", ValueType: "T"}, {Key: "school", Label: "School", ValueType: "T"}}); err != nil {
		t.Fatal(err)
	}
	show := func(keys ...string) {
		t.Helper()
		if err := f.db.UpdateOrgByAdmin(ctx, f.org.ID, EditOrg{Name: "UNICEF", Timezone: "Asia/Kabul", VisibleFields: keys}); err != nil {
			t.Fatal(err)
		}
	}
	show("district", "school")
	fields := func(district, school string) map[string]*string {
		m := map[string]*string{}
		if district != "" {
			m["district"] = &district
		}
		if school != "" {
			m["school"] = &school
		}
		return m
	}
	contact := func(uuid string, active bool, group, district, school string) ContactRow {
		c := contactRow(uuid, active, group, "g-teachers")
		c.Fields = fields(district, school)
		return c
	}
	apply := func(rows ...ContactRow) {
		t.Helper()
		if _, err := f.db.ApplyContacts(ctx, f.org, rows, nil); err != nil {
			t.Fatal(err)
		}
	}
	apply(contact("c1", true, "g-kabul", "Kabul City", "North School"),
		contact("c2", true, "g-kabul", "Kabul East", ""),
		contact("c3", true, "g-herat", "Herat East", "East School"),
		contact("c4", true, "g-herat", "Herat West", "North School"))
	run := func(uuid, contact string, at time.Time, num, water string) RunRow {
		r := numRun(uuid, contact, at, num)
		if water != "" {
			r.Values = append(r.Values, RunValueRow{Key: "water", Node: "node-choice", Value: water, Category: cat("Yes"), Time: at})
		}
		return r
	}
	d1 := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC)
	partial := run("r4", "c4", d1, "8", "")
	partial.ExitType = ""
	f.ingest(t, run("r1", "c1", d1, "4", "yes"), run("r2", "c2", d1, "", "yes"), run("r3", "c3", d1, "2.5", ""), partial,
		run("s1", "c1", d2, "6", ""), run("s3", "c3", d2, "x", "yes"))

	admin := adminScope(t, f)
	province, err := f.db.ResolveScope(ctx, f.org.ID, 0, true, herat, true)
	if err != nil {
		t.Fatal(err)
	}
	var counted int
	compare := func(step string) {
		t.Helper()
		assertNoDrift(t, f)
		for _, scope := range []*Scope{admin, province} {
			prs, err := f.db.ChartPollruns(ctx, f.poll.ID, ChartFilter{Scope: scope}, false)
			if err != nil || len(prs) != 2 {
				t.Fatalf("%s: poll runs %v %v", step, prs, err)
			}
			// Histogram numbers from value_counters equal the raw rows', under
			// both same-day settings.
			for _, setting := range []string{"sum", "use_last"} {
				if _, err := f.db.Exec(`UPDATE orgs SET sameday = ? WHERE id = ?`, setting, f.org.ID); err != nil {
					t.Fatal(err)
				}
				for _, one := range [][]PollrunRef{prs, prs[:1], prs[1:]} {
					a, err1 := f.db.AnswerNumbers(ctx, f.qNum, one, ChartFilter{Scope: scope})
					b, err2 := f.db.AnswerNumbers(ctx, f.qNum, one, ChartFilter{Scope: scope, rawRows: true})
					if err1 != nil || err2 != nil || fmt.Sprint(a) != fmt.Sprint(b) {
						t.Fatalf("%s: numbers (%s):\ncounters %v\nraw rows %v (%v %v)", step, setting, a, b, err1, err2)
					}
				}
			}
			for _, flt := range []map[string]string{{"district": "east"}, {"district": "KABUL"}, {"district": "a"}, {"school": "north"},
				{"district": "nowhere"}, {"district": "east", "school": "school"}} {
				fast := ChartFilter{Scope: scope, Fields: flt}
				slow := fast
				slow.rawRows = true
				if _, _, ok, _ := f.db.fieldCounted(ctx, fast); ok {
					counted++
				}
				for _, q := range []int64{f.qNum, f.qChoice} {
					a, err1 := f.db.StatsByPollrun(ctx, q, prs, fast)
					b, err2 := f.db.StatsByPollrun(ctx, q, prs, slow)
					if err1 != nil || err2 != nil || fmt.Sprint(a) != fmt.Sprint(b) {
						t.Fatalf("%s: %v question %d:\ncounters %v\nraw rows %v (%v %v)", step, flt, q, a, b, err1, err2)
					}
					pa, err1 := f.db.StatsByPanel(ctx, q, prs, fast)
					pb, err2 := f.db.StatsByPanel(ctx, q, prs, slow)
					if err1 != nil || err2 != nil || fmt.Sprint(pa) != fmt.Sprint(pb) {
						t.Fatalf("%s: %v question %d by panel:\ncounters %v\nraw rows %v", step, flt, q, pa, pb)
					}
				}
			}
		}
	}
	compare("ingest")
	if nums, err := f.db.AnswerNumbers(ctx, f.qNum, []PollrunRef{mustPollruns(t, f, admin)[0]}, ChartFilter{Scope: admin}); err != nil || fmt.Sprint(nums) != "[{2.5 1} {4 1} {8 1}]" {
		t.Fatalf("first poll run's numbers = %v %v", nums, err)
	}
	// What a user reads: "east" for all panels = c2 (Kabul East, no number) and
	// c3 (Herat East, 2.5) in the first poll run; c3's "x" in the second.
	east := ChartFilter{Scope: admin, Fields: map[string]string{"district": "East"}}
	prs, _ := f.db.ChartPollruns(ctx, f.poll.ID, east, false)
	st, err := f.db.StatsByPollrun(ctx, f.qNum, prs, east)
	if err != nil || st[0].Responses != 2 || st[0].Answers != 1 || st[0].Sum != 2.5 || st[1].Responses != 1 || st[1].Numeric != 0 {
		t.Fatalf("east stats = %+v %v", st, err)
	}
	if byPanel, _ := f.db.StatsByPanel(ctx, f.qChoice, prs, east); byPanel[kabul][0].Categories["Yes"] != 1 || byPanel[herat][1].Categories["Yes"] != 1 {
		t.Fatalf("east water by panel = %+v", byPanel)
	}

	// A re-answer the same day (sum setting values change), a late older run.
	f.ingest(t, run("r1b", "c1", d1.Add(time.Hour), "10", "no"), run("r3b", "c3", d1.Add(-time.Hour), "1", ""))
	compare("re-answers")
	// Field values changed and cleared; a contact moved to another panel.
	apply(contact("c2", true, "g-herat", "Herat North", "East School"), contact("c1", true, "g-kabul", "", "North School"))
	compare("field changes and a move")
	// Deactivated, re-activated, deactivated by a full pull.
	apply(contact("c3", false, "g-herat", "Herat East", "East School"))
	compare("deactivated")
	apply(contact("c3", true, "g-kabul", "Kabul East", "East School"))
	compare("re-activated and moved")
	if n, err := f.db.DeactivateContactsNotIn(ctx, f.org.ID, map[string]bool{"c1": true, "c2": true, "c3": true}); err != nil || n != 1 {
		t.Fatalf("deactivated %d, %v", n, err)
	}
	compare("deactivated by a full pull")
	// Hidden fields lose their counters (filters on them read raw rows); shown again, rebuilt.
	show("school")
	var n int
	if err := f.db.QueryRow(`SELECT count(*) FROM field_counters fc JOIN data_fields df ON df.id = fc.field_id WHERE df.key = 'district'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("hidden field's counters: %d %v", n, err)
	}
	compare("district hidden")
	show()
	if err := f.db.QueryRow(`SELECT count(*) FROM data_fields WHERE org_id = ? AND show_on_tracpro = 1`, f.org.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("fields still shown after hiding all: %d %v", n, err)
	}
	compare("every field hidden")
	show("school", "district")
	compare("district shown again")
	if counted == 0 {
		t.Fatal("no filter was served by the field counters")
	}
	// A shown field deleted in RapidPro takes its counters with it.
	if _, _, _, err := f.db.SyncFields(ctx, f.org.ID, []DataField{{Key: "school", Label: "School", ValueType: "T"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.QueryRow(`SELECT count(*) FROM field_counters WHERE field_id NOT IN (SELECT id FROM data_fields)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("counters of a deleted field: %d %v", n, err)
	}
	compare("district deleted")

	// A deliberately broken counter is found and fixed.
	if _, err := f.db.Exec(`UPDATE field_counters SET answers = answers + 2, sum_sum = sum_sum + 1`); err != nil {
		t.Fatal(err)
	}
	rep, err := f.db.RecountOrg(ctx, f.org.ID, true)
	if err != nil || rep.Drifted == 0 || rep.FieldsChecked == 0 {
		t.Fatalf("recount --fix: %+v %v", rep, err)
	}
	compare("fixed")
}

func mustPollruns(t *testing.T, f *fixture, scope *Scope) []PollrunRef {
	t.Helper()
	prs, err := f.db.ChartPollruns(context.Background(), f.poll.ID, ChartFilter{Scope: scope}, false)
	if err != nil || len(prs) == 0 {
		t.Fatalf("poll runs %v %v", prs, err)
	}
	return prs
}

// TestMigration0006FillsCounters: on a database with data, migration 0006's
// closing statements build the field and value counters of the rows already
// there, equal to the raw rows.
func TestMigration0006FillsCounters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	addPanels(t, f)
	if _, _, _, err := f.db.SyncFields(ctx, f.org.ID, []DataField{{Key: "district", Label: "District", ValueType: "T"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.UpdateOrgByAdmin(ctx, f.org.ID, EditOrg{Name: "UNICEF", Timezone: "Asia/Kabul", VisibleFields: []string{"district"}}); err != nil {
		t.Fatal(err)
	}
	district := "Kabul East"
	c := contactRow("c1", true, "g-kabul")
	c.Fields = map[string]*string{"district": &district}
	if _, err := f.db.ApplyContacts(ctx, f.org, []ContactRow{c}, nil); err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	f.ingest(t, numRun("a1", "c1", d, "3"), numRun("a2", "c2", d, "5"), numRun("a1b", "c1", d.Add(time.Hour), "4"))
	sql, err := fs.ReadFile(migrations.FS, "0006_field_counters.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, fill, ok := strings.Cut(string(sql), "-- The counters of the data already there.")
	if !ok {
		t.Fatal("no closing statements in 0006")
	}
	for _, table := range []string{"field_counters", "value_counters"} {
		var n int
		if err := f.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil || n == 0 {
			t.Fatalf("%s: %d rows %v", table, n, err)
		}
		if _, err := f.db.Exec(`DELETE FROM ` + table); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.db.Exec(fill); err != nil {
		t.Fatal(err)
	}
	assertNoDrift(t, f)
	var sums int
	if err := f.db.QueryRow(`SELECT count(*) FROM value_counters WHERE same_day_sum = 1 AND answers <> 0`).Scan(&sums); err != nil || sums == 0 {
		t.Fatalf("no same-day sum rows (c1 answered twice the same day): %d %v", sums, err)
	}
}

package handlers

import (
	"encoding/csv"
	"regexp"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

// gridWorld is a small hand-checked dataset: panels Country → North, South;
// a supervisor of North; polls Attendance and Water; poll runs R1
// (Attendance, universal, day 1), R2 (Water, sent to North, day 2), R3
// (Attendance, sent to South, day 3); cohort Teachers = Alice, Carol.
//
//	        R1  R2  R3
//	Alice   C   E   .    North, Teachers
//	Bob     C   C   .    North
//	Eve     P   .   .    North
//	=Fay    .   .   .    North (no responses)
//	Carol   C   .   P    South, Teachers
//	Dan     C   .   .    North, inactive (never shown)
type gridWorld struct {
	*testEnv
	org          *models.Org
	panels       map[string]int64
	sup, admin   *client
	r1, r2, r3   int64
	contactByKey map[string]int64
}

func newGridWorld(t *testing.T) *gridWorld {
	e := newTestEnv(t)
	g := &gridWorld{testEnv: e, org: e.createOrg("grid"), contactByKey: map[string]int64{}}
	g.panels = e.createPanels(g.org, [2]string{"Country", ""}, [2]string{"North", "Country"}, [2]string{"South", "Country"})
	g.sup = e.newClient(g.org, e.createUser(g.org, "north@grid.test", models.RoleSupervisor, "", g.panels["North"]))
	g.admin = e.newClient(g.org, e.createUser(g.org, "admin@grid.test", models.RoleAdmin, ""))
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := e.DB.ExecContext(e.Ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	var teachers int64
	if err := e.DB.QueryRowContext(e.Ctx, `INSERT INTO cohorts (org_id, uuid, name) VALUES (?, 'co-t', 'Teachers') RETURNING id`, g.org.ID).Scan(&teachers); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		name, panel string
		active      bool
		teacher     bool
	}{{"Alice", "North", true, true}, {"Bob", "North", true, false}, {"Eve", "North", true, false}, {"=Fay", "North", true, false},
		{"Carol", "South", true, true}, {"Dan", "North", false, false}} {
		var id int64
		if err := e.DB.QueryRowContext(e.Ctx, `INSERT INTO contacts (org_id, uuid, name, urn, region_id, is_active, created_on, modified_on)
			VALUES (?, ?, ?, ?, ?, ?, 0, 0) RETURNING id`, g.org.ID, "c-"+c.name, c.name, "tel:+25078000000"+string(rune('0'+i)), g.panels[c.panel], c.active).Scan(&id); err != nil {
			t.Fatal(err)
		}
		g.contactByKey[c.name] = id
		if c.teacher {
			exec(`INSERT INTO contact_cohorts (contact_id, cohort_id) VALUES (?, ?)`, id, teachers)
		}
	}
	if _, _, _, err := e.DB.SyncFlows(e.Ctx, g.org.ID, []models.FlowInfo{{UUID: "f-att", Name: "Attendance"}, {UUID: "f-wat", Name: "Water"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.TrackPolls(e.Ctx, g.org.ID, []string{"Attendance", "Water"}); err != nil {
		t.Fatal(err)
	}
	poll := func(name string) int64 {
		p, err := e.DB.PollByRef(e.Ctx, g.org.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	run := func(pollName, typ string, panel any, d int) int64 {
		at := day.AddDate(0, 0, d)
		var id int64
		if err := e.DB.QueryRowContext(e.Ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			g.org.ID, poll(pollName), typ, panel, models.Ms(at), at.Format("2006-01-02")).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	g.r1, g.r2, g.r3 = run("Attendance", "u", nil, 0), run("Water", "r", g.panels["North"], 1), run("Attendance", "r", g.panels["South"], 2)
	n := 0
	resp := func(run int64, who, status string) {
		n++
		exec(`INSERT INTO responses (org_id, pollrun_id, contact_id, run_uuid, created_on, updated_on, modified_on, status) VALUES (?, ?, ?, ?, 0, 0, 0, ?)`,
			g.org.ID, run, g.contactByKey[who], "run-"+string(rune('a'+n)), status)
	}
	resp(g.r1, "Alice", "C")
	resp(g.r1, "Bob", "C")
	resp(g.r1, "Eve", "P")
	resp(g.r1, "Carol", "C")
	resp(g.r1, "Dan", "C")
	resp(g.r2, "Alice", "E")
	resp(g.r2, "Bob", "C")
	resp(g.r3, "Carol", "P")
	return g
}

var (
	gridRowRe = regexp.MustCompile(`<tr><th scope="row"><a href="/contact/read/\d+/">([^<]+)</a> <small>[^<]*</small></th>(.*?)</tr>`)
	// A mark cell is the symbol (hidden from screen readers) and its word
	// (for them only); the rate cell is plain text.
	gridCellRe = regexp.MustCompile(`<td[^>]*>(?:<span aria-hidden="true">([^<]*)</span><span class="vh">([^<]*)</span>|([^<]*))</td>`)
	gridHeadRe = regexp.MustCompile(`<th><a href="/pollrun/participation/(\d+)/">`)
)

// gridRows reads the grid: contact → its cells then its rate.
func gridRows(body string) map[string]string {
	out := map[string]string{}
	for _, m := range gridRowRe.FindAllStringSubmatch(body, -1) {
		var cells []string
		for _, c := range gridCellRe.FindAllStringSubmatch(m[2], -1) {
			if word := map[string]string{"✓": "answered", "◐": "partial", "✗": "none", "–": "not asked"}[c[1]]; c[1] != "" && c[2] != word {
				cells = append(cells, c[1]+"(read as "+c[2]+")")
				continue
			}
			cells = append(cells, c[1]+c[3])
		}
		out[m[1]] = strings.Join(cells, " ")
	}
	return out
}

func TestParticipationGridHandChecked(t *testing.T) {
	g := newGridWorld(t)
	id := func(n int64) string { return sid(n) }

	// The supervisor of North: columns R2, R1 (R3 was sent to South), North's active contacts by name.
	r := g.sup.get("/participation/")
	if r.Code != 200 || !strings.Contains(r.Body, "<html") {
		t.Fatalf("grid = %d", r.Code)
	}
	var cols []string
	for _, m := range gridHeadRe.FindAllStringSubmatch(r.Body, -1) {
		cols = append(cols, m[1])
	}
	if strings.Join(cols, ",") != id(g.r2)+","+id(g.r1) {
		t.Fatalf("columns %v, want R2, R1", cols)
	}
	want := map[string]string{
		"=Fay":  "– – –",
		"Alice": "✗ ✓ 50%",
		"Bob":   "✓ ✓ 100%",
		"Eve":   "– ◐ 0%",
	}
	got := gridRows(r.Body)
	if len(got) != len(want) {
		t.Fatalf("supervisor's grid rows %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(r.Body, "<span>4 contacts</span>") {
		t.Error("the total of contacts is not shown")
	}
	// Cohort filter (htmx fragment): only Alice among North's teachers.
	var teachers int64
	g.DB.QueryRow(`SELECT id FROM cohorts WHERE name = 'Teachers'`).Scan(&teachers)
	f := g.sup.get("/participation/?panel=&cohort="+id(teachers), "HX-Request", "true")
	if f.Code != 200 || strings.Contains(f.Body, "<html") || !strings.HasPrefix(strings.TrimSpace(f.Body), `<section id="participation-all">`) {
		t.Fatalf("filtered fragment = %d", f.Code)
	}
	if rows := gridRows(f.Body); len(rows) != 1 || rows["Alice"] != "✗ ✓ 50%" {
		t.Fatalf("teachers of North: %v", rows)
	}
	// A panel outside the supervisor's scope, a bad cohort: 422 next to the field.
	if x := g.sup.get("/participation/?panel=" + id(g.panels["South"])); x.Code != 422 || !strings.Contains(x.Body, "Choose one of your panels.") || strings.Contains(x.Body, "Carol") {
		t.Fatalf("South for North's supervisor = %d", x.Code)
	}
	if x := g.sup.get("/participation/?cohort=abc"); x.Code != 422 || !strings.Contains(x.Body, "Choose one of the cohorts.") {
		t.Fatalf("bad cohort = %d", x.Code)
	}
	if x := g.sup.get("/participation/?panel=" + id(g.panels["South"]) + "&_format=csv"); x.Code != 422 || strings.Contains(x.Body, "Carol") {
		t.Fatalf("CSV of South for North's supervisor = %d", x.Code)
	}

	// The administrator (all panels): R3, R2, R1; panel South: Carol only.
	all := gridRows(g.admin.get("/participation/").Body)
	if all["Carol"] != "◐ – ✓ 50%" || all["Alice"] != "– ✗ ✓ 50%" || len(all) != 5 {
		t.Fatalf("administrator's grid %v", all)
	}
	if s := gridRows(g.admin.get("/participation/?panel=" + id(g.panels["South"])).Body); len(s) != 1 || s["Carol"] != "◐ – ✓ 50%" {
		t.Fatalf("South: %v", s)
	}

	// CSV: the same grid, every cell neutralised against formulas.
	c := g.admin.get("/participation/?_format=csv")
	if c.Code != 200 || !strings.HasPrefix(c.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV = %d %q", c.Code, c.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(c.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(recs[0], "|")
	if head != "Name|URN|Panel|Attendance (2026-03-04)|Water (2026-03-03)|Attendance (2026-03-02)|Response rate" {
		t.Fatalf("CSV header %q", head)
	}
	rows := map[string]string{}
	for _, rec := range recs[1:] {
		rows[rec[0]] = strings.Join(rec[2:], "|")
	}
	wantCSV := map[string]string{
		"'=Fay": "North||||",
		"Alice": "North||none|answered|50%",
		"Bob":   "North||answered|answered|100%",
		"Carol": "South|partial||answered|50%",
		"Eve":   "North|||partial|0%",
	}
	if len(rows) != len(wantCSV) {
		t.Fatalf("CSV rows %v", rows)
	}
	for k, v := range wantCSV {
		if rows[k] != v {
			t.Errorf("CSV %s: %q, want %q", k, rows[k], v)
		}
	}
	// The supervisor's CSV holds North's contacts only.
	if sc := g.sup.get("/participation/?_format=csv"); strings.Contains(sc.Body, "Carol") || !strings.Contains(sc.Body, "Bob") {
		t.Fatal("the supervisor's CSV is not scoped to North")
	}
}

func TestParticipationGridPages(t *testing.T) {
	g := newGridWorld(t)
	for i := 0; i < 52; i++ {
		if _, err := g.DB.Exec(`INSERT INTO contacts (org_id, uuid, name, region_id, created_on, modified_on) VALUES (?, ?, ?, ?, 0, 0)`,
			g.org.ID, "c-extra-"+sid(int64(i)), "Zed "+sid(int64(100+i)), g.panels["North"]); err != nil {
			t.Fatal(err)
		}
	}
	// 56 contacts of North: 50 on page 1 (Alice first), 6 on page 2 (the last Zed last).
	p1 := g.sup.get("/participation/")
	if rows := gridRowRe.FindAllStringSubmatch(p1.Body, -1); len(rows) != 50 || rows[0][1] != "=Fay" || !strings.Contains(p1.Body, "Page 1 of 2") {
		t.Fatalf("page 1: %d rows", len(rows))
	}
	if !strings.Contains(p1.Body, `href="/participation/?panel=&amp;cohort=&amp;page=2"`) {
		t.Fatal("page 1 has no link to page 2 keeping the filters")
	}
	p2 := g.sup.get("/participation/?panel=0&cohort=0&page=2", "HX-Request", "true")
	rows := gridRowRe.FindAllStringSubmatch(p2.Body, -1)
	if len(rows) != 6 || rows[5][1] != "Zed 151" || strings.Contains(p2.Body, "<html") {
		t.Fatalf("page 2: %d rows %d %.2000s", len(rows), p2.Code, p2.Body)
	}
	// The CSV holds all 56, past the export's chunk boundaries alike.
	if n := strings.Count(g.sup.get("/participation/?_format=csv").Body, "\n"); n != 57 {
		t.Fatalf("CSV has %d lines, want a header and 56 rows", n)
	}
}

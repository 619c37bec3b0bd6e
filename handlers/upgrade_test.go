package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracpro/jobs"
	"tracpro/migrations"
	"tracpro/models"
	"tracpro/rapidpro/fake"
)

// counterTables are the tables derived from the raw rows, in an order where
// each table's triggers only write tables later in the list.
var counterTables = []string{"answer_counters", "response_counters", "cohort_counters", "field_counters", "value_counters", "first_answers", "first_counters"}

// copyInto fills db (an older schema) with the rows of the database at src:
// every column the older schema has, then its counter tables exactly as the
// current code keeps them (the code of that time kept the tables it had the
// same way), so db is what a release of that schema would hold.
func copyInto(t *testing.T, db *models.DB, src string) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.120s: %v", q, err)
		}
	}
	exec(`PRAGMA foreign_keys = OFF`)
	exec(`ATTACH DATABASE ? AS src`, src)
	names := func(q string, args ...any) []string {
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, s)
		}
		return out
	}
	tables := names(`SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY rowid`)
	copyTable := func(tbl string) {
		cols := strings.Join(names(`SELECT name FROM pragma_table_info(?, 'main')`, tbl), ", ")
		// OR REPLACE: rows a migration seeds (app_keys) take the source's values.
		exec(fmt.Sprintf(`INSERT OR REPLACE INTO main.%s (%s) SELECT %s FROM src.%s`, tbl, cols, cols, tbl))
	}
	for _, tbl := range tables {
		if !slices.Contains(counterTables, tbl) {
			copyTable(tbl)
		}
	}
	for _, tbl := range counterTables {
		if slices.Contains(tables, tbl) {
			exec(`DELETE FROM main.` + tbl)
			copyTable(tbl)
		}
	}
	exec(`DETACH DATABASE src`)
	exec(`PRAGMA foreign_keys = ON`)
	if bad := names(`SELECT "table" FROM pragma_foreign_key_check`); len(bad) > 0 {
		t.Fatalf("foreign keys broken by the copy: %v", bad)
	}
}

// schemaOf lists the database's tables, indexes and triggers with their SQL.
func schemaOf(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT type || ' ' || name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		rows.Scan(&k, &v)
		out[k] = v
	}
	return out
}

// TestUpgradeFromEveryHistoricalSchema builds a database at every schema
// main has had (and the gapped one the old migrator left), holding a synced
// simulator org with a shown data field and an indicator, upgrades it, and
// checks: exactly the missing migrations were applied, in order (0006 after
// 0007–0009 or even 0014); the schema equals a fresh database's; recount
// finds no drift (counters created empty by 0003/0005 were rebuilt, 0006 and
// 0014 filled theirs from the rows there); the poll, poll run, participation
// and indicator pages show the figures of the database that was never
// upgraded; and new runs, numeric ones included, are ingested without drift.
func TestUpgradeFromEveryHistoricalSchema(t *testing.T) {
	src := newOrgEnv(t)
	ctx := src.Ctx
	trackAndPull(t, ctx, src.syncer, src.org, src.info.Panels, src.info.Cohorts, src.info.Polls)
	if err := src.DB.UpdateOrgByAdmin(ctx, src.org.ID, models.EditOrg{Name: src.org.Name, Timezone: src.org.Timezone, VisibleFields: []string{"gender"}}); err != nil {
		t.Fatal(err)
	}
	var pollID, questionID, pollrunID int64
	if err := src.DB.QueryRow(`SELECT q.poll_id, q.id FROM questions q WHERE q.question_type = 'N' AND q.is_active = 1
		AND EXISTS (SELECT 1 FROM answers a WHERE a.question_id = q.id) ORDER BY q.id LIMIT 1`).Scan(&pollID, &questionID); err != nil {
		t.Fatalf("no answered numeric question: %v", err)
	}
	if err := src.DB.QueryRow(`SELECT pr.id FROM pollruns pr JOIN responses r ON r.pollrun_id = pr.id JOIN answers a ON a.response_id = r.id
		WHERE pr.poll_id = ? AND a.question_id = ? GROUP BY pr.id ORDER BY count(*) DESC LIMIT 1`, pollID, questionID).Scan(&pollrunID); err != nil {
		t.Fatal(err)
	}
	var followPoll, followQuestion int64
	if err := src.DB.QueryRow(`SELECT poll_id, id FROM questions WHERE question_type = 'N' AND is_active = 1 AND id <> ? ORDER BY id LIMIT 1`, questionID).Scan(&followPoll, &followQuestion); err != nil {
		t.Fatalf("no second numeric question: %v", err)
	}
	ind, err := src.DB.CreateIndicator(ctx, src.org, models.IndicatorInput{Name: "Pupils", StartDate: "2000-01-01", EndDate: "2100-01-01",
		BaselinePollID: pollID, BaselineQuestionID: questionID, FollowUpPollID: followPoll, FollowUpQuestionID: followQuestion})
	if err != nil {
		t.Fatal(err)
	}
	if src.count(`SELECT count(*) FROM field_counters`) == 0 || src.count(`SELECT count(*) FROM value_counters`) == 0 || src.count(`SELECT count(*) FROM first_counters`) == 0 {
		t.Fatal("the fixture lacks field, value or first-answer counters: it would not test their migrations")
	}
	if rep, err := src.DB.RecountOrg(ctx, src.org.ID, false); err != nil || rep.Drifted != 0 {
		t.Fatalf("source database drifts: %+v %v", rep, err)
	}
	admin := src.createUser(src.org, "admin@example.org", models.RoleAdmin, "")
	pages := []string{
		"/poll/read/" + sid(pollID) + "/",
		"/pollrun/read/" + sid(pollrunID) + "/",
		"/pollrun/participation/" + sid(pollrunID) + "/",
		"/indicators/read/" + sid(ind.ID) + "/",
		"/indicators/",
	}
	render := func(t *testing.T, e *testEnv) map[string]string {
		t.Helper()
		c := e.newClient(src.org, admin)
		out := map[string]string{}
		for _, p := range pages {
			r := c.get(p)
			if r.Code != 200 {
				t.Errorf("%s = %d", p, r.Code)
			}
			out[p] = strings.ReplaceAll(r.Body, c.CSRF, "CSRF")
		}
		return out
	}
	want := render(t, src.testEnv)
	// The figures a supervisor reads: the poll run's responses and the
	// numeric question's mean are on its page.
	var responded int
	var mean float64
	if err := src.DB.QueryRow(`SELECT count(DISTINCT r.id), avg(CAST(a.value AS REAL)) FROM responses r JOIN contacts c ON c.id = r.contact_id
		JOIN answers a ON a.response_id = r.id AND a.question_id = ?
		WHERE r.pollrun_id = ? AND r.is_active = 1 AND c.is_active = 1`, questionID, pollrunID).Scan(&responded, &mean); err != nil || responded == 0 {
		t.Fatalf("poll run %d has no answers (%v)", pollrunID, err)
	}
	srcPath := filepath.Join(t.TempDir(), "source.db")
	if _, err := src.DB.Exec(`VACUUM INTO ?`, srcPath); err != nil {
		t.Fatal(err)
	}
	freshDB, err := models.OpenMigrated(ctx, filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := schemaOf(t, freshDB.DB)
	freshDB.Close()

	// Runs answered after the copies were taken: every upgraded database pulls them.
	store := src.sim.Store()
	store.Clock.Advance(time.Hour)
	if st := fake.NewActivity(store, 17).Step(40); st.RunsAdvanced == 0 {
		t.Fatalf("no new answers: %+v", st)
	}

	var current []int
	for _, name := range models.EmbeddedMigrations() {
		n, _ := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		current = append(current, n)
	}
	for _, state := range append(migrations.History, migrations.State{Name: "current", Versions: current}) {
		t.Run(state.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			db, err := models.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := migrations.ApplyOnly(db.DB, state.Versions); err != nil {
				t.Fatal(err)
			}
			copyInto(t, db, srcPath)
			var wantApplied []string
			for _, name := range models.EmbeddedMigrations() {
				n, _ := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
				if !slices.Contains(state.Versions, n) {
					wantApplied = append(wantApplied, name)
				}
			}
			res, err := db.Upgrade(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Applied, wantApplied) {
				t.Errorf("applied %v, want %v", res.Applied, wantApplied)
			}
			if !slices.Contains(state.Versions, 3) && res.CountersRebuilt != 1 {
				t.Errorf("counters rebuilt for %d orgs, want 1", res.CountersRebuilt)
			}
			if len(state.Versions) == 1 {
				// A process stopped after the migrations committed and before the
				// rebuild ended: the next start rebuilds.
				if _, err := db.Exec(`DELETE FROM answer_counters; DELETE FROM cohort_counters; PRAGMA user_version = 1`); err != nil {
					t.Fatal(err)
				}
				if again, err := db.Upgrade(ctx); err != nil || len(again.Applied) != 0 || again.CountersRebuilt != 1 {
					t.Fatalf("upgrade after an interrupted rebuild: %+v %v", again, err)
				}
			}
			if missing, err := db.MissingMigrations(ctx); err != nil || len(missing) > 0 {
				t.Errorf("still missing %v (%v)", missing, err)
			}
			schema := schemaOf(t, db.DB)
			for k, v := range fresh {
				if sql, ok := schema[k]; !ok {
					t.Errorf("%s is missing", k)
				} else if sql != v {
					a, b := firstDiff(v, sql)
					t.Errorf("%s differs from a fresh database's: …%s… want …%s…", k, b, a)
				}
			}
			for k := range schema {
				if _, ok := fresh[k]; !ok {
					t.Errorf("%s is not in a fresh database", k)
				}
			}
			if rep, err := db.RecountOrg(ctx, src.org.ID, false); err != nil {
				t.Errorf("recount after the upgrade: %v", err)
			} else if rep.Drifted != 0 {
				t.Errorf("recount after the upgrade: %d drifted, first: %v", rep.Drifted, rep.Drifts[:min(3, len(rep.Drifts))])
			}

			h := &Handlers{DB: db, Domain: testDomain}
			app, err := New(h)
			if err != nil {
				t.Fatal(err)
			}
			e := &testEnv{t: t, Ctx: ctx, DB: db, H: h, App: app}
			got := render(t, e)
			for p, body := range got {
				if body != want[p] {
					a, b := firstDiff(want[p], body)
					t.Errorf("%s differs from the never-upgraded database's: …%s… want …%s…", p, b, a)
				}
			}
			run := got["/pollrun/read/"+sid(pollrunID)+"/"]
			if !strings.Contains(run, fmt.Sprintf("%d", responded)) || !strings.Contains(run, strconv.FormatFloat(mean, 'f', 1, 64)) {
				t.Errorf("poll run page lacks %d responses or the mean %.1f", responded, mean)
			}

			numeric := func() int {
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM answers a JOIN questions q ON q.id = a.question_id AND q.question_type = 'N'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := numeric()
			syncer := jobs.NewSyncer(db, src.syncer.Cfg)
			for _, res := range []string{jobs.ResContacts, jobs.ResRuns} {
				if r := syncer.Pull(ctx, src.org, res); r.Err != nil {
					t.Fatalf("pull %s after the upgrade: %v", res, r.Err)
				}
			}
			if numeric() <= before {
				t.Fatalf("no numeric answer ingested after the upgrade (%d before and after)", before)
			}
			if rep, err := db.RecountOrg(ctx, src.org.ID, false); err != nil || rep.Drifted != 0 {
				t.Fatalf("recount after new runs: %v, %d drifted", err, rep.Drifted)
			}
		})
	}
}

// firstDiff returns both strings around their first difference.
func firstDiff(a, b string) (string, string) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return a[from:min(len(a), i+80)], b[from:min(len(b), i+80)]
}

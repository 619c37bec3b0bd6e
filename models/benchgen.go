package models

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BenchOrgConfig sizes the generated benchmark org (zero fields take the
// defaults of issue #4's benchmark: 100,000 contacts, 200 panels, 4 polls,
// 50 poll runs of 20,000 responses = 1,000,000 responses).
type BenchOrgConfig struct {
	Subdomain  string    // default "bench"
	Contacts   int       // default 100,000
	Polls      int       // default 4 (each: numeric, multiple choice, open question)
	Pollruns   int       // default 50 (every tenth regional, the others universal)
	PerPollrun int       // responses per poll run, default 20,000 (≤ Contacts)
	End        time.Time // the last poll run's week; zero = now (so "last 30 days" has data)
	Seed       int64     // default 4
}

func (c *BenchOrgConfig) defaults() {
	if c.Subdomain == "" {
		c.Subdomain = "bench"
	}
	if c.Contacts == 0 {
		c.Contacts = 100000
	}
	if c.Polls == 0 {
		c.Polls = 4
	}
	if c.Pollruns == 0 {
		c.Pollruns = 50
	}
	if c.PerPollrun == 0 {
		c.PerPollrun = 20000
	}
	c.PerPollrun = min(c.PerPollrun, c.Contacts)
	if c.End.IsZero() {
		c.End = time.Now()
	}
	if c.Seed == 0 {
		c.Seed = 4
	}
}

// BenchOrg is a generated org and the ids benchmarks need.
type BenchOrg struct {
	Org       *Org
	Root      int64              // the top-level "Country" panel
	Province  int64              // "Province 1": a panel with 21 sub-panels
	Polls     []int64            // in creation order
	Questions map[int64][3]int64 // poll -> numeric, multiple-choice, open question
	Pollruns  []int64            // in creation order (oldest first)
	Cohorts   []int64
	FieldKey  string // the text data field ("district": "District <panel id>")
}

// The generated panel tree: Country → 9 provinces → 21 districts each, plus
// one spare top-level panel (200 panels).
const (
	benchProvinces   = 9
	benchPerProvince = 21
)

// GenerateBenchOrg writes a benchmark org straight into SQLite with
// multi-row INSERTs (not through the simulator, not maintaining counters: run
// RecountOrg with fix afterwards): 200 panels, 5 cohorts (a third of the
// contacts in two), a text field shown on TracPro, polls of a numeric, a
// multiple-choice and an open question, weekly poll runs ending in cfg.End's
// week, each with PerPollrun responses of distinct random contacts (10 %
// empty, 20 % partial, 70 % complete). The database should be empty: contact
// and response ids are assigned from 1.
func (db *DB) GenerateBenchOrg(ctx context.Context, cfg BenchOrgConfig) (*BenchOrg, error) {
	cfg.defaults()
	org, err := db.CreateOrg(ctx, NewOrg{Name: "Bench", Subdomain: cfg.Subdomain, RapidProURL: "http://127.0.0.1:1", Token: "t", Timezone: "Africa/Kigali"})
	if err != nil {
		return nil, err
	}
	out := &BenchOrg{Org: org, Questions: map[int64][3]int64{}, FieldKey: "district"}
	rnd := rand.New(rand.NewSource(cfg.Seed))
	now := NowMs()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) int64 {
		if err != nil {
			return 0
		}
		var res sql.Result
		if res, err = tx.ExecContext(ctx, q, args...); err != nil {
			return 0
		}
		id, _ := res.LastInsertId()
		return id
	}
	var districts []int64
	out.Root = exec(`INSERT INTO regions (org_id, uuid, name) VALUES (?, 'g-root', 'Country')`, org.ID)
	exec(`INSERT INTO regions (org_id, uuid, name) VALUES (?, 'g-spare', 'Spare')`, org.ID)
	for p := 1; p <= benchProvinces; p++ {
		pid := exec(`INSERT INTO regions (org_id, uuid, name, parent_id) VALUES (?, ?, ?, ?)`, org.ID, fmt.Sprintf("g-p%d", p), fmt.Sprintf("Province %d", p), out.Root)
		if p == 1 {
			out.Province = pid
		}
		for d := 1; d <= benchPerProvince; d++ {
			did := exec(`INSERT INTO regions (org_id, uuid, name, parent_id) VALUES (?, ?, ?, ?)`, org.ID, fmt.Sprintf("g-p%d-d%d", p, d), fmt.Sprintf("District %d.%d", p, d), pid)
			districts = append(districts, did)
		}
	}
	for i := 1; i <= 5; i++ {
		out.Cohorts = append(out.Cohorts, exec(`INSERT INTO cohorts (org_id, uuid, name) VALUES (?, ?, ?)`, org.ID, fmt.Sprintf("g-c%d", i), fmt.Sprintf("Cohort %d", i)))
	}
	field := exec(`INSERT INTO data_fields (org_id, key, label, show_on_tracpro) VALUES (?, ?, 'District', 1)`, org.ID, out.FieldKey)
	if err != nil {
		return nil, err
	}
	// Contacts (ids 1..n in a fresh database), their cohorts and a field.
	var cvals, ccvals, cfvals []any
	langs := []string{"eng", "fra", "fas", "pus", "ara"}
	for i := 1; i <= cfg.Contacts; i++ {
		r := districts[rnd.Intn(len(districts))]
		cvals = append(cvals, i, org.ID, fmt.Sprintf("c-%08d", i), fmt.Sprintf("Contact %d", i), fmt.Sprintf("tel:+2507%08d", i), r, langs[i%len(langs)], now, now)
		ccvals = append(ccvals, i, out.Cohorts[i%5])
		if i%3 == 0 {
			ccvals = append(ccvals, i, out.Cohorts[(i+1)%5])
		}
		cfvals = append(cfvals, i, field, fmt.Sprintf("District %d", r))
	}
	if err = benchInsert(ctx, tx, `INSERT INTO contacts (id, org_id, uuid, name, urn, region_id, language, created_on, modified_on)`, 9, cvals); err != nil {
		return nil, err
	}
	if err = benchInsert(ctx, tx, `INSERT INTO contact_cohorts (contact_id, cohort_id)`, 2, ccvals); err != nil {
		return nil, err
	}
	if err = benchInsert(ctx, tx, `INSERT INTO contact_fields (contact_id, field_id, value)`, 3, cfvals); err != nil {
		return nil, err
	}
	for p := 1; p <= cfg.Polls; p++ {
		pid := exec(`INSERT INTO polls (org_id, flow_uuid, rapidpro_name, is_active) VALUES (?, ?, ?, 1)`, org.ID, fmt.Sprintf("flow-%d", p), fmt.Sprintf("Poll %d", p))
		var ids [3]int64
		for i, t := range []string{QuestionNumeric, QuestionChoice, QuestionOpen} {
			ids[i] = exec(`INSERT INTO questions (poll_id, ruleset_uuid, result_key, rapidpro_name, question_type, display_order) VALUES (?, ?, ?, ?, ?, ?)`,
				pid, fmt.Sprintf("node-%d-%d", p, i), fmt.Sprintf("q%d", i), fmt.Sprintf("Question %d", i), t, i)
		}
		out.Polls = append(out.Polls, pid)
		out.Questions[pid] = ids
	}
	if err != nil {
		return nil, err
	}
	if err = tx.Commit(); err != nil {
		return nil, err
	}
	// Weekly poll runs (one per poll a week, an hour apart), the last in
	// End's week; one transaction each.
	weeks := (cfg.Pollruns + cfg.Polls - 1) / cfg.Polls
	end := cfg.End.UTC()
	start := time.Date(end.Year(), end.Month(), end.Day(), 8, 0, 0, 0, time.UTC).AddDate(0, 0, -7*(weeks-1)-int(end.Weekday()+6)%7)
	words := strings.Fields("water school rain teachers books late sick road market clinic food pupils absent flood exam")
	cats := []string{"Yes", "No", "Maybe"}
	respID := int64(0)
	for n := 0; n < cfg.Pollruns; n++ {
		poll := out.Polls[n%cfg.Polls]
		day := start.Add(time.Duration(n/cfg.Polls) * 7 * 24 * time.Hour).Add(time.Duration(n%cfg.Polls) * time.Hour)
		typ, region := PollrunUniversal, any(nil)
		if n%10 == 9 {
			typ, region = PollrunRegional, districts[n%len(districts)]
		}
		prID, err := db.benchPollrun(ctx, rnd, cfg, org.ID, poll, out.Questions[poll], typ, region, day, &respID, words, cats)
		if err != nil {
			return nil, err
		}
		out.Pollruns = append(out.Pollruns, prID)
	}
	return out, nil
}

// benchPollrun writes one poll run with its responses and answers.
func (db *DB) benchPollrun(ctx context.Context, rnd *rand.Rand, cfg BenchOrgConfig, orgID, poll int64, qs [3]int64, typ string, region any,
	day time.Time, respID *int64, words, cats []string) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var prID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO pollruns (org_id, poll_id, pollrun_type, region_id, conducted_on, local_date) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		orgID, poll, typ, region, Ms(day), day.Format("2006-01-02")).Scan(&prID); err != nil {
		return 0, err
	}
	var rvals, avals []any
	for _, c := range rnd.Perm(cfg.Contacts)[:cfg.PerPollrun] {
		contact := int64(c + 1)
		*respID++
		id := *respID
		status := StatusComplete
		switch x := rnd.Intn(10); {
		case x == 0:
			status = StatusEmpty
		case x < 3:
			status = StatusPartial
		}
		t := Ms(day) + int64(rnd.Intn(36000000))
		rvals = append(rvals, id, orgID, prID, contact, fmt.Sprintf("run-%09d", id), t, t, t, status)
		if status == StatusEmpty {
			continue
		}
		ld := FromMs(t).Format("2006-01-02")
		num := fmt.Sprint(rnd.Intn(60))
		avals = append(avals, id, qs[0], num, "Low", t, ld, num, num)
		if status == StatusComplete {
			ch := cats[rnd.Intn(3)]
			txt := words[rnd.Intn(len(words))] + " " + words[rnd.Intn(len(words))]
			avals = append(avals, id, qs[1], ch, ch, t, ld, ch, ch, id, qs[2], txt, nil, t, ld, txt, txt)
		}
	}
	if err := benchInsert(ctx, tx, `INSERT INTO responses (id, org_id, pollrun_id, contact_id, run_uuid, created_on, updated_on, modified_on, status)`, 9, rvals); err != nil {
		return 0, err
	}
	if err := benchInsert(ctx, tx, `INSERT INTO answers (response_id, question_id, value, category, submitted_on, local_date, last_value, sum_value)`, 8, avals); err != nil {
		return 0, err
	}
	return prID, tx.Commit()
}

// BenchOrgByRef finds a generated org again in a reused database (the ids
// GenerateBenchOrg returned, read back by name).
func (db *DB) BenchOrgByRef(ctx context.Context, subdomain string) (*BenchOrg, error) {
	org, err := db.OrgByRef(ctx, subdomain)
	if err != nil {
		return nil, err
	}
	out := &BenchOrg{Org: org, Questions: map[int64][3]int64{}, FieldKey: "district"}
	q := func(dst *int64, query string, args ...any) {
		if err == nil {
			err = db.QueryRowContext(ctx, query, args...).Scan(dst)
		}
	}
	q(&out.Root, `SELECT id FROM regions WHERE org_id = ? AND uuid = 'g-root'`, org.ID)
	q(&out.Province, `SELECT id FROM regions WHERE org_id = ? AND uuid = 'g-p1'`, org.ID)
	if err != nil {
		return nil, err
	}
	ids := func(query string, args ...any) []int64 {
		var list []int64
		if err != nil {
			return nil
		}
		rows, e := db.QueryContext(ctx, query, args...)
		if e != nil {
			err = e
			return nil
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err = rows.Scan(&id); err != nil {
				return nil
			}
			list = append(list, id)
		}
		err = rows.Err()
		return list
	}
	out.Polls = ids(`SELECT id FROM polls WHERE org_id = ? ORDER BY id`, org.ID)
	out.Pollruns = ids(`SELECT id FROM pollruns WHERE org_id = ? ORDER BY id`, org.ID)
	out.Cohorts = ids(`SELECT id FROM cohorts WHERE org_id = ? ORDER BY id`, org.ID)
	for _, p := range out.Polls {
		qs := ids(`SELECT id FROM questions WHERE poll_id = ? ORDER BY display_order, id`, p)
		if len(qs) == 3 {
			out.Questions[p] = [3]int64{qs[0], qs[1], qs[2]}
		}
	}
	return out, err
}

// benchInsert inserts flat groups of cols values, rowsPerInsert rows a
// statement.
func benchInsert(ctx context.Context, tx *sql.Tx, head string, cols int, vals []any) error {
	return upsertMulti(ctx, tx, head, cols, vals, "")
}

// OpenBenchOrg opens (and migrates) the benchmark database at path, generating
// the default org there when the file did not exist; path "" means a new file
// in dir. The benchmarks of jobs/ and handlers/ share it.
func OpenBenchOrg(ctx context.Context, path, dir string) (*DB, *BenchOrg, error) {
	if path == "" {
		path = filepath.Join(dir, "dash.db")
	}
	_, statErr := os.Stat(path)
	db, err := OpenMigrated(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	if statErr != nil {
		if _, err := db.GenerateBenchOrg(ctx, BenchOrgConfig{}); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	bo, err := db.BenchOrgByRef(ctx, "bench")
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, bo, nil
}

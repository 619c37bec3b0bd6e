package handlers

import (
	"encoding/csv"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"tracpro/models"
)

func TestResponsesCSV(t *testing.T) {
	f := newPollFixture(t)
	p := "/response/by_pollrun/" + sid(f.Runs[1]) + "/?_format=csv"
	at := func(min int) string {
		return f.Day2.Add(time.Duration(min) * time.Minute).In(f.Org.Location()).Format("Jan 02, 2006 15:04")
	}
	r := f.newClient(f.Org, f.SupA).get(p)
	if r.Code != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		r.Header.Get("Content-Disposition") != `attachment; filename="responses.csv"` {
		t.Fatalf("csv: %d %v", r.Code, r.Header)
	}
	// Newest first; Alice's first (inactive) answer included; Carol's empty
	// response and Province B's Eve left out; cells that could start a
	// formula neutralised with a leading quote; the hidden question has no
	// column.
	want := "Date,Name,URN,Panel,Cohorts,Pupils,Water,Comment,Voice\n" +
		`"` + at(6) + `",'@Bob,tel:+250780000002,Province A,Teachers,12,,'=cmd|' /C calc'!A0,` + "\n" +
		`"` + at(5) + `",Alice,tel:+250780000001,Province A,"Heads, Teachers",2,,,` + "\n" +
		`"` + at(1) + `",Alice,tel:+250780000001,Province A,"Heads, Teachers",1,,,` + "\n"
	if r.Body != want {
		t.Fatalf("csv for supervisor A:\n%s\nwant:\n%s", r.Body, want)
	}
	if at(6)[len(at(6))-5:] != "10:06" {
		t.Fatalf("dates are not Kigali time: %s", at(6))
	}
	// The administrator (all panels) also gets Eve; supervisor B only Eve.
	all := f.newClient(f.Org, f.Admin).get(p)
	rows, err := csv.NewReader(strings.NewReader(all.Body)).ReadAll()
	if err != nil || len(rows) != 5 || rows[1][1] != "Eve" || rows[1][5] != "7" {
		t.Fatalf("csv for the administrator: %v %q", err, rows)
	}
	b := f.newClient(f.Org, f.SupB).get(p)
	if rows, _ := csv.NewReader(strings.NewReader(b.Body)).ReadAll(); len(rows) != 2 || rows[1][1] != "Eve" {
		t.Fatalf("csv for supervisor B: %q", b.Body)
	}
	// Poll run 1: raw values (the recording's URL, the category's raw text).
	one := f.newClient(f.Org, f.SupA).get("/response/by_pollrun/" + sid(f.Runs[0]) + "/?_format=csv")
	mustContain(t, "csv run 1", one.Body, ",Alice,tel:+250780000001,Province A,\"Heads, Teachers\",4,yes,The school water pump is broken,https://example.org/rec/1.m4a\n")
	mustNotContain(t, "csv run 1", one.Body, "secret", "Dan")
}

func TestResponsesTab(t *testing.T) {
	f := newPollFixture(t)
	a := f.newClient(f.Org, f.SupA)
	p := "/response/by_pollrun/" + sid(f.Runs[0]) + "/"
	r := a.get(p)
	mustContain(t, "responses", r.Body, "<th>Pupils</th><th>Water</th><th>Comment</th><th>Voice</th><th>Date</th>",
		`<a href="/response/by_contact/`+sid(f.Contacts["c-a1"])+`/">Alice</a>`, "<td>Heads, Teachers</td>",
		`<td>4</td><td>Yes</td><td>The school water pump is broken</td><td><a href="https://example.org/rec/1.m4a">Play</a></td>`)
	mustNotContain(t, "responses", r.Body, "Dan", "<th>Hidden</th>")
	// Poll run 2: the empty response is not listed, the inactive one neither.
	r2 := a.get("/response/by_pollrun/" + sid(f.Runs[1]) + "/")
	if n := strings.Count(r2.Body, "/response/by_contact/"); n != 2 {
		t.Errorf("poll run 2 lists %d responses, want 2", n)
	}
	mustNotContain(t, "responses run 2", r2.Body, "Carol", "<td>1</td>")
	frag := a.get(p, "HX-Request", "true")
	if strings.Contains(frag.Body, "<html") || !strings.HasPrefix(frag.Body, `<div id="pollrun-tab">`) {
		t.Fatalf("responses fragment: %.200s", frag.Body)
	}
	t.Logf("responses fragment: %d B gzip", gzipSize(t, []byte(frag.Body)))
}

func TestResponsesByContact(t *testing.T) {
	f := newPollFixture(t)
	a := f.newClient(f.Org, f.SupA)
	r := a.get("/response/by_contact/" + sid(f.Contacts["c-a1"]) + "/")
	mustContain(t, "by contact", r.Body, "<h1>Alice</h1>", "<div>1. Pupils: Any</div><div>2. Water: Yes</div><div>3. Comment: The school water pump is broken</div>",
		`<a href="/pollrun/read/`+sid(f.Runs[1])+`/">Attendance</a>`)
	mustNotContain(t, "by contact", r.Body, "secret", "Hidden")
	if r := a.get("/response/by_contact/" + sid(f.Contacts["c-b1"]) + "/"); r.Code != 404 {
		t.Errorf("supervisor A on a contact of Province B: %d, want 404", r.Code)
	}
	if r := f.newClient(f.Org, f.SupB).get("/response/by_contact/" + sid(f.Contacts["c-b1"]) + "/"); r.Code != 200 || !strings.Contains(r.Body, "1. Pupils: Any") {
		t.Errorf("supervisor B on Dan: %d", r.Code)
	}
	if r := a.get("/response/by_contact/"+sid(f.Contacts["c-a1"])+"/", "HX-Request", "true"); strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="contact-responses"`) {
		t.Errorf("by contact fragment: %.200s", r.Body)
	}
}

// TestDashboardSwapWeights measures the htmx swaps on a fuller poll: 80 more
// contacts of Province A answering on 12 more days (the responses tab shows
// 50 rows a page; the poll charts 14 poll runs).
func TestDashboardSwapWeights(t *testing.T) {
	f := newPollFixture(t)
	var contacts []models.ContactRow
	for i := 0; i < 80; i++ {
		contacts = append(contacts, models.ContactRow{UUID: fmt.Sprintf("c-x%02d", i), Name: fmt.Sprintf("Teacher %02d of the district school", i),
			URNs: []string{fmt.Sprintf("tel:+25078100%04d", i)}, Groups: []string{"g-a", "g-teachers"}, Language: "eng", Active: true, ModifiedOn: time.Now()})
	}
	if _, err := f.DB.ApplyContacts(f.Ctx, f.Org, contacts, nil); err != nil {
		t.Fatal(err)
	}
	words := []string{"pump", "water", "broken", "teacher", "books", "roof", "rain", "latrine", "chalk", "desks"}
	var runs []models.RunRow
	for d := 0; d < 12; d++ {
		day := f.Day1.AddDate(0, 0, -d-1)
		for i, c := range contacts {
			at := day.Add(time.Duration(i) * time.Minute)
			cat := "Yes"
			if i%3 == 0 {
				cat = "No"
			}
			runs = append(runs, models.RunRow{UUID: fmt.Sprintf("rx-%d-%d", d, i), FlowUUID: "flow-1", ContactUUID: c.UUID, ExitType: "completed", CreatedOn: at, ModifiedOn: at,
				Values: []models.RunValueRow{{Key: "pupils", Node: "n-pupils", Value: fmt.Sprint(20 + i%17), Time: at},
					{Key: "water", Node: "n-water", Value: strings.ToLower(cat), Category: &cat, Time: at},
					{Key: "comment", Node: "n-comment", Value: words[i%10] + " " + words[(i+d)%10] + " and " + words[(i*7)%10], Time: at}}})
		}
	}
	ri, err := f.DB.NewRunIngester(f.Ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ri.ApplyPage(f.Ctx, runs, nil); err != nil {
		t.Fatal(err)
	}
	var busy int64
	if err := f.DB.QueryRow(`SELECT id FROM pollruns WHERE poll_id = ? AND local_date = ?`, f.Poll.ID, f.Org.LocalDate(f.Day1.AddDate(0, 0, -1))).Scan(&busy); err != nil {
		t.Fatal(err)
	}
	a := f.newClient(f.Org, f.SupA)
	hx := []string{"HX-Request", "true"}
	var sizes []int
	for _, p := range []string{
		"/poll/read/" + sid(f.Poll.ID) + "/?date_range=60-days&numeric=sum",
		"/poll/read/" + sid(f.Poll.ID) + "/?date_range=60-days&numeric=response-rate&split_regions=1",
		"/pollrun/read/" + sid(busy) + "/",
		"/pollrun/participation/" + sid(busy) + "/",
		"/pollrun/participation/" + sid(busy) + "/?group-by=region",
		"/response/by_pollrun/" + sid(busy) + "/",
		"/response/by_pollrun/" + sid(busy) + "/?page=2",
		"/pollrun/",
	} {
		r := a.get(p, hx...)
		if r.Code != 200 {
			t.Fatalf("%s: %d", p, r.Code)
		}
		n := gzipSize(t, []byte(r.Body))
		sizes = append(sizes, n)
		t.Logf("swap %s: %d B raw, %d B gzip", p, len(r.Body), n)
	}
	sort.Ints(sizes)
	p95 := sizes[int(float64(len(sizes)-1)*0.95)]
	t.Logf("swap p95: %d B gzip", p95)
	if p95 > 4096 {
		t.Errorf("htmx swaps weigh %d B gzip at p95, over 4 KB", p95)
	}
	r := a.get("/response/by_pollrun/" + sid(busy) + "/?page=2")
	mustContain(t, "page 2", r.Body, "Page 2 of 2")
	if n := strings.Count(r.Body, "/response/by_contact/"); n != 30 {
		t.Errorf("page 2 lists %d responses, want 30", n)
	}
	pageWeight(t, a, "poll detail, 14 poll runs (supervisor)", "/poll/read/"+sid(f.Poll.ID)+"/?date_range=60-days")
}

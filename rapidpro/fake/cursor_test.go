package fake

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// srvtTenTies seeds ten runs sharing one modified_on plus two later ones.
func srvtTenTies(st *Store, fx *srvtFixture) {
	t := srvtBase.Add(-time.Hour)
	for i := 0; i < 10; i++ {
		srvtRun(st, fx, fx.contacts[i%3], t, true)
	}
}

func srvtIDs(rs []map[string]any) []int {
	var out []int
	for _, r := range rs {
		out = append(out, int(r["id"].(float64)))
	}
	return out
}

func TestSrvPaginationTiesAreExact(t *testing.T) {
	e, _ := srvtNew(t, Config{PageSize: 3}, srvtTenTies)
	all := e.walk("/api/v2/runs.json")
	ids := srvtIDs(all)
	if len(ids) != 10 {
		t.Fatalf("got %d runs: %v", len(ids), ids)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not in -id order: %v", ids)
		}
	}
	// ascending with reverse=true, same exactness
	asc := srvtIDs(e.walk("/api/v2/runs.json?reverse=true"))
	if len(asc) != 10 {
		t.Fatalf("reverse got %v", asc)
	}
	for i := 1; i < len(asc); i++ {
		if asc[i] <= asc[i-1] {
			t.Fatalf("reverse not ascending: %v", asc)
		}
	}
}

func TestSrvPaginationMixedOrderAndPrevious(t *testing.T) {
	e, fx := srvtNew(t, Config{PageSize: 4}, nil)
	e.st.Write(func() {
		for i := 0; i < 11; i++ {
			// pairs of ties
			srvtRun(e.st, fx, fx.contacts[0], srvtBase.Add(-time.Duration(i/2)*time.Second), i%2 == 0)
		}
	})
	var all []map[string]any
	var pages []string
	path := "/api/v2/runs.json"
	for path != "" {
		pages = append(pages, path)
		var res []map[string]any
		res, path = e.page(path)
		all = append(all, res...)
	}
	if len(all) != 11 {
		t.Fatalf("got %d", len(all))
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1]["modified_on"].(string), all[i]["modified_on"].(string)
		if a < b || (a == b && all[i]["id"].(float64) > all[i-1]["id"].(float64)) {
			t.Fatalf("order broken at %d: %v %v", i, all[i-1], all[i])
		}
	}
	// previous of page 2 gives page 1 again
	m := e.obj("GET", pages[1], nil, 200)
	prev, _ := m["previous"].(string)
	if prev == "" {
		t.Fatal("page 2 has no previous link")
	}
	back, _ := e.page(prev)
	first, _ := e.page(pages[0])
	if fmt.Sprint(srvtIDs(back)) != fmt.Sprint(srvtIDs(first)) {
		t.Fatalf("previous page %v != first page %v", srvtIDs(back), srvtIDs(first))
	}
	if m := e.obj("GET", pages[0], nil, 200); m["previous"] != nil {
		t.Fatalf("first page has previous %v", m["previous"])
	}
}

func TestSrvNextKeepsParams(t *testing.T) {
	e, fx := srvtNew(t, Config{PageSize: 2}, srvtTenTies)
	q := "/api/v2/runs.json?flow=" + fx.flow.UUID + "&responded=true&after=2020-01-01T00:00:00.000000Z"
	_, next := e.page(q)
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, e.ts.URL+"/api/v2/runs.json?") {
		t.Fatalf("next %q", next)
	}
	v := u.Query()
	if v.Get("flow") != fx.flow.UUID || v.Get("responded") != "true" || v.Get("after") != "2020-01-01T00:00:00.000000Z" || v.Get("cursor") == "" {
		t.Fatalf("next lost params: %q", next)
	}
	// X-Forwarded-Proto switches the scheme
	resp, raw := e.do("GET", q, nil, "X-Forwarded-Proto", "https")
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"next":"https://`) {
		t.Fatalf("forwarded proto ignored: %s", raw)
	}
	// cursor is DRF-shaped: base64 of o=..&p=..
	c := v.Get("cursor")
	dec, err := decodeCursor(url.Values{"cursor": {c}}, posTime, 100000)
	if err != nil || dec.pos != nil || dec.offset != 2 {
		t.Fatalf("cursor %q -> %+v %v", c, dec, err)
	}
}

func TestSrvInvalidCursor(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtTenTies)
	for _, c := range []string{"%%%garbage", "bz1hYmM=" /* o=abc */, "bz0tMQ==" /* o=-1 */, "cD1ub3QtYS1kYXRl" /* p=not-a-date */} {
		m := e.obj("GET", "/api/v2/runs.json?cursor="+c, nil, 404)
		if m["detail"] != "Invalid cursor" {
			t.Fatalf("%s: %v", c, m)
		}
	}
}

func TestSrvCursorCodec(t *testing.T) {
	ts := time.Date(2015, 8, 26, 10, 5, 47, 516562000, time.UTC)
	k := timeKey(ts)
	c := pageCursor{offset: 3, reverse: true, pos: &k}
	enc := c.encode(posTime)
	// Python: b64encode(urlencode({"o": "3", "r": "1", "p": "2015-08-26 10:05:47.516562+00:00"}))
	want := "bz0zJnI9MSZwPTIwMTUtMDgtMjYrMTAlM0EwNSUzQTQ3LjUxNjU2MiUyQjAwJTNBMDA="
	if enc != want {
		t.Fatalf("encode %s want %s", enc, want)
	}
	dec, err := decodeCursor(url.Values{"cursor": {enc}}, posTime, 2)
	if err != nil || dec.offset != 2 || !dec.reverse || dec.pos == nil || dec.pos.t != k.t {
		t.Fatalf("decode %+v %v (offset must be capped by the cutoff)", dec, err)
	}
}

func TestSrvAfterPageHook(t *testing.T) {
	build := func(st *Store, fx *srvtFixture) {
		for i := 0; i < 9; i++ {
			srvtRun(st, fx, fx.contacts[i%3], srvtBase.Add(-time.Duration(10-i)*time.Minute), true)
		}
	}
	// descending: the oldest run, modified after page 1, jumps above the cursor and is missed
	e, _ := srvtNew(t, Config{PageSize: 3}, build)
	var oldest *Run
	e.st.Read(func() { oldest = e.st.Runs[0] })
	e.clk.Advance(time.Minute)
	e.srv.AfterPage("runs", 1, func(st *Store) { st.TouchRun(oldest.UUID, func(r *Run) {}) })
	desc := srvtIDs(e.walk("/api/v2/runs.json"))
	if len(desc) != 8 {
		t.Fatalf("descending saw %d runs: %v", len(desc), desc)
	}
	for _, id := range desc {
		if id == int(oldest.ID) {
			t.Fatalf("modified run should be skipped in descending order: %v", desc)
		}
	}
	// ascending: a run seen on page 1 and modified after it is seen again at the end
	e2, _ := srvtNew(t, Config{PageSize: 3}, build)
	var first *Run
	e2.st.Read(func() { first = e2.st.Runs[0] })
	e2.clk.Advance(time.Minute)
	e2.srv.AfterPage("runs", 1, func(st *Store) { st.TouchRun(first.UUID, func(r *Run) {}) })
	asc := srvtIDs(e2.walk("/api/v2/runs.json?reverse=1"))
	if len(asc) != 10 || asc[0] != int(first.ID) || asc[9] != int(first.ID) {
		t.Fatalf("ascending should see the run twice: %v", asc)
	}
	// the hook fires once
	if again := srvtIDs(e2.walk("/api/v2/runs.json?reverse=1")); len(again) != 9 {
		t.Fatalf("hook fired twice: %v", again)
	}
}

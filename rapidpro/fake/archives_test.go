package fake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// srvtArchiveSeed adds exited runs on three days of February and one open run.
func srvtArchiveSeed(st *Store, fx *srvtFixture) {
	for d := 1; d <= 3; d++ {
		for i := 0; i < d; i++ {
			srvtRun(st, fx, fx.contacts[i%3], time.Date(2025, 2, d, 10, i, 0, 0, time.UTC), true)
		}
	}
	open := srvtRun(st, fx, fx.contacts[0], time.Date(2025, 2, 2, 9, 0, 0, 0, time.UTC), false)
	open.ExitType, open.ExitedOn = "", nil
	st.AddMessage(&Message{ContactUUID: fx.contacts[0].UUID, Direction: "in", Status: "handled", Text: "old", CreatedOn: time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC)})
}

func srvtDownload(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestSrvArchives(t *testing.T) {
	e, _ := srvtNew(t, Config{}, srvtArchiveSeed)
	if n := e.srv.ArchiveRuns(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "daily"); n != 6 {
		t.Fatalf("archived %d runs", n)
	}
	if n := e.srv.ArchiveMessages(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "daily"); n != 1 {
		t.Fatalf("archived %d messages", n)
	}
	live := e.walk("/api/v2/runs.json")
	if len(live) != 1 || live[0]["exit_type"] != nil {
		t.Fatalf("archived runs still served: %d", len(live))
	}
	if n := len(e.walk("/api/v2/messages.json")); n != 0 {
		t.Fatalf("archived messages still served: %d", n)
	}
	list := e.walk("/api/v2/archives.json?archive_type=run")
	if len(list) != 3 || list[0]["start_date"] != "2025-02-03" || list[2]["start_date"] != "2025-02-01" || list[0]["period"] != "daily" {
		t.Fatalf("run archives %v", list)
	}
	a := list[0]
	resp, gz := srvtDownload(t, a["download_url"].(string))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download %d", resp.StatusCode)
	}
	sum := md5.Sum(gz)
	if a["size"] != float64(len(gz)) || a["hash"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("size/hash mismatch: %v %v vs %d", a["size"], a["hash"], len(gz))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	var recs []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 3 || a["record_count"] != 3.0 {
		t.Fatalf("records %d", len(recs))
	}
	r := recs[0]
	srvtShape(t, "archived run", r, "id uuid flow contact responded path values created_on modified_on exited_on exit_type submitted_by", "")
	if r["values"].(map[string]any)["water_points"].(map[string]any)["input"] != "3 points" || r["modified_on"].(string) > recs[1]["modified_on"].(string) {
		t.Fatalf("archived record %v", r)
	}
	// a tampered URL and an expired one get 403
	if resp, _ := srvtDownload(t, a["download_url"].(string)+"0"); resp.StatusCode != 403 {
		t.Fatalf("tampered %d", resp.StatusCode)
	}
	e.clk.Advance(25 * time.Hour)
	if resp, _ := srvtDownload(t, a["download_url"].(string)); resp.StatusCode != 403 {
		t.Fatalf("expired %d", resp.StatusCode)
	}
	// re-listing gives a fresh URL
	fresh := e.walk("/api/v2/archives.json?archive_type=run")[0]
	if resp, _ := srvtDownload(t, fresh["download_url"].(string)); resp.StatusCode != 200 {
		t.Fatalf("fresh url %d", resp.StatusCode)
	}
	if n := len(e.walk("/api/v2/archives.json?type=message")); n != 1 {
		t.Fatalf("message archives %d", n)
	}
	if n := len(e.walk("/api/v2/archives.json?after=2025-02-02&before=2025-02-03")); n != 2 {
		t.Fatalf("date-filtered archives %d", n)
	}
	// monthly rollup hides the dailies
	e.srv.ArchiveRuns(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "monthly")
	runsList := e.walk("/api/v2/archives.json?archive_type=run")
	if len(runsList) != 1 || runsList[0]["period"] != "monthly" || runsList[0]["start_date"] != "2025-02-01" || runsList[0]["record_count"] != 6.0 {
		t.Fatalf("after rollup %v", runsList)
	}
}

func TestSrvArchiveProfileKey(t *testing.T) {
	for prof, key := range map[Profile]string{ProfileLegacy2017: "archive_type", ProfileOSS2025: "archive_type", ProfileHosted2025: "type"} {
		e, _ := srvtNew(t, Config{Profile: prof}, srvtArchiveSeed)
		e.srv.ArchiveRuns(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "monthly")
		l := e.walk("/api/v2/archives.json")
		if len(l) != 1 || l[0][key] != "run" {
			t.Fatalf("%s: %v", prof, l)
		}
	}
}

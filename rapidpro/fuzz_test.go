package rapidpro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleRecords returns the raw bytes of each record of a shared sample.
func sampleRecords(t testing.TB, name string) [][]byte {
	var page struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(sample(t, name), &page); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(page.Results))
	for i, r := range page.Results {
		out[i] = []byte(r)
	}
	return out
}

func FuzzDecodeRun(f *testing.F) {
	for _, rec := range sampleRecords(f, "runs.json") {
		f.Add(rec)
	}
	for _, s := range []string{legacyRun, ossRun, hostedRun, `{"values": {"x": {"category": {"": null}}}}`, `null`, `[]`, `{"id": 1e400}`} {
		f.Add([]byte(s))
	}
	for _, s := range append(append([]string(nil), trickyRuns...), invalidRuns...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fast decoder accepts exactly the valid JSON documents.
		var fast Run
		_, err := decodeRun(data, &fast)
		if (err == nil) != json.Valid(data) {
			t.Fatalf("fast decoder: err=%v but json.Valid=%v for %q", err, json.Valid(data), data)
		}
		if err != nil {
			return
		}
		_ = fast.Key()
		// It agrees with the encoding/json reference decoder whenever no
		// object repeats a key (servers never do; encoding/json's
		// merging of repeated keys is not worth mirroring).
		var w wireRun
		if err := decodeTolerant(data, &w); err != nil {
			t.Fatalf("reference failed on valid JSON: %v", err)
		}
		if ref := w.api(); !hasDuplicateKeys(data) && !reflect.DeepEqual(fast, ref) {
			t.Fatalf("decoders disagree on %q:\n fast %+v\n  ref %+v", data, fast, ref)
		}
		// Round trip through json.Marshal without panicking.
		if b, err := json.Marshal(fast); err == nil {
			var back Run
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("re-decoding %s: %v", b, err)
			}
		}
		// A page made of the record decodes the same way too.
		page := append(append([]byte(`{"next": null, "results": [`), data...), ']', '}')
		runs, _, _, err := decodeRunsPage(bytes.NewReader(page))
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		var p wirePage[wireRun]
		if _, err := decodePage(bytes.NewReader(page), &p); err != nil || len(p.Results) != len(runs) {
			t.Fatalf("reference page: %v, %d vs %d results", err, len(p.Results), len(runs))
		}
	})
}

// hasDuplicateKeys reports whether any object in data repeats a key
// (compared case-insensitively, as encoding/json matches fields).
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   []string
		expect bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expect {
			if k, ok := tok.(string); ok {
				for _, seen := range top.keys {
					if strings.EqualFold(seen, k) {
						return true
					}
				}
				top.keys = append(top.keys, k)
				top.expect = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expect = true
		}
	}
}

func FuzzDecodeContact(f *testing.F) {
	for _, rec := range sampleRecords(f, "contacts.json") {
		f.Add(rec)
	}
	for _, s := range []string{`{"uuid":"a","blocked":null,"stopped":null}`, `{"status":null}`,
		`{"fields":{"a":{"b":1},"c":[1,2],"d":1e999}}`, `{"urns":[1,null,"x"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Contact
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		_ = c.Active()
		if c.Status == "" {
			t.Fatalf("empty derived status for %q", data)
		}
		if b, err := json.Marshal(c); err == nil {
			var back Contact
			_ = json.Unmarshal(b, &back)
		}
	})
}

// runsPage builds a realistic page of n runs (6 path steps, 4 values).
func runsPage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"next": "https://app.rapidpro.io/api/v2/runs.json?cursor=cD0yMDE1LTExLTExKzExJTNBMzAlM0EyNS4xMjM0NTYlMkIwMCUzQTAw", "previous": null, "results": [`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id": %d, "uuid": "0b6ed5cb-4b9f-422d-a53d-%012d",
 "flow": {"uuid": "ffce0fbb-4fe1-4052-b26a-91beb2ebae9a", "name": "Water Survey"},
 "contact": {"uuid": "d33e9ad5-5c35-414c-abd4-%012d", "name": "Frank McFlow", "urn": "tel:+250788%06d", "urn_display": "0788 %06d"},
 "start": {"uuid": "93a624ad-5440-415e-b49f-17bf42754acb"}, "responded": true,
 "path": [`, 100000+i, i, i, i, i)
		for s := 0; s < 6; s++ {
			if s > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"node": "27a86a1b-6cc4-4ae3-b73d-89650966a8%02d", "time": "2025-11-11T13:05:%02d.457742Z"}`, s, s)
		}
		b.WriteString(`], "values": {`)
		for v, key := range []string{"color", "age", "reason", "district"} {
			if v > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%s": {"name": "%s", "value": "value %d", "category": "Category %d", "node": "fc32aeb0-ac3e-42a8-9ea7-10248fdf52a%d", "time": "2025-11-11T13:03:51.635662Z", "input": "it is %d"}`,
				key, strings.ToUpper(key[:1])+key[1:], v, v, v, v)
		}
		b.WriteString(`}, "created_on": "2025-08-26T10:04:09.737686Z", "modified_on": "2025-08-26T10:05:47.516562Z",
 "exited_on": "2025-08-26T10:05:47.516562Z", "exit_type": "completed"}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func TestRunsPageFixture(t *testing.T) {
	runs, next, mistyped, err := decodeRunsPage(bytes.NewReader(runsPage(250)))
	if err != nil || len(runs) != 250 || mistyped != 0 || !strings.HasPrefix(next, "https://app.rapidpro.io/api/v2/runs.json?cursor=") {
		t.Fatalf("err %v n %d", err, len(runs))
	}
	r := runs[249]
	if r.ID != 100249 || len(r.Path) != 6 || len(r.Values) != 4 || deref(r.Values["age"].Category) != "Category 1" ||
		r.ModifiedOn != time.Date(2025, 8, 26, 10, 5, 47, 516562000, time.UTC) {
		t.Errorf("run %+v", r)
	}
}

func BenchmarkDecodeRunsPage(b *testing.B) {
	data := runsPage(250)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs, _, _, err := decodeRunsPage(bytes.NewReader(data))
		if err != nil || len(runs) != 250 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(250*b.N)/b.Elapsed().Seconds(), "runs/s")
}

// BenchmarkDecodeRunsPageReference decodes the same page with the
// encoding/json reference decoder, for comparison.
func BenchmarkDecodeRunsPageReference(b *testing.B) {
	data := runsPage(250)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var p wirePage[wireRun]
		if _, err := decodePage(bytes.NewReader(data), &p); err != nil || len(p.Results) != 250 {
			b.Fatal(err)
		}
		for i := range p.Results {
			_ = p.Results[i].api()
		}
	}
	b.ReportMetric(float64(250*b.N)/b.Elapsed().Seconds(), "runs/s")
}

// FuzzParseTime checks that the allocation-free timestamp parser agrees
// with ParseTime wherever it answers.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2015-11-11T13:05:57.576056Z", "2015-11-11T13:05:57.576056+00:00", "2015-11-11T13:05:57Z",
		"2016-02-29T23:59:59.999999999-05:30", "2015-02-29T00:00:00Z", "2015-11-11T13:05:57.1234567891Z", "0000-01-01T00:00:00+23:59",
		"2015-11-11T24:00:00Z", "2015-11-11T13:05:60Z", "2015-11-11T13:05:57-00:00", "2015-11-11T13:05:57.Z", "2015-11-11 13:05:57Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parseRFC3339([]byte(s))
		if !ok {
			return
		}
		slow, err := ParseTime(s)
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %v, ParseTime %v (%v)", s, fast, slow, err)
		}
	})
}

// trickyRuns are documents that exercise the corners of the run decoder.
var trickyRuns = []string{
	`{"UUID": "upper", "Flow": {"UUID": "f", "NAME": "n"}, "Exit_Type": "completed"}`,
	`{"uuid": "a\"b\\c\/d\u00e9\ud83d\ude00\ud800x", "contact": {"name": "\u003cscript\u003e", "urn": 12}}`,
	"{\"uuid\": \"caf\xc3\xa9 \xff bad\", \"values\": {\"k\": {\"value\": \"\xfe\"}}}",
	` { "uuid" : "ws" , "path" : [ null , 1 , { "node" : "n" , "time" : 5 } ] , "values" : { "x" : null , "y" : [ ] } } `,
	`{"id": "42", "uuid": 42, "flow": "f", "contact": [], "start": "s", "start_uuid": 7, "responded": "yes", "path": {}, "values": []}`,
	`{"id": -9223372036854775808, "responded": 1, "exited_on": "2015-11-11T13:05:57+01:00", "unknown": {"deep": [[[{"x": [1.5e-3, true, false, null]}]]]}}`,
	`{"values": {"a": {"category": {"fra": null, "eng": "E", "base": "B"}, "input": 3, "time": "2015-02-29T00:00:00Z"}}}`,
	`{"start": {"uuid": null}, "start_uuid": "legacy", "path": [], "values": {}}`,
	`[1, 2]`, `"run"`, `null`, `{}`,
}

// invalidRuns are not JSON; both decoders must reject them.
var invalidRuns = []string{
	`{"uuid": "a",}`, `{"uuid": "a"`, `{"uuid": "a"} x`, `{"id": 01}`, `{"id": -}`, `{"id": 1.}`, `{"id": 1e}`,
	`{"uuid": "\x"}`, `{"uuid": "\u12"}`, "{\"uuid\": \"a\tb\"}", `{uuid: "a"}`, `{"a" "b"}`, `{"a": tru}`, `{"path": [1,]}`, ``, ` `,
}

func TestFastRunDecoderMatchesReference(t *testing.T) {
	for _, doc := range append(append([]string{legacyRun, ossRun, hostedRun}, trickyRuns...), string(runsPage(1))) {
		data := []byte(doc)
		if strings.HasPrefix(doc, `{"next"`) {
			var p struct{ Results []json.RawMessage }
			if err := json.Unmarshal(data, &p); err != nil {
				t.Fatal(err)
			}
			data = p.Results[0]
		}
		var fast Run
		if _, err := decodeRun(data, &fast); err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		var w wireRun
		if err := decodeTolerant(data, &w); err != nil {
			t.Fatalf("%s: reference: %v", doc, err)
		}
		if ref := w.api(); !reflect.DeepEqual(fast, ref) {
			t.Errorf("%s:\n fast %+v\n  ref %+v", doc, fast, ref)
		}
	}
	for _, doc := range invalidRuns {
		var r Run
		if _, err := decodeRun([]byte(doc), &r); err == nil {
			t.Errorf("%q accepted", doc)
		}
		if json.Valid([]byte(doc)) {
			t.Errorf("%q is valid JSON; fix the fixture", doc)
		}
	}
	var r Run
	if err := json.Unmarshal([]byte(trickyRuns[0]), &r); err != nil || r.UUID != "upper" || r.Flow.Name != "n" || r.ExitType != "completed" {
		t.Errorf("case-insensitive keys: %v %+v", err, r)
	}
	if err := json.Unmarshal([]byte(trickyRuns[1]), &r); err != nil || r.UUID != "a\"b\\c/dé😀\uFFFDx" || r.Contact.Name != "<script>" {
		t.Errorf("escapes: %v %q %q", err, r.UUID, r.Contact.Name)
	}
}

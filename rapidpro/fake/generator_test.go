package fake

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// genEnd is a fixed Wednesday afternoon used as "now" by the generator tests.
var genEnd = time.Date(2026, 3, 18, 14, 30, 0, 123456000, time.UTC)

func genStore(t testing.TB, seed int64, contacts, weeks int) (*Store, GenInfo) {
	t.Helper()
	clock := NewClock()
	clock.Freeze()
	clock.Set(genEnd)
	s := NewStore(clock)
	return s, Generate(s, GenConfig{Seed: seed, Contacts: contacts, Weeks: weeks, End: genEnd})
}

// digest hashes everything observable about the generated org.
func digest(s *Store) string {
	h := sha256.New()
	fmt.Fprintf(h, "%+v\n", s.Org)
	for _, g := range s.Groups {
		fmt.Fprintf(h, "%+v\n", *g)
	}
	for _, b := range s.Boundaries {
		fmt.Fprintf(h, "%s %s %d %s %s\n", b.OSMID, b.Name, b.Level, b.Parent, b.Geometry)
	}
	for _, f := range s.Flows {
		fmt.Fprintf(h, "%s %s %v\n", f.UUID, f.Name, f.CreatedOn)
		for _, q := range f.Questions {
			fmt.Fprintf(h, "%+v\n", *q)
		}
	}
	for _, c := range s.Contacts {
		fmt.Fprintf(h, "%d %s %q %s %v %v %v %s %v %v %v\n", c.ID, c.UUID, c.Name, c.Language, c.URNs, c.Groups, c.Fields, c.Status, c.Deleted, c.CreatedOn, c.ModifiedOn)
	}
	for _, r := range s.Runs {
		fmt.Fprintf(h, "%d %s %s %s %s %v %v %v %v %s %v\n", r.ID, r.UUID, r.FlowUUID, r.ContactUUID, r.StartUUID, r.Responded, r.Path, r.CreatedOn, r.ModifiedOn, r.ExitType, r.ExitedOn)
		for _, q := range sortedKeys(r.Values) {
			v := r.Values[q]
			fmt.Fprintf(h, " %s=%s|%s|%s|%v|%s\n", q, v.Name, v.Value, deref(v.Category), v.Time, v.Input)
		}
	}
	for _, m := range s.Messages {
		fmt.Fprintf(h, "%d %s %s %s %s %s %v\n", m.ID, m.UUID, m.ContactUUID, m.Direction, m.Status, m.Text, m.CreatedOn)
	}
	for _, fs := range s.FlowStarts {
		fmt.Fprintf(h, "%s %s %v %v\n", fs.UUID, fs.FlowUUID, fs.Groups, fs.CreatedOn)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func sortedKeys(m map[string]*Value) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestGenDeterministic(t *testing.T) {
	a, _ := genStore(t, 42, 300, 3)
	b, _ := genStore(t, 42, 300, 3)
	c, _ := genStore(t, 43, 300, 3)
	da, db, dc := digest(a), digest(b), digest(c)
	if da != db {
		t.Fatal("same seed produced different orgs")
	}
	if da == dc {
		t.Fatal("different seeds produced the same org")
	}
	if a.Contacts[0].UUID != b.Contacts[0].UUID || a.Runs[100].UUID != b.Runs[100].UUID {
		t.Fatal("UUIDs differ for the same seed")
	}
	if a.Contacts[0].UUID == c.Contacts[0].UUID || a.Org.UUID == c.Org.UUID {
		t.Fatal("UUIDs equal across seeds")
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, u := range []string{a.Org.UUID, a.Contacts[5].UUID, a.Runs[7].UUID, a.Flows[0].Questions[0].NodeUUID, a.Groups[3].UUID} {
		if !uuidRE.MatchString(u) {
			t.Fatalf("not a v4 UUID: %q", u)
		}
	}
}

func TestGenOrgShape(t *testing.T) {
	const contacts, weeks = 3000, 4
	s, info := genStore(t, 7, contacts, weeks)
	if s.Org.Country != "RW" || s.Org.Timezone != "Africa/Kigali" || len(s.Org.Languages) < 3 {
		t.Fatalf("org info: %+v", s.Org)
	}
	if info.Contacts != contacts || len(s.Contacts) != contacts {
		t.Fatalf("contacts: info %d, store %d", info.Contacts, len(s.Contacts))
	}
	if len(info.Cohorts) < 3 || len(info.Cohorts) > 5 {
		t.Fatalf("cohorts: %v", info.Cohorts)
	}
	if len(info.Panels) < 30 {
		t.Fatalf("panels: %d", len(info.Panels))
	}
	smart, manual := 0, 0
	for _, g := range s.Groups {
		if g.Query != "" {
			smart++
		} else {
			manual++
		}
	}
	if smart != 1 || manual != len(info.Panels)+len(info.Cohorts)+len(genUntracked) {
		t.Fatalf("groups: %d smart, %d manual", smart, manual)
	}
	if len(info.Fields) != len(s.Fields) || len(s.Fields) < 5 {
		t.Fatalf("fields: %v", info.Fields)
	}

	// Contacts: one district panel each, unique phone URNs, some edge cases.
	districts := map[string]string{} // group uuid -> region name
	tree := PanelTree(s)
	for _, name := range info.Panels {
		g := s.GroupByName(name)
		if g == nil {
			t.Fatalf("panel group %q missing", name)
		}
		if p := tree[name]; p != "" && tree[p] != "" {
			districts[g.UUID] = p
		}
	}
	if len(districts) != 30 {
		t.Fatalf("districts: %d", len(districts))
	}
	panelUUIDs := map[string]bool{}
	for _, name := range info.Panels {
		panelUUIDs[s.GroupByName(name).UUID] = true
	}
	cohortUUIDs := map[string]bool{}
	for _, name := range info.Cohorts {
		cohortUUIDs[s.GroupByName(name).UUID] = true
	}
	tels := map[string]bool{}
	var noURN, unsupported, inactive, twitter, whatsapp int
	for _, c := range s.Contacts {
		for _, u := range c.URNs {
			switch scheme, _, _ := strings.Cut(u, ":"); scheme {
			case "tel":
				if tels[u] {
					t.Fatalf("duplicate URN %s", u)
				}
				tels[u] = true
				if !regexp.MustCompile(`^tel:\+2507\d{8}$`).MatchString(u) {
					t.Fatalf("bad tel URN %s", u)
				}
			case "twitter":
				twitter++
			case "whatsapp":
				whatsapp++
			}
		}
		if len(c.URNs) == 0 && !c.Deleted {
			noURN++
		}
		if len(c.URNs) == 1 && (strings.HasPrefix(c.URNs[0], "ext:") || strings.HasPrefix(c.URNs[0], "mailto:")) {
			unsupported++
		}
		if c.Status != "active" || c.Deleted {
			inactive++
			continue
		}
		nPanels, nCohorts := 0, 0
		for _, g := range c.Groups {
			if panelUUIDs[g] {
				nPanels++
				if districts[g] == "" {
					t.Fatalf("contact %s in non-district panel", c.UUID)
				}
			}
			if cohortUUIDs[g] {
				nCohorts++
			}
		}
		if nPanels != 1 || nCohorts < 1 || nCohorts > 2 {
			t.Fatalf("contact %s: %d panels, %d cohorts", c.UUID, nPanels, nCohorts)
		}
	}
	if noURN == 0 || unsupported == 0 || inactive == 0 || twitter == 0 || whatsapp == 0 {
		t.Fatalf("edge cases missing: noURN %d unsupported %d inactive %d twitter %d whatsapp %d", noURN, unsupported, inactive, twitter, whatsapp)
	}
	if float64(inactive) > 0.03*contacts || len(tels) < contacts*85/100 {
		t.Fatalf("proportions: inactive %d, tel %d", inactive, len(tels))
	}

	// Flows: at least five polls covering every question kind.
	kinds := map[QuestionKind]int{}
	polls := map[string]*Flow{}
	for _, name := range info.Polls {
		for _, f := range s.Flows {
			if f.Name == name {
				polls[f.UUID] = f
				for _, q := range f.Questions {
					kinds[q.Kind]++
					checkQuestion(t, q)
				}
			}
		}
	}
	if len(polls) < 5 || kinds[KindNumeric] == 0 || kinds[KindCategorical] == 0 || kinds[KindOpen] == 0 || kinds[KindCalculated] == 0 {
		t.Fatalf("polls %d, kinds %v", len(polls), kinds)
	}
	archived, other := 0, 0
	for _, f := range s.Flows {
		if f.Archived {
			archived++
		} else if polls[f.UUID] == nil {
			other++
		}
	}
	if archived != 1 || other < 1 {
		t.Fatalf("archived %d, non-poll %d", archived, other)
	}
	checkRuns(t, s, info, polls, districts, weeks)
}

// checkQuestion verifies a question's definition.
func checkQuestion(t *testing.T, q *Question) {
	t.Helper()
	if q.NodeUUID == "" || q.Key != snakeCase(q.Name) || q.Key == "" || len(q.Categories) == 0 {
		t.Fatalf("question %+v", q)
	}
	last := q.Categories[len(q.Categories)-1]
	switch q.Kind {
	case KindOpen:
		if len(q.Cases) != 0 || last != "All Responses" || q.Prompt == "" {
			t.Fatalf("open question %+v", q)
		}
	case KindNumeric, KindCalculated:
		for _, c := range q.Cases {
			if c.Type != "has_number_between" || len(c.Arguments) != 2 {
				t.Fatalf("numeric case %+v", c)
			}
		}
		if last != "Other" || len(q.Cases) == 0 {
			t.Fatalf("numeric question %+v", q)
		}
		if q.Kind == KindCalculated && (!strings.HasPrefix(q.Operand, "@(results.") || q.Prompt != "") {
			t.Fatalf("calculated question %+v", q)
		}
	case KindCategorical:
		for _, c := range q.Cases {
			if c.Type != "has_any_word" || len(c.Arguments) != 1 {
				t.Fatalf("categorical case %+v", c)
			}
		}
		if last != "Other" || len(q.Cases) < 2 {
			t.Fatalf("categorical question %+v", q)
		}
	}
}

// expectCategory applies the router cases the way goflow does.
func expectCategory(q *Question, v *Value) string {
	switch q.Kind {
	case KindOpen:
		return "All Responses"
	case KindNumeric, KindCalculated:
		n, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			return "Other"
		}
		for _, c := range q.Cases {
			lo, _ := strconv.ParseFloat(c.Arguments[0], 64)
			hi, _ := strconv.ParseFloat(c.Arguments[1], 64)
			if n >= lo && n <= hi {
				return c.Category
			}
		}
		return "Other"
	}
	words := strings.FieldsFunc(strings.ToLower(v.Input), func(r rune) bool { return r == ' ' || r == ',' || r == '.' })
	for _, c := range q.Cases {
		for _, w := range strings.Fields(c.Arguments[0]) {
			for _, x := range words {
				if x == w {
					return c.Category
				}
			}
		}
	}
	return "Other"
}

func checkRuns(t *testing.T, s *Store, info GenInfo, polls map[string]*Flow, districts map[string]string, weeks int) {
	t.Helper()
	if info.Runs != len(s.Runs) {
		t.Fatalf("info.Runs %d, store %d", info.Runs, len(s.Runs))
	}
	eligible := 0
	regionOf := map[string]string{}
	for _, c := range s.Contacts {
		if c.Status == "active" && !c.Deleted && len(c.URNs) > 0 {
			eligible++
		}
		for _, g := range c.Groups {
			if r := districts[g]; r != "" {
				regionOf[c.UUID] = r
			}
		}
	}
	lastStart := time.Date(2026, 3, 16, 6, 0, 0, 0, time.UTC) // Monday 08:00 in Kigali
	weekOf := func(r *Run) int {
		w := 0
		for r.CreatedOn.Before(lastStart.AddDate(0, 0, -7*w)) {
			w++
		}
		return w
	}
	type key struct {
		contact, flow string
		week          int
	}
	seen := map[key]int{}
	starts := map[string]bool{}
	for _, fs := range s.FlowStarts {
		starts[fs.UUID] = true
	}
	var pollRuns, partial, empty, active, fromStart, fromTrigger, failed int
	runsBy, respBy := map[string]int{}, map[string]int{}
	var prevID int64
	for _, r := range s.Runs {
		if r.ID <= prevID {
			t.Fatalf("runs not in ID order")
		}
		prevID = r.ID
		checkRunTimes(t, r)
		f := polls[r.FlowUUID]
		if f == nil {
			continue
		}
		pollRuns++
		seen[key{r.ContactUUID, r.FlowUUID, weekOf(r)}]++
		if r.StartUUID != "" {
			if !starts[r.StartUUID] {
				t.Fatalf("run %s has unknown start %s", r.UUID, r.StartUUID)
			}
			fromStart++
		} else {
			fromTrigger++
		}
		if w := weekOf(r); w >= weeks {
			t.Fatalf("run %s created %v before the first week", r.UUID, r.CreatedOn)
		}
		runsBy[regionOf[r.ContactUUID]]++
		if r.Responded {
			respBy[regionOf[r.ContactUUID]]++
		}
		switch {
		case r.ExitType == "":
			active++
			if r.CreatedOn.Before(lastStart) {
				t.Fatalf("active run %s from an old week", r.UUID)
			}
		case r.ExitType == "failed":
			failed++
		case len(r.Values) == 0:
			empty++
		case r.ExitType != "completed":
			partial++
		}
		if r.Responded != (len(r.Values) > 0) {
			t.Fatalf("run %s responded=%v with %d values", r.UUID, r.Responded, len(r.Values))
		}
		for _, q := range f.Questions {
			v := r.Values[q.Key]
			if v == nil {
				continue
			}
			if v.Node != q.NodeUUID || v.Name != q.Name || v.Category == nil {
				t.Fatalf("value %+v of %s", v, q.Key)
			}
			if want := expectCategory(q, v); *v.Category != want {
				t.Fatalf("%s: value %q input %q category %q, want %q", q.Key, v.Value, v.Input, *v.Category, want)
			}
		}
		if r.ExitType == "completed" && len(r.Values) != len(f.Questions) {
			t.Fatalf("completed run %s has %d values", r.UUID, len(r.Values))
		}
	}
	want := eligible * len(polls) * weeks
	if len(seen) != want {
		t.Fatalf("distinct (contact, poll, week) = %d, want %d", len(seen), want)
	}
	if extra := pollRuns - want; extra < 0 || extra > want/50 {
		t.Fatalf("second answers: %d", extra)
	}
	if partial == 0 || empty == 0 || active == 0 || fromStart == 0 || fromTrigger == 0 || failed == 0 {
		t.Fatalf("partial %d empty %d active %d start %d trigger %d failed %d", partial, empty, active, fromStart, fromTrigger, failed)
	}
	best, worst := 0.0, 1.0
	for region, n := range runsBy {
		rate := float64(respBy[region]) / float64(n)
		t.Logf("%-18s %5d runs, %.1f%% responded", region, n, 100*rate)
		best, worst = max(best, rate), min(worst, rate)
	}
	if len(runsBy) != 5 || best-worst < 0.15 {
		t.Fatalf("region response rates too close: best %.2f worst %.2f", best, worst)
	}
}

func checkRunTimes(t *testing.T, r *Run) {
	t.Helper()
	ok := func(ts time.Time) bool {
		return ts.Location() == time.UTC && ts.Equal(ts.Truncate(time.Microsecond)) && !ts.After(genEnd)
	}
	last := r.CreatedOn
	for _, v := range r.Values {
		if !ok(v.Time) || v.Time.Before(r.CreatedOn) {
			t.Fatalf("value time %v of run %s", v.Time, r.UUID)
		}
		if v.Time.After(last) {
			last = v.Time
		}
	}
	if r.ExitedOn != nil {
		if !ok(*r.ExitedOn) || r.ExitedOn.Before(last) {
			t.Fatalf("exited_on %v of run %s", r.ExitedOn, r.UUID)
		}
		last = *r.ExitedOn
	}
	if !ok(r.CreatedOn) || !ok(r.ModifiedOn) || !r.ModifiedOn.Equal(last) {
		t.Fatalf("run %s: created %v modified %v last event %v", r.UUID, r.CreatedOn, r.ModifiedOn, last)
	}
	if len(r.Path) == 0 || len(r.Path) < len(r.Values) {
		t.Fatalf("run %s path %d steps for %d values", r.UUID, len(r.Path), len(r.Values))
	}
}

func TestGenWeekStarts(t *testing.T) {
	kigali, _ := time.LoadLocation("Africa/Kigali")
	for _, end := range []time.Time{
		time.Date(2026, 3, 16, 8, 0, 0, 0, kigali),   // exactly a poll-day start
		time.Date(2026, 3, 16, 8, 0, 1, 0, kigali),   // just after it
		time.Date(2026, 3, 15, 23, 59, 0, 0, kigali), // Sunday night
		time.Date(2026, 3, 18, 14, 30, 0, 0, time.UTC),
	} {
		s := NewStore(nil)
		info := Generate(s, GenConfig{Seed: 9, Contacts: 60, Weeks: 2, End: end})
		var last time.Time
		for _, fs := range s.FlowStarts {
			if fs.CreatedOn.After(last) {
				last = fs.CreatedOn
			}
		}
		for _, r := range s.Runs {
			if r.CreatedOn.After(end) || r.ModifiedOn.After(end) {
				t.Fatalf("end %v: run %s in the future (%v)", end, r.UUID, r.ModifiedOn)
			}
		}
		var latest time.Time // creation of the newest run started by a flow start
		for _, r := range s.Runs {
			if r.StartUUID != "" && r.CreatedOn.After(latest) {
				latest = r.CreatedOn
			}
		}
		if gap := end.Sub(latest); gap < 0 || gap > 7*24*time.Hour {
			t.Fatalf("end %v: latest poll run %v", end, latest)
		}
		if info.Runs == 0 || last.After(end) {
			t.Fatalf("end %v: runs %d, last start %v", end, info.Runs, last)
		}
	}
}

func TestGenMessagesAndStarts(t *testing.T) {
	s, _ := genStore(t, 3, 800, 2)
	var in, out, bcast int
	for _, m := range s.Messages {
		if m.CreatedOn.After(genEnd) || m.CreatedOn.Before(genEnd.AddDate(0, 0, -11)) {
			t.Fatalf("message time %v", m.CreatedOn)
		}
		switch {
		case m.Direction == "in" && m.Status == "handled" && m.FlowUUID == "":
			in++
		case m.Direction == "out" && m.BroadcastID != 0:
			bcast++
		case m.Direction == "out":
			out++
		}
		if s.ContactsByUUID[m.ContactUUID] == nil || m.URN == "" {
			t.Fatalf("message %+v", m)
		}
	}
	if in == 0 || out == 0 || bcast == 0 || len(s.Broadcasts) == 0 {
		t.Fatalf("messages: in %d out %d broadcast %d", in, out, bcast)
	}
	if len(s.FlowStarts) == 0 {
		t.Fatal("no flow starts")
	}
	for _, fs := range s.FlowStarts {
		if fs.Status != "complete" || fs.ModifiedOn.Before(fs.CreatedOn) || len(fs.Groups) == 0 {
			t.Fatalf("flow start %+v", fs)
		}
	}
	if s.PendingWork() {
		s.ProcessPending(time.Second)
	}
	if s.PendingWork() {
		t.Fatal("generated org leaves pending work")
	}
}

// TestGenLarge measures Contacts 100000 × Weeks 2 (about a million runs).
func TestGenLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large generation skipped in -short mode")
	}
	runtime.GC()
	start := time.Now()
	s, info := genStore(t, 1, 100000, 2)
	took := time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d contacts, %d runs in %v, live heap %d MB", info.Contacts, info.Runs, took, ms.HeapAlloc>>20)
	if info.Runs < 950000 || took > 20*time.Second {
		t.Fatalf("runs %d in %v", info.Runs, took)
	}
	runtime.KeepAlive(s)
}

package fake

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Activity simulates respondents who keep answering over time: active runs get
// values, complete or expire, new poll weeks begin, contacts change and send
// inbox messages. It is deterministic given its seed and the sequence of calls
// (and the store state they meet).
type Activity struct {
	s      *Store
	r      *rand.Rand
	ids    *uuidGen
	ans    *answerer
	active []*Run // candidate active runs (re-checked before use)
	seen   int    // len(s.Runs) already scanned
	last   *Run   // s.Runs[seen-1] when scanned, to notice replaced slices
	cursor int    // expiry sweep position in active
}

// StepStats counts what one Step did.
type StepStats struct {
	RunsAdvanced, RunsCompleted, RunsExpired, RunsCreated, ContactsChanged, MessagesIn int
}

// NewActivity returns respondents for s seeded with seed.
func NewActivity(s *Store, seed int64) *Activity {
	r := rand.New(rand.NewPCG(uint64(seed), 0x61637469))
	return &Activity{s: s, r: r, ids: &uuidGen{r: rand.New(rand.NewPCG(uint64(seed), 0x69647321))}, ans: newAnswerer(r)}
}

// Run calls Step(n) every interval until ctx is done.
func (a *Activity) Run(ctx context.Context, every time.Duration, n int) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.Step(n)
		}
	}
}

// Step performs one tick at the store clock's now, touching about n records. It
// takes the store write lock.
func (a *Activity) Step(n int) StepStats {
	var st StepStats
	n = max(n, 1)
	a.s.Write(func() {
		now := a.s.Clock.Now()
		a.sync()
		a.expire(now, n, &st)
		picked := map[*Run]bool{}
		for k := 0; k < max(1, n*6/10) && len(a.active) > 0; k++ {
			i := a.r.IntN(len(a.active))
			if run := a.active[i]; !a.live(run) {
				a.drop(i)
			} else if !picked[run] {
				picked[run] = true
				if a.advance(run, now, &st); run.ExitType != "" {
					a.drop(i)
				}
			}
		}
		if a.r.IntN(40) == 0 || (len(a.active) == 0 && a.r.IntN(4) == 0) {
			a.newWeek(now, n, &st)
		}
		changes := n / 10
		if changes == 0 && a.r.IntN(3) == 0 {
			changes = 1
		}
		for k := 0; k < changes; k++ {
			a.changeContact(now, &st)
		}
		if a.r.IntN(3) == 0 {
			for k := 0; k < 1+n/20; k++ {
				a.inbox(now, &st)
			}
		}
	})
	return st
}

// sync adds the runs appended since the last call to the active candidates.
func (a *Activity) sync() {
	runs := a.s.Runs
	if len(runs) < a.seen || (a.seen > 0 && runs[a.seen-1] != a.last) {
		a.active, a.seen, a.cursor = a.active[:0], 0, 0
	}
	for _, r := range runs[a.seen:] {
		if r.ExitType == "" && !r.Archived {
			a.active = append(a.active, r)
		}
	}
	a.seen = len(runs)
	if a.seen > 0 {
		a.last = runs[a.seen-1]
	}
}

func (a *Activity) live(r *Run) bool {
	return r.ExitType == "" && !r.Archived && a.s.RunsByUUID[r.UUID] == r
}

func (a *Activity) drop(i int) {
	last := len(a.active) - 1
	a.active[i] = a.active[last]
	a.active[last] = nil
	a.active = a.active[:last]
}

// expire sweeps part of the active list, expiring runs idle for longer than
// their flow's Expires (at most n of them).
func (a *Activity) expire(now time.Time, n int, st *StepStats) {
	for k := 0; k < max(64, 8*n) && len(a.active) > 0 && st.RunsExpired < n; k++ {
		if a.cursor >= len(a.active) {
			a.cursor = 0
		}
		run := a.active[a.cursor]
		if !a.live(run) {
			a.drop(a.cursor)
			continue
		}
		f := a.s.FlowsByUUID[run.FlowUUID]
		if f != nil && f.Expires > 0 && !run.ModifiedOn.Add(time.Duration(f.Expires)*time.Minute).After(now) {
			a.s.TouchRun(run.UUID, func(r *Run) { exitRun(r, "expired", now) })
			st.RunsExpired++
			a.drop(a.cursor)
			continue
		}
		a.cursor++
	}
}

func exitRun(r *Run, how string, at time.Time) {
	t := at
	r.ExitType, r.ExitedOn = how, &t
}

// advance gives run its next answer (and any calculated values after it), and
// completes it after the last question.
func (a *Activity) advance(run *Run, now time.Time, st *StepStats) {
	f := a.s.FlowsByUUID[run.FlowUUID]
	c := a.s.ContactsByUUID[run.ContactUUID]
	if f == nil || c == nil || c.Deleted || c.Status != "active" {
		a.s.TouchRun(run.UUID, func(r *Run) { exitRun(r, "interrupted", now) })
		return
	}
	lang := max(0, slicesIndex(genLangs, c.Language))
	qis := a.ans.infos(f)
	a.s.TouchRun(run.UUID, func(r *Run) {
		if r.Values == nil {
			r.Values = map[string]*Value{}
		}
		answered := false
		for j, qi := range qis {
			q := qi.q
			if r.Values[q.Key] != nil {
				continue
			}
			v := &Value{Name: q.Name, Node: q.NodeUUID, Time: now}
			if q.Kind == KindCalculated {
				v.Value, v.Category = a.ans.calc(qi, r.Values)
			} else if answered {
				return // waiting at this question now
			} else {
				v.Value, v.Input, v.Category = a.ans.answer(qi, lang, a.r.Float64(), 0)
				answered, r.Responded = true, true
				st.RunsAdvanced++
			}
			r.Values[q.Key] = v
			if j+1 < len(qis) {
				r.Path = append(r.Path, Step{Node: qis[j+1].q.NodeUUID, Time: now})
			}
		}
		exitRun(r, "completed", now)
		st.RunsCompleted++
	})
	if run.Responded {
		t := now
		c.LastSeenOn = &t
	}
}

func slicesIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// pollFlows returns the flows treated as polls: those the generator recorded,
// else every unarchived flow with questions.
func (a *Activity) pollFlows() []*Flow {
	var out []*Flow
	for _, u := range extraFor(a.s).polls {
		if f := a.s.FlowsByUUID[u]; f != nil && !f.Archived {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		for _, f := range a.s.Flows {
			if !f.Archived && len(f.Questions) > 0 {
				out = append(out, f)
			}
		}
	}
	return out
}

// eligible lists active contacts with a URN.
func (a *Activity) eligible() []*Contact {
	var out []*Contact
	for _, c := range a.s.Contacts {
		if !c.Deleted && c.Status == "active" && len(c.URNs) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// newWeek starts a new trigger-started week of a poll for up to n random
// contacts, interrupting their active run of that poll.
func (a *Activity) newWeek(now time.Time, n int, st *StepStats) {
	polls, people := a.pollFlows(), a.eligible()
	if len(polls) == 0 || len(people) == 0 {
		return
	}
	f := polls[a.r.IntN(len(polls))]
	current := map[string]*Run{}
	for _, r := range a.active {
		if r.FlowUUID == f.UUID && a.live(r) {
			current[r.ContactUUID] = r
		}
	}
	chosen := map[string]bool{}
	for k := 0; k < n; k++ {
		c := people[a.r.IntN(len(people))]
		if chosen[c.UUID] {
			continue
		}
		chosen[c.UUID] = true
		if old := current[c.UUID]; old != nil {
			a.s.TouchRun(old.UUID, func(r *Run) { exitRun(r, "interrupted", now) })
		}
		run := &Run{UUID: a.ids.next(), FlowUUID: f.UUID, ContactUUID: c.UUID, CreatedOn: now, ModifiedOn: now}
		if len(f.Questions) > 0 {
			run.Path = []Step{{Node: f.Questions[0].NodeUUID, Time: now}}
		} else {
			exitRun(run, "completed", now)
		}
		a.s.AddRun(run)
		st.RunsCreated++
	}
}

// changeContact renames a random contact, changes a field, swaps a cohort, or
// (rarely) blocks, stops or deletes it.
func (a *Activity) changeContact(now time.Time, st *StepStats) {
	if len(a.s.Contacts) == 0 {
		return
	}
	c := a.s.Contacts[a.r.IntN(len(a.s.Contacts))]
	if c.Deleted {
		return
	}
	u := a.r.Float64()
	if c.Status != "active" && u >= 0.75 {
		u = 0 // only renames and field changes for inactive contacts
	}
	a.s.TouchContact(c.UUID, func(c *Contact) {
		switch {
		case u < 0.45:
			c.Name = pick(a.r, firstNames[a.r.IntN(2)]) + " " + pick(a.r, lastNames)
		case u < 0.75:
			if c.Fields == nil {
				c.Fields = map[string]string{}
			}
			switch a.r.IntN(3) {
			case 0:
				c.Fields["birth_year"] = itoa(1958 + a.r.IntN(45))
			case 1:
				c.Fields["school_type"] = pick(a.r, []string{"Public", "Government-aided", "Private"})
			default:
				delete(c.Fields, "school_type")
			}
		case u < 0.93:
			a.swapCohort(c)
		default:
			switch {
			case u < 0.97:
				c.Status = "blocked"
			case u < 0.985:
				c.Status = "stopped"
			default:
				c.Deleted, c.URNs, c.Fields = true, nil, map[string]string{}
			}
			c.Groups = nil
			for _, r := range a.active {
				if r.ContactUUID == c.UUID && a.live(r) {
					a.s.TouchRun(r.UUID, func(r *Run) { exitRun(r, "interrupted", now) })
				}
			}
		}
	})
	st.ContactsChanged++
}

// swapCohort replaces one of c's cohort groups by another cohort.
func (a *Activity) swapCohort(c *Contact) {
	cohorts := extraFor(a.s).cohorts
	if len(cohorts) < 2 {
		return
	}
	to := cohorts[a.r.IntN(len(cohorts))]
	if slicesIndex(c.Groups, to) >= 0 {
		return
	}
	for i, g := range c.Groups {
		if slicesIndex(cohorts, g) >= 0 {
			groups := append([]string(nil), c.Groups...)
			groups[i] = to
			c.Groups = groups
			return
		}
	}
	c.Groups = append(append([]string(nil), c.Groups...), to)
}

// inbox records an unsolicited incoming message from a random contact.
func (a *Activity) inbox(now time.Time, st *StepStats) {
	if len(a.s.Contacts) == 0 {
		return
	}
	c := a.s.Contacts[a.r.IntN(len(a.s.Contacts))]
	if c.Deleted || c.Status != "active" || len(c.URNs) == 0 {
		return
	}
	lang := max(0, slicesIndex(genLangs, c.Language))
	mod := now
	a.s.AddMessage(&Message{UUID: a.ids.next(), ContactUUID: c.UUID, URN: c.URNs[0], Direction: "in", Status: "handled",
		Text: pick(a.r, inboxPhrases[lang]), CreatedOn: now, ModifiedOn: &mod})
	c.LastSeenOn = &mod
	st.MessagesIn++
}

// qinfo is what answering a question needs, derived once from its definition.
type qinfo struct {
	q       *Question
	cats    []*string  // parallel to q.Categories (shared by all values)
	other   *string    // "Other" or "All Responses"
	caseCat []*string  // category of each case
	lo, hi  []float64  // has_number_between bounds per case
	words   [][]string // has_any_word words per case
	titles  [][]string // the same words capitalised
	weights []float64  // categorical: weight of each case
	sumOf   []string   // calculated: result keys added up
	feeds   bool       // used by a calculated question: always a clean number
}

// answerer produces answers; its caches are keyed by question.
type answerer struct {
	r     *rand.Rand
	cache map[*Flow][]*qinfo
}

func newAnswerer(r *rand.Rand) *answerer {
	return &answerer{r: r, cache: map[*Flow][]*qinfo{}}
}

// infos returns (and caches) the question infos of f.
func (a *answerer) infos(f *Flow) []*qinfo {
	if qi, ok := a.cache[f]; ok && len(qi) == len(f.Questions) {
		return qi
	}
	out := make([]*qinfo, len(f.Questions))
	for i, q := range f.Questions {
		qi := &qinfo{q: q}
		for _, c := range q.Categories {
			qi.cats = append(qi.cats, &c)
			if c == "Other" || c == "All Responses" {
				qi.other = qi.cats[len(qi.cats)-1]
			}
		}
		if qi.other == nil {
			other := "Other"
			qi.other = &other
		}
		for _, cs := range q.Cases {
			cat := qi.other
			for k, name := range q.Categories {
				if name == cs.Category {
					cat = qi.cats[k]
				}
			}
			qi.caseCat = append(qi.caseCat, cat)
			var lo, hi float64
			var words []string
			if len(cs.Arguments) >= 2 {
				lo, _ = strconv.ParseFloat(cs.Arguments[0], 64)
				hi, _ = strconv.ParseFloat(cs.Arguments[1], 64)
			} else if len(cs.Arguments) == 1 {
				words = strings.Fields(cs.Arguments[0])
			}
			titles := make([]string, len(words))
			for k, w := range words {
				titles[k] = titled(w)
			}
			qi.lo, qi.hi = append(qi.lo, lo), append(qi.hi, hi)
			qi.words, qi.titles = append(qi.words, words), append(qi.titles, titles)
		}
		if qi.weights = catWeights[q.Key]; len(qi.weights) != len(q.Cases) {
			qi.weights = make([]float64, len(q.Cases))
			for k := range qi.weights {
				qi.weights[k] = 1
			}
		}
		if q.Kind == KindCalculated {
			expr := strings.TrimSuffix(strings.TrimPrefix(q.Operand, "@("), ")")
			for _, part := range strings.Split(expr, "+") {
				qi.sumOf = append(qi.sumOf, strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(part), "results."), ".value"))
			}
		}
		out[i] = qi
	}
	for _, qi := range out {
		for _, k := range qi.sumOf {
			for _, o := range out {
				if o.q.Key == k {
					o.feeds = true
				}
			}
		}
	}
	a.cache[f] = out
	return out
}

// answer returns a reply to a non-calculated question: the result value, the
// raw input and the category it routes to. lang indexes genLangs; scale in
// [0,1] sizes the contact's school; bias shifts the first category's weight.
func (a *answerer) answer(qi *qinfo, lang int, scale, bias float64) (value, input string, cat *string) {
	r, q := a.r, qi.q
	switch {
	case q.Kind == KindOpen || len(q.Cases) == 0:
		list := openPhrases[q.Key]
		if list == nil {
			list = openPhrases["challenges_this_week"]
		}
		input = pick(r, list[lang])
		return input, input, qi.other
	case len(qi.words[0]) == 0: // numeric
		u := r.Float64()
		if !qi.feeds && u < 0.015 {
			input = noneWords[lang]
			return input, input, qi.other
		}
		n := a.number(qi, scale)
		if !qi.feeds && u < 0.025 {
			n = int(qi.hi[len(qi.hi)-1])*10 + 7
		}
		value = itoa(n)
		input = value
		if r.Float64() < 0.1 {
			input = aboutWords[lang] + value
		}
		for k := range qi.lo {
			if float64(n) >= qi.lo[k] && float64(n) <= qi.hi[k] {
				return value, input, qi.caseCat[k]
			}
		}
		return input, input, qi.other
	}
	if r.Float64() < 0.03 {
		input = pick(r, otherWords[lang])
		return input, input, qi.other
	}
	k := pickBiased(r, qi.weights, bias)
	words := qi.words[k]
	if r.IntN(2) == 0 {
		words = qi.titles[k]
	}
	word := words[r.IntN(len(words))]
	if lang < len(words) && r.Float64() < 0.75 {
		word = words[lang]
	}
	return word, word, qi.caseCat[k]
}

// number draws a plausible count for a numeric question.
func (a *answerer) number(qi *qinfo, scale float64) int {
	if p, ok := numericProfiles[qi.q.Key]; ok {
		v := p[0] + scale*p[1] + a.r.NormFloat64()*p[2]
		return int(min(max(v, 0), p[3]) + 0.5)
	}
	k := a.r.IntN(len(qi.lo))
	lo, hi := int(qi.lo[k]), int(qi.hi[k])
	return lo + a.r.IntN(hi-lo+1)
}

// calc evaluates a calculated question: the sum of the numeric results it
// names, categorised by its cases; "Other" with an empty value when an
// operand is missing or not a number.
func (a *answerer) calc(qi *qinfo, vals map[string]*Value) (string, *string) {
	sum := 0
	for _, k := range qi.sumOf {
		v := vals[k]
		if v == nil {
			return "", qi.other
		}
		n, err := strconv.Atoi(v.Value)
		if err != nil {
			return "", qi.other
		}
		sum += n
	}
	for k := range qi.lo {
		if float64(sum) >= qi.lo[k] && float64(sum) <= qi.hi[k] {
			return itoa(sum), qi.caseCat[k]
		}
	}
	return itoa(sum), qi.other
}

// pickBiased is pickWeighted with the first weight scaled by 1+bias.
func pickBiased(r *rand.Rand, w []float64, bias float64) int {
	t := w[0] * bias
	for _, x := range w {
		t += x
	}
	u := r.Float64() * t
	for i, x := range w {
		if i == 0 {
			x *= 1 + bias
		}
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// titled upper-cases the first letter of an ASCII word.
func titled(w string) string {
	if w == "" || w[0] < 'a' || w[0] > 'z' {
		return w
	}
	return string(w[0]-32) + w[1:]
}

package fake

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the org timezone must resolve even without system zoneinfo
)

// GenConfig configures Generate. Zero fields take their defaults.
type GenConfig struct {
	Seed     int64     // deterministic: same seed+config => same org (UUIDs derived from the seeded RNG, not uuid.New)
	Contacts int       // default 500
	Weeks    int       // default 8: weekly poll runs over the last N weeks
	End      time.Time // default store.Clock.Now(); the last week's start is within 7 days before End
	Timezone string    // default "Africa/Kigali"
	// Areas > 0 replaces Rwanda's 5 provinces and 30 districts with a
	// generated country of about that many districts with fractal borders
	// (map size tests); 0 keeps the default, fast layout.
	Areas int
}

// GenInfo summarises what Generate created.
type GenInfo struct {
	Panels   []string // names of the RapidPro groups that are panels (all 3 levels)
	Cohorts  []string // names of cohort groups
	Polls    []string // names of the flows to track as polls
	Fields   []string // contact field keys
	Runs     int
	Contacts int
}

// regionRates is the base response rate of each province (geoRegions order).
var regionRates = []float64{0.85, 0.70, 0.55, 0.40, 0.65}

// Cohorts, untracked groups and the smart group of the generated org.
var (
	genCohorts       = []string{"Head Teachers", "Grade 5 Teachers", "School Inspectors", "Parent Committee Members"}
	genCohortWeights = []float64{0.22, 0.45, 0.06, 0.27}
	genUntracked     = []string{"Pilot Schools 2024", "Staff Testers"}
)

const (
	genSmartName  = "Female Staff"
	genSmartQuery = `gender = "F"`
)

// genFields are the contact fields: key, name, type.
var genFields = [][3]string{
	{"facility_code", "Facility Code", "text"},
	{"gender", "Gender", "text"},
	{"birth_year", "Birth Year", "number"},
	{"school_type", "School Type", "text"},
	{"registered_on", "Registered On", "datetime"},
	{"province", "Province", "state"},
	{"district", "District", "district"},
}

// genLangs are the contact languages; index i matches the word/phrase tables.
var genLangs = []string{"eng", "fra", "kin", "swa"}

// Generate fills s with a realistic, fully deterministic org: a ministry of
// education monitoring schools through weekly polls. It takes the store write
// lock itself and is meant for an empty store.
func Generate(s *Store, cfg GenConfig) GenInfo {
	if cfg.Contacts <= 0 {
		cfg.Contacts = 500
	}
	if cfg.Weeks <= 0 {
		cfg.Weeks = 8
	}
	if cfg.Timezone == "" {
		cfg.Timezone = "Africa/Kigali"
	}
	if cfg.End.IsZero() {
		cfg.End = s.Clock.Now()
	}
	var info GenInfo
	s.Write(func() {
		g := newGen(s, cfg)
		g.run()
		info = g.info
	})
	return info
}

// gen holds the generator's working state.
type gen struct {
	s    *Store
	cfg  GenConfig
	r    *rand.Rand
	ids  *uuidGen
	loc  *time.Location
	end  time.Time
	info GenInfo

	country    *Group
	regions    []*Group
	districts  []*Group
	distRegion []int
	cohorts    []*Group
	untracked  []*Group
	smart      *Group

	polls    []*Flow
	regFlow  *Flow
	weeks    []time.Time // local poll-day 08:00 of each week, as UTC
	contacts []*Contact
	ct       []cinfo
	eligible []int // indexes of active contacts with a URN

	ans   *answerer
	runs  slab[Run]
	vals  slab[Value]
	steps slab[Step]
	times slab[time.Time]
}

// cinfo is per-contact generation state.
type cinfo struct {
	region    int
	lang      int
	diligence float64
	scale     float64
	failing   bool // only unsupported URNs: runs fail
	lastSeen  time.Time
}

func newGen(s *Store, cfg GenConfig) *gen {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		loc = time.UTC
	}
	seed := uint64(cfg.Seed)
	g := &gen{
		s: s, cfg: cfg, loc: loc,
		r:   rand.New(rand.NewPCG(seed, 0x7261706964)),
		ids: &uuidGen{r: rand.New(rand.NewPCG(seed, 0x75756964))},
		end: cfg.End.UTC().Truncate(time.Microsecond),
	}
	g.ans = newAnswerer(g.r)
	return g
}

func (g *gen) run() {
	g.weekStarts()
	g.org()
	g.groups()
	g.fields()
	g.flows()
	g.genContacts()
	g.genRuns()
	g.messages()
	g.info.Contacts = len(g.contacts)
	ext := extraFor(g.s)
	ext.polls = ext.polls[:0]
	for _, f := range g.polls {
		ext.polls = append(ext.polls, f.UUID)
	}
	ext.cohorts = ext.cohorts[:0]
	for _, c := range g.cohorts {
		ext.cohorts = append(ext.cohorts, c.UUID)
	}
}

// weekStarts computes the local poll day (Monday 08:00) of each week; the last
// one is the latest such instant strictly before End.
func (g *gen) weekStarts() {
	e := g.end.In(g.loc)
	back := (int(e.Weekday()) + 6) % 7
	last := time.Date(e.Year(), e.Month(), e.Day()-back, 8, 0, 0, 0, g.loc)
	if !last.Before(g.end) {
		last = last.AddDate(0, 0, -7)
	}
	for k := g.cfg.Weeks - 1; k >= 0; k-- {
		g.weeks = append(g.weeks, last.AddDate(0, 0, -7*k).UTC())
	}
}

// epoch is when the org was set up: well before the first week.
func (g *gen) epoch() time.Time { return g.weeks[0].AddDate(-1, -2, 0) }

func (g *gen) org() {
	g.s.Org = OrgInfo{
		UUID: g.ids.next(), Name: "MINEDUC School Monitoring", Country: "RW",
		Languages: []string{"eng", "fra", "kin"}, Timezone: g.cfg.Timezone, DateStyle: "day_first",
	}
}

func (g *gen) group(name, query string, at time.Time) *Group {
	return g.s.AddGroup(&Group{UUID: g.ids.next(), Name: name, Query: query, CreatedOn: at})
}

// groups creates the panel groups with their boundaries, the cohorts, the
// untracked groups and the smart group.
func (g *gen) groups() {
	at := g.epoch()
	tick := func() time.Time { at = at.Add(time.Duration(1+g.r.IntN(3600)) * time.Second); return at }
	var nodes []geoNode
	var geometry func(i int) []byte
	if g.cfg.Areas > 0 {
		nodes, geometry = largeLayout(g.r, g.cfg.Areas)
	} else {
		lat := newGeoLattice(g.r)
		nodes = geoLayout()
		geometry = func(i int) []byte { return lat.geometry(nodes[i].block) }
	}
	for i, n := range nodes {
		b := &Boundary{OSMID: n.osmID, Name: n.name, Level: n.level, Aliases: n.aliases, Geometry: geometry(i)}
		if n.parent >= 0 {
			b.Parent = nodes[n.parent].osmID
		}
		g.s.AddBoundary(b)
		if n.level > 2 {
			continue
		}
		grp := g.group(n.name, "", tick())
		g.info.Panels = append(g.info.Panels, n.name)
		switch n.level {
		case 0:
			g.country = grp
		case 1:
			g.regions = append(g.regions, grp)
		default:
			g.districts = append(g.districts, grp)
			g.distRegion = append(g.distRegion, n.region)
		}
	}
	for _, name := range genCohorts {
		g.cohorts = append(g.cohorts, g.group(name, "", tick()))
		g.info.Cohorts = append(g.info.Cohorts, name)
	}
	for _, name := range genUntracked {
		g.untracked = append(g.untracked, g.group(name, "", tick()))
	}
	g.smart = g.group(genSmartName, genSmartQuery, tick())
}

func (g *gen) fields() {
	at := g.epoch().Add(time.Hour)
	for _, f := range genFields {
		at = at.Add(time.Duration(g.r.IntN(86400)) * time.Second)
		g.s.AddField(&Field{Key: f[0], Name: f[1], Type: f[2], CreatedOn: at})
		g.info.Fields = append(g.info.Fields, f[0])
	}
}

// flows creates the poll flows, the non-poll flows and an archived one.
func (g *gen) flows() {
	at := g.epoch().AddDate(0, 1, 0)
	for _, d := range genFlowDefs {
		at = at.Add(time.Duration(1+g.r.IntN(5*86400)) * time.Second)
		f := &Flow{UUID: g.ids.next(), Name: d.name, Type: "message", Archived: d.archived, Expires: d.expires,
			Language: "eng", CreatedOn: at, ModifiedOn: at.Add(time.Duration(g.r.IntN(20*86400)) * time.Second)}
		for _, qd := range d.qs {
			f.Questions = append(f.Questions, g.question(qd))
		}
		g.s.AddFlow(f)
		switch {
		case d.poll:
			g.polls = append(g.polls, f)
			g.info.Polls = append(g.info.Polls, f.Name)
		case d.name == "Registration":
			g.regFlow = f
		}
	}
}

func (g *gen) question(d qdef) *Question {
	q := &Question{NodeUUID: g.ids.next(), Name: d.name, Key: snakeCase(d.name), Prompt: d.prompt, Kind: d.kind, Operand: "@input.text"}
	if d.kind == KindCalculated {
		q.Operand = d.operand
	}
	for _, c := range d.cases {
		q.Cases = append(q.Cases, Case{UUID: g.ids.next(), Type: c.typ, Arguments: c.args, Category: c.cat})
		if !contains(q.Categories, c.cat) {
			q.Categories = append(q.Categories, c.cat)
		}
	}
	if d.kind == KindOpen {
		q.Categories = append(q.Categories, "All Responses")
	} else {
		q.Categories = append(q.Categories, "Other")
	}
	return q
}

// genContacts creates cfg.Contacts contacts in creation order.
func (g *gen) genContacts() {
	n := g.cfg.Contacts
	r := g.r
	created := make([]time.Time, n)
	from := g.epoch().AddDate(0, 1, 0)
	span := g.weeks[0].Add(-24 * time.Hour).Sub(from)
	for i := range created {
		created[i] = from.Add(time.Duration(r.Int64N(int64(span/time.Microsecond))) * time.Microsecond)
	}
	sort.Slice(created, func(i, j int) bool { return created[i].Before(created[j]) })
	weights := make([]float64, len(g.districts))
	for i := range weights {
		weights[i] = 0.5 + r.Float64()
	}
	schools := make([]int, len(g.districts))
	for i := range schools {
		schools[i] = 1 + int(float64(n)*weights[i]/float64(len(weights))/2.5)
	}
	phoneOff, phoneMul := r.IntN(10_000_000), 7919
	g.contacts = make([]*Contact, 0, n)
	g.ct = make([]cinfo, 0, n)
	g.eligible = make([]int, 0, n)
	if cap(g.s.Contacts)-len(g.s.Contacts) < n {
		g.s.Contacts = append(make([]*Contact, 0, len(g.s.Contacts)+n), g.s.Contacts...)
	}
	for i := 0; i < n; i++ {
		d := pickWeighted(r, weights)
		ri := g.distRegion[d]
		female := r.IntN(2) == 0
		first, last := pick(r, maleNames), pick(r, lastNames)
		if female {
			first = pick(r, femaleNames)
		}
		ci := cinfo{region: ri, lang: pickWeighted(r, []float64{0.35, 0.2, 0.35, 0.07, 0.03}),
			diligence: 0.6 + 0.8*r.Float64(), scale: r.Float64()}
		c := &Contact{UUID: g.ids.next(), Name: contactName(r, first, last), CreatedOn: created[i], ModifiedOn: created[i]}
		if ci.lang < len(genLangs) {
			c.Language = genLangs[ci.lang]
		} else {
			ci.lang = 0
		}
		phone := phoneDigits(i, phoneMul, phoneOff, r)
		handle := strings.ToLower(strings.ReplaceAll(first, " ", "")) + "_" + itoa(i)
		switch u := r.Float64(); {
		case u < 0.005:
			c.URNs = []string{"ext:" + g.ids.next()[:8]}
			if r.IntN(2) == 0 {
				c.URNs = []string{"mailto:" + handle + "@mineduc.example"}
			}
			ci.failing = true
		case u < 0.010:
		case u < 0.040:
			c.URNs = []string{"twitter:" + handle}
		case u < 0.050:
			c.URNs = []string{"whatsapp:" + phone}
		case u < 0.070:
			c.URNs = []string{"tel:+" + phone, "whatsapp:" + phone}
		case u < 0.085:
			c.URNs = []string{"tel:+" + phone, "twitter:" + handle}
		default:
			c.URNs = []string{"tel:+" + phone}
		}
		switch u := r.Float64(); {
		case u < 0.004:
			c.Status = "blocked"
		case u < 0.010:
			c.Status = "stopped"
		case u < 0.012:
			c.Deleted = true
		}
		if c.Status == "" && !c.Deleted {
			g.contactGroups(r, c, d)
			g.contactFields(r, c, d, ri, female, schools[d])
		} else if c.Status != "" {
			g.contactFields(r, c, d, ri, female, schools[d])
		} else {
			c.URNs = nil
		}
		if r.Float64() < 0.4 {
			c.ModifiedOn = c.CreatedOn.Add(time.Duration(r.Int64N(int64(g.end.Sub(c.CreatedOn)/time.Microsecond))) * time.Microsecond)
		}
		g.s.AddContact(c)
		if c.Status == "active" && !c.Deleted && len(c.URNs) > 0 {
			g.eligible = append(g.eligible, len(g.contacts))
		}
		g.contacts = append(g.contacts, c)
		g.ct = append(g.ct, ci)
	}
}

// contactGroups puts c in one district, one or two cohorts, maybe an
// untracked group, and the smart group when it matches.
func (g *gen) contactGroups(r *rand.Rand, c *Contact, d int) {
	c.Groups = make([]string, 0, 5)
	c.Groups = append(c.Groups, g.districts[d].UUID)
	a := pickWeighted(r, genCohortWeights)
	c.Groups = append(c.Groups, g.cohorts[a].UUID)
	if r.Float64() < 0.3 {
		if b := pickWeighted(r, genCohortWeights); b != a {
			c.Groups = append(c.Groups, g.cohorts[b].UUID)
		}
	}
	if u := r.Float64(); u < 0.08 {
		c.Groups = append(c.Groups, g.untracked[0].UUID)
	} else if u < 0.09 {
		c.Groups = append(c.Groups, g.untracked[1].UUID)
	}
}

// contactFields fills the contact fields, leaving a few unset.
func (g *gen) contactFields(r *rand.Rand, c *Contact, d, ri int, female bool, schools int) {
	f := make(map[string]string, len(genFields))
	dn := g.districts[d].Name
	if r.Float64() > 0.04 {
		f["facility_code"] = strings.ToUpper(dn[:3]) + "-" + pad4(1+r.IntN(schools))
	}
	if r.Float64() > 0.05 {
		f["gender"] = "M"
		if female {
			f["gender"] = "F"
		}
	}
	if r.Float64() > 0.08 {
		f["birth_year"] = itoa(1958 + r.IntN(45))
	}
	if r.Float64() > 0.04 {
		f["school_type"] = pick(r, []string{"Public", "Public", "Public", "Government-aided", "Government-aided", "Private"})
	}
	if r.Float64() > 0.03 {
		f["registered_on"] = c.CreatedOn.In(g.loc).Format("2006-01-02T15:04:05.000000-07:00")
	}
	if r.Float64() > 0.06 {
		f["province"] = g.regions[ri].Name
		f["district"] = dn
	}
	c.Fields = f
	if f["gender"] == "F" && c.Groups != nil {
		c.Groups = append(c.Groups, g.smart.UUID)
	}
}

// genRuns creates, for every week and poll, one run per eligible contact (plus
// a few second answers), and a few Registration runs.
func (g *gen) genRuns() {
	r := g.r
	n := len(g.eligible)
	expect := n*len(g.weeks)*len(g.polls) + n/40 + 16
	if len(g.s.RunsByUUID) == 0 {
		g.s.RunsByUUID = make(map[string]*Run, expect)
	}
	g.s.Runs = slices.Grow(g.s.Runs, expect)
	qis := make([][]*qinfo, len(g.polls))
	bias := make([][]float64, len(g.polls))
	for p, f := range g.polls {
		qis[p] = g.ans.infos(f)
		for range g.regions {
			bias[p] = append(bias[p], (r.Float64()-0.5)*0.5)
		}
	}
	cohorts := make([]string, len(g.cohorts))
	for i, c := range g.cohorts {
		cohorts[i] = c.UUID
	}
	never := g.end.AddDate(10, 0, 0)
	type double struct {
		ci int
		at time.Time
	}
	var doubles []double
	for w, ws := range g.weeks {
		stretch := 1.0
		if avail := g.end.Sub(ws); avail < 2*time.Hour {
			stretch = float64(avail) / float64(2*time.Hour)
		}
		dur := func(d time.Duration) time.Duration {
			return time.Duration(float64(d) * stretch).Truncate(time.Microsecond)
		}
		week := 7 * 24 * time.Hour
		if w == len(g.weeks)-1 {
			week = never.Sub(ws)
		}
		for p, f := range g.polls {
			pollStart := ws.Add(dur(time.Duration(p) * 20 * time.Minute))
			startUUID := ""
			if (w+p)%2 == 0 {
				done := pollStart.Add(dur(16 * time.Minute))
				fs := g.s.AddFlowStart(&FlowStart{UUID: g.ids.next(), FlowUUID: f.UUID, Groups: cohorts, RestartParticipants: true,
					Status: "complete", CreatedOn: pollStart.Add(-dur(90 * time.Second)), ModifiedOn: done})
				startUUID = fs.UUID
			}
			spread := dur(15 * time.Minute)
			doubles = doubles[:0]
			for k, ci := range g.eligible {
				created := pollStart.Add((spread * time.Duration(k) / time.Duration(n)).Truncate(time.Microsecond))
				run := g.genRun(f, qis[p], ci, created, startUUID, created.Add(week), bias[p][g.ct[ci].region], false)
				if run.ExitType == "completed" && r.Float64() < 0.006 {
					doubles = append(doubles, double{ci, run.ExitedOn.Add(time.Duration(3600+r.IntN(30*3600)) * time.Second)})
				}
			}
			for _, d := range doubles {
				if next := pollStart.Add(week); d.at.Before(g.end) && d.at.Before(next) {
					g.genRun(f, qis[p], d.ci, d.at, "", next, bias[p][g.ct[d.ci].region], true)
				}
			}
		}
	}
	if g.regFlow != nil && n > 0 {
		qi := g.ans.infos(g.regFlow)
		span := int64(g.end.Sub(g.weeks[0]) / time.Microsecond)
		for k := 0; k < max(3, n/100); k++ {
			ci := g.eligible[r.IntN(n)]
			at := g.weeks[0].Add(time.Duration(r.Int64N(span)) * time.Microsecond)
			g.genRun(g.regFlow, qi, ci, at, "", never, 0, true)
		}
	}
	for i, c := range g.contacts {
		if ls := g.ct[i].lastSeen; !ls.IsZero() {
			c.LastSeenOn = &ls
		}
	}
	g.info.Runs = len(g.s.Runs)
}

// genRun simulates one contact's pass through f from created until the run is
// interrupted by the next start (next) or End, and stores it. When sure, the
// contact responds and completes.
func (g *gen) genRun(f *Flow, qis []*qinfo, ci int, created time.Time, startUUID string, next time.Time, bias float64, sure bool) *Run {
	r := g.r
	c, info := g.contacts[ci], &g.ct[ci]
	run := &g.runs.take(1)[0]
	run.UUID, run.FlowUUID, run.ContactUUID, run.StartUUID = g.ids.next(), f.UUID, c.UUID, startUUID
	run.CreatedOn, run.ModifiedOn = created, created
	limit := g.end
	if next.Before(limit) {
		limit = next
	}
	nq := len(qis)
	steps := g.steps.take(nq)[:0]
	if nq > 0 {
		steps = append(steps, Step{Node: qis[0].q.NodeUUID, Time: created})
	}
	run.Path = steps
	if info.failing {
		g.exit(run, "failed", created)
		g.s.AddRun(run)
		return run
	}
	nWait := 0
	for _, qi := range qis {
		if qi.q.Kind != KindCalculated {
			nWait++
		}
	}
	target := 0
	p := min(max(regionRates[info.region%len(regionRates)]*info.diligence, 0.02), 0.97)
	if sure || r.Float64() < p {
		target = nWait
		if !sure && nWait > 1 && r.Float64() < 0.13 {
			target = 1 + r.IntN(nWait-1)
		}
	}
	var vals []Value
	if target > 0 {
		vals = g.vals.take(nq)
	}
	m := make(map[string]*Value, target)
	t, answered, used, done := created, 0, 0, true
	for j, qi := range qis {
		if qi.q.Kind == KindCalculated && vals != nil {
			v := &vals[used]
			used++
			v.Value, v.Category = g.ans.calc(qi, m)
			v.Name, v.Node, v.Time = qi.q.Name, qi.q.NodeUUID, t
			m[qi.q.Key] = v
		} else {
			if answered == target {
				done = false
				break
			}
			var dt time.Duration
			if answered == 0 {
				dt = time.Duration(120e6 + r.ExpFloat64()*4*3600e6/info.diligence)
			} else {
				dt = time.Duration(20e6 + r.ExpFloat64()*180e6)
			}
			t2 := t.Add(dt * time.Microsecond)
			if !t2.Before(limit) {
				done = false
				break
			}
			t = t2
			v := &vals[used]
			used++
			v.Value, v.Input, v.Category = g.ans.answer(qi, info.lang, info.scale, bias)
			v.Name, v.Node, v.Time = qi.q.Name, qi.q.NodeUUID, t
			m[qi.q.Key] = v
			answered++
			if t.After(info.lastSeen) {
				info.lastSeen = t
			}
		}
		if j+1 < nq {
			steps = append(steps, Step{Node: qis[j+1].q.NodeUUID, Time: t})
		}
	}
	run.Path, run.Values, run.Responded, run.ModifiedOn = steps, m, answered > 0, t
	how, when := "completed", t
	if !done {
		how, when = "expired", t.Add(time.Duration(f.Expires)*time.Minute)
		if answered > 0 && r.Float64() < 0.25 {
			how, when = "interrupted", t.Add(time.Duration(600+r.IntN(23*3600))*time.Second)
		}
		if !when.Before(limit) { // cut short by the next week's start, or still waiting at End
			how, when = "interrupted", next
			if next.After(g.end) {
				how = ""
			}
		}
	}
	if how != "" {
		g.exit(run, how, when)
	}
	g.s.AddRun(run)
	return run
}

// exit ends run at t.
func (g *gen) exit(run *Run, how string, t time.Time) {
	at := &g.times.take(1)[0]
	*at = t
	run.ExitType, run.ExitedOn, run.ModifiedOn = how, at, t
}

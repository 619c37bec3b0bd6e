package fake

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// The simulated country is laid out on a lattice of geoNX × geoNY cells over
// Rwanda's bounding box. Every boundary is a rectangular block of cells whose
// ring walks the block perimeter through the jittered lattice points, so
// neighbours share vertices exactly: districts tile their region, regions tile
// the country.
const (
	geoNX     = 48
	geoNY     = 36
	geoMinLng = 28.86
	geoMaxLng = 30.90
	geoMinLat = -2.84
	geoMaxLat = -1.05
)

// regionDef is one level-1 boundary with its block and its districts.
type regionDef struct {
	name      string
	aliases   []string
	block     [4]int // x0, y0, x1, y1 in lattice cells (y grows northwards)
	districts []string
}

// geoRegions are Rwanda's five provinces and thirty districts.
var geoRegions = []regionDef{
	{"Kigali City", []string{"Kigali", "Umujyi wa Kigali"}, [4]int{26, 0, 36, 22},
		[]string{"Gasabo", "Kicukiro", "Nyarugenge"}},
	{"Northern Province", []string{"Amajyaruguru", "Province du Nord"}, [4]int{12, 22, 36, 36},
		[]string{"Burera", "Gakenke", "Gicumbi", "Musanze", "Rulindo"}},
	{"Southern Province", []string{"Amajyepfo", "Province du Sud"}, [4]int{12, 0, 26, 22},
		[]string{"Gisagara", "Huye", "Kamonyi", "Muhanga", "Nyamagabe", "Nyanza", "Nyaruguru", "Ruhango"}},
	{"Eastern Province", []string{"Iburasirazuba", "Province de l'Est"}, [4]int{36, 0, 48, 36},
		[]string{"Bugesera", "Gatsibo", "Kayonza", "Kirehe", "Ngoma", "Nyagatare", "Rwamagana"}},
	{"Western Province", []string{"Iburengerazuba", "Province de l'Ouest"}, [4]int{0, 0, 12, 36},
		[]string{"Karongi", "Ngororero", "Nyabihu", "Nyamasheke", "Rubavu", "Rusizi", "Rutsiro"}},
}

// geoCountry is the level-0 boundary and root panel.
const geoCountry = "Rwanda"

// geoSectors are optional level-3 boundaries splitting one district. They are
// not panels.
var geoSectors = struct {
	district string
	names    []string
}{"Gasabo", []string{"Kacyiru", "Kimironko", "Remera"}}

// geoNode is one generated boundary before it is stored.
type geoNode struct {
	osmID, name string
	level       int
	parent      int // index into the node list, -1 for the root
	region      int // index into geoRegions (-1 for the country)
	aliases     []string
	block       [4]int
}

// geoLayout returns the boundaries in a fixed order: country, regions,
// districts (grouped by region), sectors.
func geoLayout() []geoNode {
	nodes := []geoNode{{name: geoCountry, level: 0, parent: -1, region: -1, block: [4]int{0, 0, geoNX, geoNY}}}
	for ri, r := range geoRegions {
		nodes = append(nodes, geoNode{name: r.name, level: 1, parent: 0, region: ri, aliases: r.aliases, block: r.block})
	}
	for ri, r := range geoRegions {
		for di, b := range splitBlock(r.block, len(r.districts)) {
			nodes = append(nodes, geoNode{name: r.districts[di], level: 2, parent: 1 + ri, region: ri, block: b})
		}
	}
	for i := range nodes {
		if nodes[i].name != geoSectors.district {
			continue
		}
		b := nodes[i].block
		w := b[2] - b[0]
		for si, name := range geoSectors.names {
			x0 := b[0] + w*si/len(geoSectors.names)
			x1 := b[0] + w*(si+1)/len(geoSectors.names)
			nodes = append(nodes, geoNode{name: name, level: 3, parent: i, region: nodes[i].region, block: [4]int{x0, b[1], x1, b[3]}})
		}
		break
	}
	for i := range nodes {
		nodes[i].osmID = "R" + strconv.Itoa(1000+i)
	}
	return nodes
}

// splitBlock divides a block into n sub-blocks: a grid of cols × rows cells
// (cols chosen so that cells are closest to square) whose last row holds the
// remainder, each spanning an equal share of the width.
func splitBlock(b [4]int, n int) [][4]int {
	w, h := b[2]-b[0], b[3]-b[1]
	bestCols, bestScore := 1, math.Inf(1)
	for cols := 1; cols <= 3 && cols <= n; cols++ {
		rows := (n + cols - 1) / cols
		cw, rh := float64(w)/float64(cols), float64(h)/float64(rows)
		score := math.Abs(math.Log(cw / rh))
		if score < bestScore-1e-9 {
			bestCols, bestScore = cols, score
		}
	}
	rows := (n + bestCols - 1) / bestCols
	out := make([][4]int, 0, n)
	for r := 0; r < rows; r++ {
		y0 := b[1] + h*r/rows
		y1 := b[1] + h*(r+1)/rows
		k := bestCols
		if r == rows-1 {
			k = n - bestCols*(rows-1)
		}
		for c := 0; c < k; c++ {
			out = append(out, [4]int{b[0] + w*c/k, y0, b[0] + w*(c+1)/k, y1})
		}
	}
	return out
}

// geoLattice holds the jittered lattice point coordinates.
type geoLattice struct {
	lng, lat [geoNX + 1][geoNY + 1]float64
}

// newGeoLattice jitters every lattice point by up to 30% of a cell.
func newGeoLattice(r *rand.Rand) *geoLattice {
	g := &geoLattice{}
	dx := (geoMaxLng - geoMinLng) / geoNX
	dy := (geoMaxLat - geoMinLat) / geoNY
	for i := 0; i <= geoNX; i++ {
		for j := 0; j <= geoNY; j++ {
			jx := (r.Float64() - 0.5) * 0.6 * dx
			jy := (r.Float64() - 0.5) * 0.6 * dy
			g.lng[i][j] = round6(geoMinLng + float64(i)*dx + jx)
			g.lat[i][j] = round6(geoMinLat + float64(j)*dy + jy)
		}
	}
	return g
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// ring returns the closed counter-clockwise perimeter of a block as [i, j]
// lattice indexes.
func blockRing(b [4]int) [][2]int {
	x0, y0, x1, y1 := b[0], b[1], b[2], b[3]
	pts := make([][2]int, 0, 2*(x1-x0+y1-y0)+1)
	for x := x0; x < x1; x++ {
		pts = append(pts, [2]int{x, y0})
	}
	for y := y0; y < y1; y++ {
		pts = append(pts, [2]int{x1, y})
	}
	for x := x1; x > x0; x-- {
		pts = append(pts, [2]int{x, y1})
	}
	for y := y1; y > y0; y-- {
		pts = append(pts, [2]int{x0, y})
	}
	return append(pts, pts[0])
}

// geometry renders the block as a GeoJSON MultiPolygon.
func (g *geoLattice) geometry(b [4]int) []byte {
	ring := blockRing(b)
	out := make([]byte, 0, 40+len(ring)*26)
	out = append(out, `{"type":"MultiPolygon","coordinates":[[[`...)
	for k, p := range ring {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, '[')
		out = strconv.AppendFloat(out, g.lng[p[0]][p[1]], 'f', -1, 64)
		out = append(out, ',')
		out = strconv.AppendFloat(out, g.lat[p[0]][p[1]], 'f', -1, 64)
		out = append(out, ']')
	}
	return append(out, "]]]}"...)
}

// PanelNode describes one panel group of the generated org.
type PanelNode struct {
	Name   string // the panel (RapidPro group) name
	OSMID  string // its boundary's OSM id
	Level  int    // 0 country, 1 province, 2 district
	Parent string // the parent panel's name, "" for the root
}

// Panels lists the panel groups of the store: every group whose name is that of
// a boundary of level 0–2, with the boundary's OSM id and the parent panel
// name, sorted by level then name. It takes the store read lock itself.
func Panels(s *Store) []PanelNode {
	s.Mu.RLock()
	defer s.Mu.RUnlock()
	return s.panels()
}

// panels is Panels with the lock already held.
func (s *Store) panels() []PanelNode {
	byOSM := make(map[string]*Boundary, len(s.Boundaries))
	for _, b := range s.Boundaries {
		byOSM[b.OSMID] = b
	}
	groups := make(map[string]bool, len(s.Groups))
	for _, g := range s.Groups {
		groups[g.Name] = true
	}
	var out []PanelNode
	for _, b := range s.Boundaries {
		if b.Level > 2 || !groups[b.Name] {
			continue
		}
		n := PanelNode{Name: b.Name, OSMID: b.OSMID, Level: b.Level}
		if p := byOSM[b.Parent]; p != nil && groups[p.Name] {
			n.Parent = p.Name
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Level != out[j].Level {
			return out[i].Level < out[j].Level
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// PanelTree maps every panel group name to its parent panel group name ("" for
// the root). It takes the store read lock itself.
func PanelTree(s *Store) map[string]string {
	nodes := Panels(s)
	out := make(map[string]string, len(nodes))
	for _, n := range nodes {
		out[n.Name] = n.Parent
	}
	return out
}

// PanelBoundary returns the OSM id of the boundary matching panel name and the
// parent panel's name. It takes the store read lock itself.
func PanelBoundary(s *Store, name string) (osmID, parent string, ok bool) {
	for _, n := range Panels(s) {
		if n.Name == name {
			return n.OSMID, n.Parent, true
		}
	}
	return "", "", false
}

// Seeded helpers shared by the generator and the respondents.

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// snakeCase turns a result name into its key: "Water Available?" -> "water_available".
func snakeCase(name string) string {
	var b strings.Builder
	under := false
	for _, c := range strings.ToLower(name) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
			under = false
		} else {
			under = true
		}
	}
	return b.String()
}

func pad4(n int) string {
	s := itoa(n)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// pickWeighted returns an index with probability proportional to its weight.
func pickWeighted(r *rand.Rand, w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	u := r.Float64() * t
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// uuidGen produces RFC 4122 version 4 UUID strings from a seeded RNG, in
// batches sharing one backing string to save allocations.
type uuidGen struct {
	r   *rand.Rand
	buf string
}

const uuidBatch = 2048

func (u *uuidGen) next() string {
	if len(u.buf) == 0 {
		b := make([]byte, 0, 36*uuidBatch)
		for k := 0; k < uuidBatch; k++ {
			b = appendUUID(b, u.r.Uint64(), u.r.Uint64())
		}
		u.buf = string(b)
	}
	s := u.buf[:36]
	u.buf = u.buf[36:]
	return s
}

// appendUUID formats hi/lo as a version 4, RFC 4122 variant UUID.
func appendUUID(b []byte, hi, lo uint64) []byte {
	const hexd = "0123456789abcdef"
	var raw [16]byte
	for k := 0; k < 8; k++ {
		raw[k] = byte(hi >> (56 - 8*k))
		raw[8+k] = byte(lo >> (56 - 8*k))
	}
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	for k, x := range raw {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			b = append(b, '-')
		}
		b = append(b, hexd[x>>4], hexd[x&15])
	}
	return b
}

// slab hands out small slices carved from large chunks.
type slab[T any] struct{ buf []T }

func (s *slab[T]) take(n int) []T {
	if len(s.buf) < n {
		s.buf = make([]T, max(n, 8192))
	}
	out := s.buf[:n:n]
	s.buf = s.buf[n:]
	return out
}

// smallInts interns the decimal strings of 0..2100.
var smallInts = func() []string {
	out := make([]string, 2101)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

func itoa(n int) string {
	if n >= 0 && n < len(smallInts) {
		return smallInts[n]
	}
	return strconv.Itoa(n)
}

// Reference data of the generated org: flows, people, answers.

type cdef struct {
	typ  string
	args []string
	cat  string
}

type qdef struct {
	name, prompt string
	kind         QuestionKind
	cases        []cdef
	operand      string
}

type fdef struct {
	name           string
	expires        int
	poll, archived bool
	qs             []qdef
}

func between(lo, hi string) cdef {
	return cdef{"has_number_between", []string{lo, hi}, lo + " - " + hi}
}

// anyWord lists a category's words: English, French, Kinyarwanda, Swahili,
// then extras (the answerer relies on this order).
func anyWord(cat, words string) cdef { return cdef{"has_any_word", []string{words}, cat} }

var (
	caseYes = anyWord("Yes", "yes oui yego ndiyo y ego")
	caseNo  = anyWord("No", "no non oya hapana n")
)

// genFlowDefs are the org's flows: five polls, two other flows, one archived.
var genFlowDefs = []fdef{
	{name: "School Attendance", expires: 4320, poll: true, qs: []qdef{
		{name: "Boys Present", prompt: "How many boys are present today? Reply with a number.", kind: KindNumeric,
			cases: []cdef{between("0", "20"), between("20", "50"), between("50", "300")}},
		{name: "Girls Present", prompt: "How many girls are present today? Reply with a number.", kind: KindNumeric,
			cases: []cdef{between("0", "20"), between("20", "50"), between("50", "300")}},
		{name: "Pupils Present", kind: KindCalculated, operand: "@(results.boys_present + results.girls_present)",
			cases: []cdef{between("0", "40"), between("40", "80"), between("80", "500")}},
		{name: "Teachers Present", prompt: "How many teachers are present today?", kind: KindNumeric,
			cases: []cdef{between("0", "5"), between("5", "10"), between("10", "50")}},
	}},
	{name: "Water and Sanitation", expires: 4320, poll: true, qs: []qdef{
		{name: "Water Available", prompt: "Is clean water available at the school today? Reply YES or NO.", kind: KindCategorical,
			cases: []cdef{caseYes, caseNo}},
		{name: "Latrines Working", prompt: "How many latrines are working?", kind: KindNumeric,
			cases: []cdef{between("0", "2"), between("2", "5"), between("5", "50")}},
	}},
	{name: "Textbook Delivery", expires: 10080, poll: true, qs: []qdef{
		{name: "Textbooks Received", prompt: "Did your school receive the new textbooks? Reply YES, NO or PARTLY.", kind: KindCategorical,
			cases: []cdef{caseYes, caseNo, anyWord("Partly", "partly partiellement igice kiasi partial some")}},
		{name: "Books Missing", prompt: "How many textbooks are still missing?", kind: KindNumeric,
			cases: []cdef{between("0", "10"), between("10", "50"), between("50", "1000")}},
	}},
	{name: "Weekly Challenges", expires: 2880, poll: true, qs: []qdef{
		{name: "Challenges This Week", prompt: "What was the main challenge at your school this week?", kind: KindOpen},
		{name: "Needs Support", prompt: "Do you need support from the district? Reply YES or NO.", kind: KindCategorical,
			cases: []cdef{caseYes, caseNo}},
	}},
	{name: "Teacher Training Follow-up", expires: 10080, poll: true, qs: []qdef{
		{name: "Sessions Attended", prompt: "How many training sessions did you attend this month?", kind: KindNumeric,
			cases: []cdef{between("0", "1"), between("1", "3"), between("3", "10")}},
		{name: "Training Quality", prompt: "How was the training? Reply GOOD, FAIR or POOR.", kind: KindCategorical,
			cases: []cdef{anyWord("Good", "good bon byiza nzuri"), anyWord("Fair", "fair moyen biringaniye wastani"),
				anyWord("Poor", "poor mauvais bibi mbaya bad")}},
		{name: "Suggestions", prompt: "Any suggestion to improve the training?", kind: KindOpen},
	}},
	{name: "Registration", expires: 1440, qs: []qdef{
		{name: "Role", prompt: "What is your role? HEAD, TEACHER or INSPECTOR", kind: KindCategorical,
			cases: []cdef{anyWord("Head Teacher", "head directeur umuyobozi mkuu"), anyWord("Teacher", "teacher enseignant mwarimu mwalimu"),
				anyWord("Inspector", "inspector inspecteur umugenzuzi mkaguzi")}},
		{name: "Facility Code", prompt: "What is your school's facility code?", kind: KindOpen},
	}},
	{name: "Single Message (2381)", expires: 10080},
	{name: "Attendance Pilot 2023", expires: 4320, archived: true, qs: []qdef{
		{name: "Pupils Counted", prompt: "How many pupils are in class?", kind: KindNumeric,
			cases: []cdef{between("0", "50"), between("50", "500")}},
	}},
}

// numericProfiles: base + scale*span + N(0,1)*noise, capped at max.
var numericProfiles = map[string][4]float64{
	"boys_present":      {6, 45, 5, 150},
	"girls_present":     {6, 45, 5, 150},
	"teachers_present":  {1, 11, 1.5, 40},
	"latrines_working":  {0, 7, 1.2, 40},
	"books_missing":     {0, 40, 20, 900},
	"sessions_attended": {0, 4, 0.8, 9},
}

// catWeights are the relative frequencies of each case of categorical questions.
var catWeights = map[string][]float64{
	"water_available":    {0.7, 0.3},
	"textbooks_received": {0.5, 0.25, 0.25},
	"needs_support":      {0.4, 0.6},
	"training_quality":   {0.5, 0.35, 0.15},
	"role":               {0.25, 0.7, 0.05},
}

var (
	noneWords  = []string{"none", "aucun", "ntabo", "hakuna"}
	aboutWords = []string{"about ", "environ ", "hafi ", "karibu "}
	otherWords = [][]string{{"maybe", "not sure", "later"}, {"peut-être", "je sais pas"}, {"simbizi", "ahari"}, {"sijui", "labda"}}
)

// openPhrases are free-text answers per result key and language.
var openPhrases = map[string][][]string{
	"challenges_this_week": {
		{"Many pupils absent because of the rain", "Not enough desks for grade 5", "Two teachers on sick leave",
			"The classroom roof is leaking", "No chalk left this week", "School feeding was delayed, pupils arrive hungry",
			"Exam papers arrived late", "The water tank is empty", "The road to school is flooded", "No problems this week"},
		{"Beaucoup d'élèves absents à cause de la pluie", "Pas assez de pupitres en cinquième année", "Deux enseignants malades",
			"Le toit de la classe fuit", "Plus de craie cette semaine", "La cantine scolaire est en retard", "Aucun problème cette semaine"},
		{"Abanyeshuri benshi basibye kubera imvura", "Nta ntebe zihagije mu mwaka wa gatanu", "Abarimu babiri barwaye",
			"Igisenge cy'ishuri kiravirira", "Nta ngwa dufite", "Ifunguro ry'abanyeshuri ryatinze", "Nta kibazo muri iki cyumweru"},
		{"Wanafunzi wengi hawakuja kwa sababu ya mvua", "Madawati hayatoshi", "Walimu wawili ni wagonjwa",
			"Paa la darasa linavuja", "Hakuna chaki wiki hii", "Hakuna tatizo wiki hii"},
	},
	"suggestions": {
		{"More practical sessions please", "The training was too short", "Provide printed materials",
			"Hold sessions during the holidays", "Very useful, thank you", "Include ICT in the next training"},
		{"Plus de sessions pratiques", "La formation était trop courte", "Fournir des documents imprimés", "Très utile, merci"},
		{"Amahugurwa yari magufi cyane", "Mutwoherereze ibitabo", "Byari ingirakamaro, murakoze", "Amahugurwa menshi y'ibikorwa"},
		{"Mafunzo yalikuwa mafupi", "Tunaomba vitabu zaidi", "Ilikuwa muhimu sana, asante"},
	},
	"facility_code": {{"KIC-0012", "GAS-0101"}, {"HUY-0033"}, {"MUS-0007", "NYA-0020"}, {"RUB-0042"}},
}

// inboxPhrases are unsolicited messages per language; replyPhrases answer them.
var (
	inboxPhrases = [][]string{
		{"When is the next training?", "Our school received the textbooks, thank you", "Please call me",
			"I changed my phone number", "Hello", "The form is not working", "How do I report absent teachers?", "Thanks"},
		{"Quand aura lieu la prochaine formation ?", "Merci, nous avons reçu les manuels", "Appelez-moi s'il vous plaît", "Bonjour"},
		{"Amahugurwa ataha ni ryari?", "Twabonye ibitabo, murakoze", "Muraho", "Nahinduye nimero ya telefone"},
		{"Mafunzo yajayo ni lini?", "Tumepokea vitabu, asante", "Habari", "Tafadhali nipigie simu"},
	}
	replyPhrases = []string{"Thank you, we will call you shortly.", "Noted, thank you.", "The next training is announced by your district."}
)

// People's names.
var (
	femaleNames = []string{"Aline", "Alice", "Angelique", "Beatrice", "Chantal", "Claudine", "Diane", "Esperance", "Florence",
		"Grace", "Jeanne", "Josiane", "Juliette", "Laetitia", "Marie", "Solange", "Vestine", "Yvonne", "Zawadi", "Neema",
		"Agnes", "Francine", "Clementine", "Honorine", "Immaculee", "Odette", "Jacqueline", "Sandrine", "Aisha", "Ruth"}
	maleNames = []string{"Benjamin", "Didier", "Emmanuel", "Eric", "Fabrice", "Gilbert", "Innocent", "Jean Paul", "Jean Claude",
		"Kevin", "Olivier", "Patrick", "Pacifique", "Samuel", "Theogene", "Valens", "Amani", "Baraka", "Peter", "Joseph",
		"Eugene", "Desire", "Alexis", "Celestin", "Faustin", "Gaspard", "Hassan", "Leonard", "Moses", "Thierry"}
	lastNames = []string{"Uwimana", "Mukamana", "Niyonzima", "Habimana", "Nsengiyumva", "Uwase", "Mugisha", "Hakizimana",
		"Ndayisaba", "Nshimiyimana", "Ingabire", "Mukeshimana", "Tuyishime", "Bizimana", "Nkurunziza", "Irakoze", "Umutoni",
		"Kayitesi", "Munyaneza", "Twagirayezu", "Rukundo", "Niyomugabo", "Uwamahoro", "Dusabe", "Mutabazi", "Gatete",
		"Karekezi", "Mugabo", "Iradukunda", "Byiringiro", "Habiyaremye", "Mwangi", "Otieno", "Kamau", "Dusabimana",
		"Uwera", "Ntwari", "Murenzi", "Mbabazi", "Kalisa", "Mutesi", "Umuhoza", "Nzeyimana", "Hategekimana", "Sibomana"}
	firstNames = [2][]string{femaleNames, maleNames}
)

// contactName formats a name in one of a few real-world styles.
func contactName(r *rand.Rand, first, last string) string {
	switch u := r.Float64(); {
	case u < 0.04:
		return strings.ToUpper(last) + " " + first
	case u < 0.07:
		return first
	case u < 0.09:
		return strings.ToLower(first + " " + last)
	}
	return first + " " + last
}

// phoneDigits returns a unique Rwandan mobile number without "+" for index i.
func phoneDigits(i, mul, off int, r *rand.Rand) string {
	n := (i*mul + off) % 10_000_000
	var b [12]byte
	copy(b[:], "2507")
	b[4] = "2389"[r.IntN(4)]
	for k := 11; k >= 5; k-- {
		b[k] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

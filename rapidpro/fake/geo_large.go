package fake

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// A large generated country (GenConfig.Areas): about Areas districts in
// √Areas/1.4 provinces, for map size tests. Like the default layout, every
// boundary is a block of lattice cells and neighbours share their vertices
// exactly; unlike it, blocks are laid out in rows of random widths (so borders
// meet in T-junctions, not a grid), and every lattice edge is a fractal line
// (midpoint displacement, the same for both sides) so borders wiggle like
// surveyed ones, with 4 vertices per cell side.
const (
	largeCellsPerArea = 36   // lattice cells per district (about 6 × 6)
	largeMinLng       = 32.0 // south-west corner of the country
	largeMinLat       = -12.0
	largeSpanLng      = 9.0
	largeEdgeDepth    = 2 // midpoint displacement levels: 2^depth − 1 inner points per edge
)

// largeLayout returns the boundaries of a country with about areas districts
// and a function rendering the i-th one's geometry.
func largeLayout(r *rand.Rand, areas int) ([]geoNode, func(i int) []byte) {
	areas = max(areas, 4)
	provinces := max(2, int(math.Round(math.Sqrt(float64(areas))/1.4)))
	cells := areas * largeCellsPerArea
	nx := int(math.Round(math.Sqrt(float64(cells) * 4 / 3)))
	ny := max(cells/nx, 2)
	names := newNamer(r)
	nodes := []geoNode{{name: names.next() + "land", level: 0, parent: -1, region: -1, block: [4]int{0, 0, nx, ny}}}
	pblocks := splitRows(r, nodes[0].block, provinces)
	for pi, b := range pblocks {
		nodes = append(nodes, geoNode{name: names.next() + " Province", level: 1, parent: 0, region: pi, block: b})
	}
	for pi, pb := range pblocks {
		n := areas / provinces
		if pi < areas%provinces {
			n++
		}
		for _, b := range splitRows(r, pb, n) {
			nodes = append(nodes, geoNode{name: names.next(), level: 2, parent: 1 + pi, region: pi, block: b})
		}
	}
	for i := range nodes {
		nodes[i].osmID = "R" + strconv.Itoa(1000+i)
	}
	lat := newLargeLattice(r, nx, ny)
	return nodes, func(i int) []byte { return lat.geometry(nodes[i].block) }
}

// splitRows divides a block into n blocks: rows of equal height, each row cut
// at random places into its share of the n blocks (at least one cell wide).
func splitRows(r *rand.Rand, b [4]int, n int) [][4]int {
	w, h := b[2]-b[0], b[3]-b[1]
	rows := min(max(1, int(math.Round(math.Sqrt(float64(n)*float64(h)/float64(w))))), n, h)
	out := make([][4]int, 0, n)
	for row := 0; row < rows; row++ {
		k := n / rows
		if row < n%rows {
			k++
		}
		k = min(k, w)
		y0, y1 := b[1]+h*row/rows, b[1]+h*(row+1)/rows
		weights := make([]float64, k)
		total := 0.0
		for i := range weights {
			weights[i] = 0.6 + 0.8*r.Float64()
			total += weights[i]
		}
		x, acc := b[0], 0.0
		for i := 0; i < k; i++ {
			acc += weights[i]
			x1 := b[0] + int(math.Round(float64(w)*acc/total))
			x1 = max(x1, x+1)
			x1 = min(x1, b[2]-(k-1-i)) // leave a cell for each block to come
			if i == k-1 {
				x1 = b[2]
			}
			out = append(out, [4]int{x, y0, x1, y1})
			x = x1
		}
	}
	return out
}

// largeLattice is the jittered lattice of a large country with the seed of
// its fractal edges.
type largeLattice struct {
	nx, ny   int
	lng, lat [][]float64
	dx, dy   float64
	seed     uint64
}

func newLargeLattice(r *rand.Rand, nx, ny int) *largeLattice {
	dx := largeSpanLng / float64(nx)
	// Square cells on the ground: a degree of longitude is cos φ shorter.
	dy := dx * math.Cos((largeMinLat+float64(ny)*dx/2)*math.Pi/180)
	l := &largeLattice{nx: nx, ny: ny, dx: dx, dy: dy, seed: r.Uint64()}
	l.lng, l.lat = make([][]float64, nx+1), make([][]float64, nx+1)
	for i := 0; i <= nx; i++ {
		l.lng[i], l.lat[i] = make([]float64, ny+1), make([]float64, ny+1)
		for j := 0; j <= ny; j++ {
			l.lng[i][j] = largeMinLng + float64(i)*dx + (r.Float64()-0.5)*0.6*dx
			l.lat[i][j] = largeMinLat + float64(j)*dy + (r.Float64()-0.5)*0.6*dy
		}
	}
	return l
}

// edge returns the inner points of the fractal line between lattice points a
// and b (neighbours), from a to b. The line depends only on the unordered
// pair, so the two boundaries sharing it draw the same points.
func (l *largeLattice) edge(a, b [2]int) []point {
	rev := b[0] < a[0] || (b[0] == a[0] && b[1] < a[1])
	if rev {
		a, b = b, a
	}
	r := rand.New(rand.NewPCG(l.seed, uint64(a[0])<<40|uint64(a[1])<<20|uint64(b[0]-a[0])<<1|uint64(b[1]-a[1])))
	pa := point{l.lng[a[0]][a[1]], l.lat[a[0]][a[1]]}
	pb := point{l.lng[b[0]][b[1]], l.lat[b[0]][b[1]]}
	pts := []point{pa, pb}
	amp := 0.22
	for d := 0; d < largeEdgeDepth; d++ {
		next := make([]point, 0, 2*len(pts)-1)
		for i := 0; i+1 < len(pts); i++ {
			p, q := pts[i], pts[i+1]
			// Perpendicular offset in ground units (longitudes scaled).
			ex, ey := (q[0]-p[0])*l.dy/l.dx, q[1]-p[1]
			s := (r.Float64()*2 - 1) * amp
			m := point{(p[0]+q[0])/2 - ey*s*l.dx/l.dy, (p[1]+q[1])/2 + ex*s}
			next = append(next, p, m)
		}
		pts = append(next, pts[len(pts)-1])
		amp /= 1.6
	}
	inner := pts[1 : len(pts)-1]
	if rev {
		for i, j := 0, len(inner)-1; i < j; i, j = i+1, j-1 {
			inner[i], inner[j] = inner[j], inner[i]
		}
	}
	return inner
}

// geometry renders a block as a GeoJSON MultiPolygon whose ring runs through
// the lattice points of its perimeter and the fractal lines between them.
func (l *largeLattice) geometry(b [4]int) []byte {
	ring := blockRing(b)
	out := make([]byte, 0, 40+len(ring)*4*24)
	out = append(out, `{"type":"MultiPolygon","coordinates":[[[`...)
	first := true
	add := func(p point) {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, '[')
		out = strconv.AppendFloat(out, round6(p[0]), 'f', -1, 64)
		out = append(out, ',')
		out = strconv.AppendFloat(out, round6(p[1]), 'f', -1, 64)
		out = append(out, ']')
	}
	for k, p := range ring {
		add(point{l.lng[p[0]][p[1]], l.lat[p[0]][p[1]]})
		if k+1 < len(ring) {
			for _, q := range l.edge(p, ring[k+1]) {
				add(q)
			}
		}
	}
	return append(out, "]]]}"...)
}

// point is a [lng, lat] pair.
type point [2]float64

// namer makes unique place names from syllables.
type namer struct {
	r    *rand.Rand
	seen map[string]bool
}

var nameSyllables = []string{"ka", "ba", "nya", "ru", "gi", "mu", "sa", "ze", "ma", "ta", "ri", "ko", "ge", "hu",
	"bu", "ni", "la", "we", "ki", "lo", "mbe", "ndo", "shi", "tu", "za", "vu", "se", "ho", "ye", "mpa"}

func newNamer(r *rand.Rand) *namer { return &namer{r: r, seen: map[string]bool{}} }

func (n *namer) next() string {
	for {
		k := 2 + n.r.IntN(2)
		var b strings.Builder
		for i := 0; i < k; i++ {
			b.WriteString(nameSyllables[n.r.IntN(len(nameSyllables))])
		}
		s := b.String()
		s = strings.ToUpper(s[:1]) + s[1:]
		if !n.seen[s] {
			n.seen[s] = true
			return s
		}
	}
}

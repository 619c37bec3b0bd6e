package charts

import (
	"encoding/json"
	"errors"
	"html/template"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Choropleth maps (SPEC §3.5) drawn on the server as one inline SVG.
//
// A boundary's GeoJSON (Polygon or MultiPolygon of [lng, lat] rings, as RapidPro
// stores it) is parsed once into a GeoShape. Drawing a map projects the areas
// with an equirectangular projection corrected by the cosine of the map's
// middle latitude (x = lng·cos φ0, y = −lat: right for the small extents of a
// country, and it keeps north up), scales the result to a MapWidth-unit
// viewBox, and simplifies every ring with Douglas–Peucker at MapTolerance
// units — half a CSS pixel on a 360 px phone, so the simplification cannot be
// seen. The simplified rings are kept in the GeoShape per tolerance step (a
// power of two of degrees), so a map at the same scale never simplifies
// twice; a GeoCache keeps the GeoShapes per boundary version. Paths are
// written with integer coordinates, relative after the first point, which is
// what keeps a 200-area country near 20 KB gzipped.
//
// Geography is never mirrored: in right-to-left layouts only the legend and
// the table (HTML) follow the page direction.

// MapWidth is the width of a map's viewBox: two units per CSS pixel on a
// 360 px screen, so integer coordinates are precise to a quarter pixel.
const MapWidth = 720

// MapTolerance is the Douglas–Peucker tolerance in viewBox units (half a CSS
// pixel at 360 px).
const MapTolerance = 1.0

// mapMaxHeight bounds a tall country's height (it is then narrower).
const mapMaxHeight = MapWidth * 5 / 4

// mapPad keeps strokes inside the viewBox.
const mapPad = 3

// MapPalette is the 12-colour palette of map categories, in legend order
// (Okabe–Ito without black, then Tol's muted colours).
var MapPalette = [12]string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
	"#F0E442", "#882255", "#44AA99", "#999933", "#332288", "#AA4499"}

// MapNoData is the fill of an area without data (SPEC §3.5: tan); MapOther
// the fill of the "Other" category.
const (
	MapNoData = "#D2B48C"
	MapOther  = "#9AA0A6"
)

// point is a [lng, lat] pair, or projected x, y.
type point [2]float64

// GeoShape is a boundary's geometry, parsed once, with its bounding box and
// its simplified rings per tolerance step. It is safe for concurrent use.
type GeoShape struct {
	polys                          [][][]point // polygon → ring (first = outer) → [lng, lat]
	MinLng, MinLat, MaxLng, MaxLat float64
	points                         int

	mu         sync.Mutex
	simplified map[int][][]point // tolerance step → rings kept (flattened)
}

// Points is the number of vertices of the stored geometry.
func (s *GeoShape) Points() int { return s.points }

// ParseGeoJSON reads a GeoJSON Polygon or MultiPolygon (or a Feature holding
// one). Rings with fewer than three points are dropped; a geometry without
// any ring is an error.
func ParseGeoJSON(text string) (*GeoShape, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
		Geometry    json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal([]byte(text), &g); err != nil {
		return nil, err
	}
	if g.Type == "Feature" && len(g.Geometry) > 0 {
		return ParseGeoJSON(string(g.Geometry))
	}
	var polys [][][][]float64
	switch g.Type {
	case "Polygon":
		var p [][][]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			return nil, err
		}
		polys = [][][][]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("charts: unsupported geometry type " + strconv.Quote(g.Type))
	}
	s := &GeoShape{MinLng: math.Inf(1), MinLat: math.Inf(1), MaxLng: math.Inf(-1), MaxLat: math.Inf(-1), simplified: map[int][][]point{}}
	for _, p := range polys {
		var rings [][]point
		for _, r := range p {
			ring := make([]point, 0, len(r))
			for _, c := range r {
				if len(c) < 2 || math.IsNaN(c[0]) || math.IsNaN(c[1]) {
					continue
				}
				ring = append(ring, point{c[0], c[1]})
				s.MinLng, s.MaxLng = math.Min(s.MinLng, c[0]), math.Max(s.MaxLng, c[0])
				s.MinLat, s.MaxLat = math.Min(s.MinLat, c[1]), math.Max(s.MaxLat, c[1])
			}
			if len(ring) >= 3 {
				rings = append(rings, ring)
				s.points += len(ring)
			}
		}
		if len(rings) > 0 {
			s.polys = append(s.polys, rings)
		}
	}
	if len(s.polys) == 0 {
		return nil, errors.New("charts: geometry without rings")
	}
	return s, nil
}

// rings returns the shape's rings simplified at tolerance 2^step degrees
// (longitudes scaled by the cosine of the shape's middle latitude), computed
// once per step. Rings smaller than the tolerance disappear, except the
// largest outer ring, so every area stays visible.
func (s *GeoShape) rings(step int) [][]point {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.simplified[step]; ok {
		return r
	}
	tol := math.Ldexp(1, step)
	kx := math.Cos((s.MinLat + s.MaxLat) / 2 * math.Pi / 180)
	var out [][]point
	var largest []point
	largestSize := -1.0
	for _, p := range s.polys {
		for i, r := range p {
			size := ringSize(r, kx)
			if i == 0 && size > largestSize {
				largest, largestSize = r, size
			}
			if size < tol {
				continue
			}
			if sr := simplifyRing(r, tol, kx); len(sr) >= 4 {
				out = append(out, sr)
			}
		}
	}
	if len(out) == 0 && largest != nil {
		out = append(out, largest)
	}
	s.simplified[step] = out
	return out
}

// ringSize is the larger side of a ring's bounding box (in scaled degrees).
func ringSize(r []point, kx float64) float64 {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range r {
		x0, x1 = math.Min(x0, p[0]), math.Max(x1, p[0])
		y0, y1 = math.Min(y0, p[1]), math.Max(y1, p[1])
	}
	return math.Max((x1-x0)*kx, y1-y0)
}

// simplifyRing applies Douglas–Peucker to a closed ring: the ring is split
// at the vertex farthest from its first one, and both halves are simplified
// (an explicit stack, no recursion). The result is closed.
func simplifyRing(r []point, tol, kx float64) []point {
	n := len(r)
	if r[0] == r[n-1] {
		n-- // work on the open ring; closed again at the end
	}
	if n < 3 {
		return nil
	}
	xy := func(i int) (float64, float64) { p := r[i%n]; return p[0] * kx, p[1] }
	far, best := 0, -1.0
	x0, y0 := xy(0)
	for i := 1; i < n; i++ {
		x, y := xy(i)
		if d := (x-x0)*(x-x0) + (y-y0)*(y-y0); d > best {
			far, best = i, d
		}
	}
	keep := make([]bool, n+1)
	keep[0], keep[far], keep[n] = true, true, true
	type span struct{ a, b int }
	stack := []span{{0, far}, {far, n}}
	tol2 := tol * tol
	for len(stack) > 0 {
		sp := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if sp.b-sp.a < 2 {
			continue
		}
		ax, ay := xy(sp.a)
		bx, by := xy(sp.b)
		dx, dy := bx-ax, by-ay
		l2 := dx*dx + dy*dy
		idx, worst := -1, tol2
		for i := sp.a + 1; i < sp.b; i++ {
			px, py := xy(i)
			var d float64
			if l2 == 0 {
				d = (px-ax)*(px-ax) + (py-ay)*(py-ay)
			} else {
				t := math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
				qx, qy := ax+t*dx-px, ay+t*dy-py
				d = qx*qx + qy*qy
			}
			if d > worst {
				idx, worst = i, d
			}
		}
		if idx >= 0 {
			keep[idx] = true
			stack = append(stack, span{sp.a, idx}, span{idx, sp.b})
		}
	}
	out := make([]point, 0, 16)
	for i := 0; i <= n; i++ {
		if keep[i] {
			out = append(out, r[i%n])
		}
	}
	return out
}

// GeoKey identifies a version of a boundary's geometry: its id and the time
// it was last stored.
type GeoKey struct{ ID, Version int64 }

// GeoCache keeps parsed and simplified boundary shapes in memory, one version
// per boundary (storing a newer version drops the older one). The zero value
// is ready to use and safe for concurrent use.
type GeoCache struct {
	mu sync.Mutex
	m  map[int64]cached
}

type cached struct {
	version int64
	shape   *GeoShape
}

// Get returns the cached shape of that boundary version (nil when missing).
func (c *GeoCache) Get(k GeoKey) *GeoShape {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k.ID]; ok && e.version == k.Version {
		return e.shape
	}
	return nil
}

// Put stores a boundary version's shape.
func (c *GeoCache) Put(k GeoKey, s *GeoShape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]cached{}
	}
	c.m[k.ID] = cached{k.Version, s}
}

// MapArea is one area of a map.
type MapArea struct {
	Shape    *GeoShape
	Name     string
	Fill     string   // colour; "" = MapNoData
	Figure   string   // the area's figure, shown on hover/tap ("" = none)
	Link     string   // where tapping the area goes ("" = not a link)
	Cells    []string // the area's row in the data table, after its name
	RowLink  string   // link of the table row's name ("" = none)
	Selected bool     // outlined
}

// LegendItem is one colour of the legend.
type LegendItem struct{ Name, Color string }

// MapOptions are a map's options.
type MapOptions struct {
	// HXTarget, when set, makes the area links htmx requests swapping that
	// target and pushing the URL (they stay plain links without JS).
	HXTarget string
	// Columns head the data table's columns after the area name (Labels.X).
	Columns []string
	// Light leaves the drawing and its legend out (a browser that asks to
	// save data): the data table alone, open.
	Light bool
}

// MapChart is a drawn map: the SVG, its legend (an HTML list that follows
// the page's direction) and the data table.
type MapChart struct {
	SVG, Legend, Table template.HTML
	Bytes              int // size of the SVG
}

// HTML returns the SVG, the legend and the table.
func (m MapChart) HTML() template.HTML { return m.SVG + m.Legend + m.Table }

// Empty reports whether there was nothing to draw.
func (m MapChart) Empty() bool { return m.SVG == "" }

// Map draws areas as a choropleth. Areas without a shape are listed in the
// table only. Title and Desc of l name the SVG; Table opens the data table.
func Map(areas []MapArea, legend []LegendItem, l Labels, o MapOptions) MapChart {
	minLng, minLat, maxLng, maxLat := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, a := range areas {
		if a.Shape == nil {
			continue
		}
		minLng, maxLng = math.Min(minLng, a.Shape.MinLng), math.Max(maxLng, a.Shape.MaxLng)
		minLat, maxLat = math.Min(minLat, a.Shape.MinLat), math.Max(maxLat, a.Shape.MaxLat)
	}
	var out MapChart
	out.Table = mapTable(areas, l, o)
	if o.Light {
		return out
	}
	out.Legend = mapLegend(legend)
	if math.IsInf(minLng, 1) {
		return out
	}
	kx := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	spanX, spanY := math.Max((maxLng-minLng)*kx, 1e-9), math.Max(maxLat-minLat, 1e-9)
	inner := float64(MapWidth - 2*mapPad)
	scale := inner / spanX // units per scaled degree
	if spanY*scale > mapMaxHeight-2*mapPad {
		scale = (mapMaxHeight - 2*mapPad) / spanY
	}
	height := math.Ceil(spanY*scale) + 2*mapPad
	offX := mapPad + (inner-spanX*scale)/2
	// The tolerance step: the largest power of two (degrees) not above the
	// tolerance, so shapes are simplified a little finer than needed.
	step := int(math.Floor(math.Log2(MapTolerance / scale)))

	var b strings.Builder
	b.WriteString(`<svg class="map" viewBox="0 0 ` + strconv.Itoa(MapWidth) + ` ` + strconv.Itoa(int(height)) + `" width="100%"`)
	if o.HXTarget != "" {
		b.WriteString(` hx-target:inherited="` + esc(o.HXTarget) + `" hx-push-url:inherited="true"`)
	}
	b.WriteString(`><title>` + esc(l.Title) + `</title><desc>` + esc(l.Desc) + `</desc>`)
	b.WriteString(`<g stroke="#fff" stroke-width="1.5" stroke-linejoin="round">`)
	var selected []byte
	buf := make([]byte, 0, 4096)
	for _, a := range areas {
		if a.Shape == nil {
			continue
		}
		buf = buf[:0]
		for _, r := range a.Shape.rings(step) {
			buf = appendRing(buf, r, func(p point) (int, int) {
				return int(math.Round(offX + (p[0]-minLng)*kx*scale)), int(math.Round(mapPad + (maxLat-p[1])*scale))
			})
		}
		if len(buf) == 0 {
			continue
		}
		fill := a.Fill
		if fill == "" {
			fill = MapNoData
		}
		tip := a.Name
		if a.Figure != "" {
			tip += ": " + a.Figure
		}
		var e strings.Builder
		if u := safeURL(a.Link); u != "" {
			e.WriteString(`<a href="` + esc(u) + `"`)
			if o.HXTarget != "" {
				e.WriteString(` hx-get="` + esc(u) + `"`)
			}
			e.WriteString(`><title>` + esc(tip) + `</title><path d="`)
			e.Write(buf)
			e.WriteString(`" fill="` + esc(fill) + `"/></a>`)
		} else {
			e.WriteString(`<path d="`)
			e.Write(buf)
			e.WriteString(`" fill="` + esc(fill) + `"><title>` + esc(tip) + `</title></path>`)
		}
		b.WriteString(e.String())
		if a.Selected {
			selected = append(append(selected, `<path d="`...), buf...)
			selected = append(selected, `" fill="none" stroke="#000" stroke-width="4" pointer-events="none"/>`...)
		}
	}
	b.WriteString(`</g>`)
	b.Write(selected)
	b.WriteString(`</svg>`)
	out.SVG = template.HTML(b.String())
	out.Bytes = b.Len()
	return out
}

// appendRing writes one ring as "M x y l dx dy … z" with integer
// coordinates: the first point absolute, the others relative to the previous
// rounded point (so rounding errors do not add up). Points that round onto
// the previous one are skipped; a ring left with under three points is not
// written.
func appendRing(b []byte, r []point, proj func(point) (int, int)) []byte {
	xs := make([]int, 0, len(r))
	ys := make([]int, 0, len(r))
	for _, p := range r {
		x, y := proj(p)
		if n := len(xs); n > 0 && xs[n-1] == x && ys[n-1] == y {
			continue
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	if n := len(xs); n > 1 && xs[0] == xs[n-1] && ys[0] == ys[n-1] {
		xs, ys = xs[:n-1], ys[:n-1]
	}
	if len(xs) < 3 {
		return b
	}
	b = append(b, 'M')
	b = strconv.AppendInt(b, int64(xs[0]), 10)
	b = appendNum(b, ys[0])
	b = append(b, 'l')
	for i := 1; i < len(xs); i++ {
		dx, dy := xs[i]-xs[i-1], ys[i]-ys[i-1]
		if i == 1 {
			b = strconv.AppendInt(b, int64(dx), 10)
		} else {
			b = appendNum(b, dx)
		}
		b = appendNum(b, dy)
	}
	return append(b, 'z')
}

// appendNum writes a number after another one: a minus sign separates them
// by itself, anything else needs a space.
func appendNum(b []byte, n int) []byte {
	if n >= 0 {
		b = append(b, ' ')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// mapLegend is the legend as an HTML list with colour swatches.
func mapLegend(items []LegendItem) template.HTML {
	if len(items) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<ul class="map-legend">`)
	for _, it := range items {
		b.WriteString(`<li><svg viewBox="0 0 10 10" width="12" height="12" aria-hidden="true"><rect width="10" height="10" fill="` +
			esc(it.Color) + `"/></svg>` + esc(it.Name) + `</li>`)
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}

// mapTable is the data table of the map, one row per area.
func mapTable(areas []MapArea, l Labels, o MapOptions) template.HTML {
	t := newTableOpen(l, append([]string{l.X}, o.Columns...), o.Light)
	for _, a := range areas {
		t.row(a.Name, a.RowLink, a.Cells...)
	}
	return t.html()
}

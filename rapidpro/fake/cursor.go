package fake

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// posKind says how the first ordering field of an endpoint is compared and
// rendered into a cursor position.
type posKind int

const (
	posTime   posKind = iota // a datetime: compared as microseconds, rendered as Python str(datetime)
	posString                // a string (osm_id, start_date): compared and rendered as is
)

// sortKey is the value of an item's first ordering field.
type sortKey struct {
	t int64 // microseconds since epoch, for posTime
	s string
}

// timeKey builds a posTime key.
func timeKey(t time.Time) sortKey { return sortKey{t: t.UnixMicro()} }

// cmpKey compares two keys of the same kind.
func cmpKey(a, b sortKey, kind posKind) int {
	if kind == posString {
		return strings.Compare(a.s, b.s)
	}
	switch {
	case a.t < b.t:
		return -1
	case a.t > b.t:
		return 1
	}
	return 0
}

// render formats a key as DRF's cursor position string.
func (k sortKey) render(kind posKind) string {
	if kind == posString {
		return k.s
	}
	return svPyTime(time.UnixMicro(k.t))
}

// pageCursor is a decoded DRF cursor: offset, reverse flag and optional position.
type pageCursor struct {
	offset  int
	reverse bool
	pos     *sortKey
}

var errInvalidCursor = errors.New("Invalid cursor")

// decodeCursor decodes the cursor param the way DRF does (lenient base64 of a
// querystring with o, r and p). A nil cursor means the first page.
func decodeCursor(q url.Values, kind posKind, cutoff int) (*pageCursor, error) {
	vals, ok := q["cursor"]
	if !ok || len(vals) == 0 {
		return nil, nil
	}
	enc := vals[len(vals)-1]
	// Python's b64decode discards characters outside the alphabet.
	clean := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' {
			clean = append(clean, c)
		}
	}
	raw, err := base64.StdEncoding.DecodeString(string(clean))
	if err != nil {
		return nil, errInvalidCursor
	}
	for _, c := range raw {
		if c > 0x7f {
			return nil, errInvalidCursor
		}
	}
	tokens, _ := url.ParseQuery(string(raw))
	c := &pageCursor{}
	if o := tokens["o"]; len(o) > 0 {
		n, err := strconv.Atoi(o[0])
		if err != nil || n < 0 {
			return nil, errInvalidCursor
		}
		if cutoff > 0 && n > cutoff {
			n = cutoff
		}
		c.offset = n
	}
	if r := tokens["r"]; len(r) > 0 {
		n, err := strconv.Atoi(r[0])
		if err != nil {
			return nil, errInvalidCursor
		}
		c.reverse = n != 0
	}
	if p := tokens["p"]; len(p) > 0 {
		k := sortKey{s: p[0]}
		if kind == posTime {
			t, ok := svParseISO(p[0])
			if !ok {
				return nil, errInvalidCursor
			}
			k = timeKey(t)
		}
		c.pos = &k
	}
	return c, nil
}

// encode renders the cursor as DRF does: base64 of "o=..&r=1&p=..", each part
// present only when set.
func (c pageCursor) encode(kind posKind) string {
	var parts []string
	if c.offset != 0 {
		parts = append(parts, "o="+strconv.Itoa(c.offset))
	}
	if c.reverse {
		parts = append(parts, "r=1")
	}
	if c.pos != nil {
		parts = append(parts, "p="+url.QueryEscape(c.pos.render(kind)))
	}
	return base64.StdEncoding.EncodeToString([]byte(strings.Join(parts, "&")))
}

// pageSpec describes one page request.
type pageSpec struct {
	size   int
	kind   posKind
	asc    bool // the requested ordering is ascending (base slices are descending)
	cursor *pageCursor
}

// pageOut is a served page: the item indexes into the base slice and the
// cursors of the neighbouring pages (nil when absent).
type pageOut struct {
	idx        []int
	next, prev *pageCursor
}

// paginate applies DRF CursorPagination to base, which holds the candidate items
// sorted descending by (first ordering field, id). key returns the first ordering
// field of item i; keep filters items (nil keeps all).
func paginate(n int, key func(i int) sortKey, keep func(i int) bool, sp pageSpec) pageOut {
	var offset int
	var reverse bool
	var curPos *sortKey
	if sp.cursor != nil {
		offset, reverse, curPos = sp.cursor.offset, sp.cursor.reverse, sp.cursor.pos
	}
	travRev := sp.asc != reverse
	at := func(j int) int {
		if travRev {
			return n - 1 - j
		}
		return j
	}
	desc := !sp.asc
	start := 0
	if curPos != nil {
		lt := reverse != desc
		p := *curPos
		start = sort.Search(n, func(j int) bool {
			c := cmpKey(key(at(j)), p, sp.kind)
			if lt {
				return c < 0
			}
			return c > 0
		})
	}
	results := make([]int, 0, sp.size+1)
	skipped := 0
	for j := start; j < n && len(results) < sp.size+1; j++ {
		i := at(j)
		if keep != nil && !keep(i) {
			continue
		}
		if skipped < offset {
			skipped++
			continue
		}
		results = append(results, i)
	}
	page := results
	var following *sortKey
	if len(results) > sp.size {
		page = results[:sp.size]
		k := key(results[sp.size])
		following = &k
	}
	var hasNext, hasPrev bool
	var nextPos, prevPos *sortKey
	if reverse {
		for a, b := 0, len(page)-1; a < b; a, b = a+1, b-1 {
			page[a], page[b] = page[b], page[a]
		}
		hasNext = curPos != nil || offset > 0
		hasPrev = following != nil
		nextPos, prevPos = curPos, following
	} else {
		hasNext = following != nil
		hasPrev = curPos != nil || offset > 0
		nextPos, prevPos = following, curPos
	}
	out := pageOut{idx: page}
	eq := func(a sortKey, b *sortKey) bool { return b != nil && cmpKey(a, *b, sp.kind) == 0 }
	cur := sp.cursor
	if hasNext {
		var compare *sortKey
		if len(page) > 0 && cur != nil && cur.reverse && cur.offset > 0 {
			k := key(page[len(page)-1])
			compare = &k
		} else {
			compare = nextPos
		}
		off, unique := 0, false
		var position *sortKey
		for i := len(page) - 1; i >= 0; i-- {
			p := key(page[i])
			if !eq(p, compare) {
				unique, position = true, &p
				break
			}
			compare = &p
			off++
		}
		if len(page) > 0 && !unique {
			switch {
			case !hasPrev:
				off, position = sp.size, nil
			case cur.reverse:
				off, position = 0, prevPos
			default:
				off, position = cur.offset+sp.size, prevPos
			}
		}
		if len(page) == 0 {
			position = nextPos
		}
		out.next = &pageCursor{offset: off, pos: position}
	}
	if hasPrev {
		var compare *sortKey
		if len(page) > 0 && cur != nil && !cur.reverse && cur.offset > 0 {
			k := key(page[0])
			compare = &k
		} else {
			compare = prevPos
		}
		off, unique := 0, false
		var position *sortKey
		for i := 0; i < len(page); i++ {
			p := key(page[i])
			if !eq(p, compare) {
				unique, position = true, &p
				break
			}
			compare = &p
			off++
		}
		if len(page) > 0 && !unique {
			switch {
			case !hasNext:
				off, position = sp.size, nil
			case cur.reverse:
				off, position = cur.offset+sp.size, nextPos
			default:
				off, position = 0, nextPos
			}
		}
		if len(page) == 0 {
			position = prevPos
		}
		out.prev = &pageCursor{offset: off, reverse: true, pos: position}
	}
	return out
}

// svBaseURL is the absolute URL of the request without its query.
func svBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = strings.ToLower(strings.TrimSpace(strings.Split(p, ",")[0]))
	}
	return scheme + "://" + r.Host
}

// cursorLink builds the absolute next/previous URL: the request URL with every
// original query param kept (sorted, as DRF's replace_query_param does) and
// cursor replaced.
func cursorLink(r *http.Request, q url.Values, c *pageCursor, kind posKind) string {
	if c == nil {
		return ""
	}
	nq := make(url.Values, len(q)+1)
	for k, v := range q {
		nq[k] = v
	}
	nq["cursor"] = []string{c.encode(kind)}
	return svBaseURL(r) + r.URL.Path + "?" + nq.Encode()
}

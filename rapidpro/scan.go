package rapidpro

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a small validating JSON reader over a byte slice. The run
// decoder (fastrun.go) uses it instead of encoding/json because runs are
// the hot path of ingestion; it follows encoding/json's semantics exactly
// (the fuzz test cross-checks both) but scans each byte once and does not
// go through reflection.
type scanner struct {
	data []byte
	pos  int
	// mistyped counts values whose JSON type did not fit their field; as
	// with encoding/json, such a field is left unchanged.
	mistyped int
	// share turns on interning of repeated strings (see intern), for
	// pages and streams of runs; names is the intern table.
	share bool
	names map[string]string
}

// maxNesting is encoding/json's nesting limit.
const maxNesting = 10000

// syntaxError reports malformed JSON.
type syntaxError struct {
	msg string
	off int
}

// Error describes the problem and where it is.
func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.off, e.msg)
}

func (s *scanner) fail(msg string) error { return &syntaxError{msg: msg, off: s.pos} }

func (s *scanner) eof() error { return &syntaxError{msg: "unexpected end of JSON input", off: s.pos} }

// ws skips whitespace.
func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// value validates and skips one value and returns its raw bytes.
func (s *scanner) value() ([]byte, error) {
	s.ws()
	start := s.pos
	if err := s.skip(0); err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

// skip validates and skips one value.
func (s *scanner) skip(depth int) error {
	if depth > maxNesting {
		return s.fail("exceeded max depth")
	}
	switch c := s.peek(); {
	case c == '"':
		_, _, _, err := s.scanString()
		return err
	case c == '{':
		s.pos++
		if s.peek() == '}' {
			s.pos++
			return nil
		}
		for {
			if s.peek() != '"' {
				return s.errAt("object key")
			}
			if _, _, _, err := s.scanString(); err != nil {
				return err
			}
			if s.peek() != ':' {
				return s.errAt("':'")
			}
			s.pos++
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return nil
			default:
				return s.errAt("',' or '}'")
			}
		}
	case c == '[':
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return nil
			default:
				return s.errAt("',' or ']'")
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	default:
		return s.errAt("value")
	}
}

// errAt reports what was expected at the current position.
func (s *scanner) errAt(what string) error {
	if s.pos >= len(s.data) {
		return s.eof()
	}
	return s.fail(fmt.Sprintf("expected %s, found %q", what, s.data[s.pos]))
}

func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) {
		if bytes.HasPrefix([]byte(word), s.data[s.pos:]) {
			return s.eof()
		}
		return s.fail("invalid literal")
	}
	if string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.pos += len(word)
	return nil
}

// number scans a JSON number.
func (s *scanner) number() error {
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		s.pos = i
		return s.eof()
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return s.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return s.errAt("digit")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return s.errAt("digit")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return nil
}

// scanString scans the string at s.pos (which must be '"') and returns the
// bounds of its contents, and whether it has escapes or non-ASCII bytes.
func (s *scanner) scanString() (start, end int, escaped bool, err error) {
	s.pos++
	start = s.pos
	nonASCII := false
	d := s.data
	for s.pos < len(d) {
		c := d[s.pos]
		switch {
		case c == '"':
			end = s.pos
			s.pos++
			return start, end, escaped || nonASCII, nil
		case c == '\\':
			escaped = true
			s.pos++
			if s.pos >= len(d) {
				return 0, 0, false, s.eof()
			}
			switch d[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for k := 0; k < 4; k++ {
					if s.pos >= len(d) {
						return 0, 0, false, s.eof()
					}
					if !isHex(d[s.pos]) {
						return 0, 0, false, s.fail("invalid \\u escape")
					}
					s.pos++
				}
			default:
				return 0, 0, false, s.fail("invalid escape")
			}
		case c < 0x20:
			return 0, 0, false, s.fail("control character in string")
		default:
			if c >= utf8.RuneSelf {
				nonASCII = true
			}
			s.pos++
		}
	}
	return 0, 0, false, s.eof()
}

// str reads a string value and decodes it the way encoding/json does.
func (s *scanner) str() (string, error) {
	start, end, special, err := s.scanString()
	if err != nil {
		return "", err
	}
	raw := s.data[start:end]
	if !special {
		return string(raw), nil
	}
	return unquote(raw), nil
}

// key reads an object key and returns its decoded bytes. Keys without
// escapes are returned as a sub-slice, so matching them allocates nothing.
func (s *scanner) key() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.errAt("object key")
	}
	start, end, special, err := s.scanString()
	if err != nil {
		return nil, err
	}
	raw := s.data[start:end]
	if special {
		raw = []byte(unquote(raw))
	}
	if s.peek() != ':' {
		return nil, s.errAt("':'")
	}
	s.pos++
	return raw, nil
}

// next advances inside an object or array after a member: it returns true
// when another member follows and false at the closing delimiter.
func (s *scanner) next(closing byte) (bool, error) {
	switch c := s.peek(); c {
	case ',':
		s.pos++
		return true, nil
	case closing:
		s.pos++
		return false, nil
	default:
		return false, s.errAt(fmt.Sprintf("',' or %q", closing))
	}
}

// open consumes the opening delimiter of a non-empty object or array and
// reports whether there are members; for an empty one it consumes both
// delimiters.
func (s *scanner) open(opening, closing byte) bool {
	s.pos++ // opening, checked by the caller
	if s.peek() == closing {
		s.pos++
		return false
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// unquote decodes the contents of a validated JSON string like
// encoding/json: escapes are resolved, unpaired surrogates and invalid
// UTF-8 bytes become U+FFFD.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	out := make([]byte, 0, len(raw)+8)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			e := raw[i+1]
			switch e {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hexVal(raw[i+2 : i+6])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hexVal(raw[i+2:i+6])); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // '"', '\\', '/'
				out = append(out, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
		}
	}
	return string(out)
}

// smallInt parses a plain integer literal of at most 18 digits without
// allocating.
func smallInt(b []byte) (int64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	if i >= len(b) || len(b)-i > 18 {
		return 0, false
	}
	var n int64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseRFC3339 parses the common "2006-01-02T15:04:05[.fraction](Z|±hh:mm)"
// form from bytes without allocating, giving exactly what ParseTime gives.
// Anything unusual (including out-of-range fields) returns ok=false and is
// left to ParseTime.
func parseRFC3339(p []byte) (t time.Time, ok bool) {
	if len(p) < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' {
		return t, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range p[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return t, false
	}
	i, nsec := 19, 0
	if p[i] == '.' {
		i++
		digits := 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			if digits == 9 {
				return t, false
			}
			nsec = nsec*10 + int(p[i]-'0')
			digits++
			i++
		}
		if digits == 0 {
			return t, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	offset := 0
	switch rest := p[i:]; {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, om := num(i+1, 2), num(i+4, 2)
		if oh < 0 || oh > 23 || om < 0 || om > 59 {
			return t, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return t, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

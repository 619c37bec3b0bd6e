package rapidpro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the tolerant decoding: small scalar types that accept
// every shape the servers produce, the streaming page decoder, and the
// contact wire struct. Every endpoint but runs decodes with encoding/json
// into an unexported "wire" struct (here and in wire.go), converted to the
// public type; custom UnmarshalJSON methods exist only on the small types
// whose shape varies, so nothing goes through map[string]any. Runs, the
// bulk of every sync, have a hand-written decoder (fastrun.go) with the
// same semantics.

// rawString returns the text of a JSON scalar: the string itself, or the
// literal text of a number, boolean, object or array. ok is false for null
// and empty input.
func rawString(b []byte) (s string, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' {
		return "", false
	}
	if b[0] != '"' {
		return string(b), true
	}
	if len(b) >= 2 && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		if bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && utf8.Valid(inner) {
			return string(inner), true
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// jString accepts a string, number, boolean or null ("").
type jString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *jString) UnmarshalJSON(b []byte) error {
	v, _ := rawString(b)
	*s = jString(v)
	return nil
}

// jNullString is like jString but remembers null (valid is false) and
// whether the key was present at all (encoding/json calls UnmarshalJSON on
// non-pointer fields even for null).
type jNullString struct {
	s       string
	valid   bool
	present bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *jNullString) UnmarshalJSON(b []byte) error {
	s.s, s.valid = rawString(b)
	s.present = true
	return nil
}

func (s jNullString) ptr() *string {
	if !s.valid {
		return nil
	}
	v := s.s
	return &v
}

// parseNumber parses an integer that may be written as a string or with a
// fraction; garbage and out-of-range values give 0.
func parseNumber(b []byte) int64 {
	if n, ok := smallInt(b); ok {
		return n
	}
	s, ok := rawString(b)
	if !ok {
		return 0
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0
	}
	return int64(f)
}

// jInt64 accepts a number, a numeric string or null (0).
type jInt64 int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *jInt64) UnmarshalJSON(b []byte) error {
	*n = jInt64(parseNumber(b))
	return nil
}

// jInt is jInt64 for int fields.
type jInt int

// UnmarshalJSON implements json.Unmarshaler.
func (n *jInt) UnmarshalJSON(b []byte) error {
	v := parseNumber(b)
	if v > math.MaxInt || v < math.MinInt {
		v = 0
	}
	*n = jInt(v)
	return nil
}

// jBool accepts true/false, null (false), numbers (non-zero is true) and the
// strings the server takes as true: "true", "y", "yes", "1".
type jBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *jBool) UnmarshalJSON(b []byte) error {
	*v = jBool(parseBool(b))
	return nil
}

func parseBool(b []byte) bool {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return false
	case b[0] == 't':
		return true
	case b[0] == 'f' || b[0] == 'n':
		return false
	}
	s, _ := rawString(b)
	return boolString(s)
}

// boolString is the server's notion of a true string, extended to numbers.
func boolString(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "y", "yes", "1", "on":
		return true
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return f != 0
	}
	return false
}

// jTime accepts the datetime forms of §1 of the contract and null. An
// unparsable value decodes as the zero time rather than failing the page.
type jTime time.Time

// UnmarshalJSON implements json.Unmarshaler.
func (t *jTime) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		if v, ok := parseRFC3339(b[1 : len(b)-1]); ok {
			*t = jTime(v)
			return nil
		}
	}
	s, ok := rawString(b)
	if !ok {
		*t = jTime{}
		return nil
	}
	v, _ := ParseTime(s)
	*t = jTime(v)
	return nil
}

func (t jTime) time() time.Time { return time.Time(t) }

func (t jTime) ptr() *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	v := time.Time(t)
	return &v
}

// timeLayouts are the fallbacks tried after RFC 3339.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses the datetimes RapidPro servers produce: RFC 3339 with
// "Z" or any offset, with or without a fraction, plus a few older forms (a
// space separator, no colon in the offset, no zone at all, which is taken as
// UTC, or a bare date). The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("rapidpro: empty time")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t.UTC(), nil
	}
	for _, layout := range timeLayouts {
		if t2, err2 := time.Parse(layout, s); err2 == nil {
			return t2.UTC(), nil
		}
	}
	return time.Time{}, err
}

// jCategory is a run value category: a string, null, or a legacy
// localized dict from which the "base" entry, else the first non-null entry
// in document order, is taken.
type jCategory struct {
	s     string
	valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *jCategory) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		c.s, c.valid = localized(b, "base")
		return nil
	}
	c.s, c.valid = rawString(b)
	return nil
}

func (c jCategory) ptr() *string {
	if !c.valid {
		return nil
	}
	v := c.s
	return &v
}

// localized picks the entry for lang (else "base", else the first non-null
// entry in document order) of a {lang: text} object. A non-object value is
// returned as text.
func localized(b []byte, lang string) (string, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return rawString(b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	var first, base string
	var haveFirst, haveBase bool
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		s, ok := rawString(raw)
		if !ok {
			continue
		}
		if key == lang && lang != "" {
			return s, true
		}
		if key == "base" && !haveBase {
			base, haveBase = s, true
		}
		if !haveFirst {
			first, haveFirst = s, true
		}
	}
	if haveBase {
		return base, true
	}
	return first, haveFirst
}

// decodeTolerant unmarshals b into v, ignoring type mismatches on single
// fields (encoding/json still fills every other field).
func decodeTolerant(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return nil
	}
	return err
}

// wirePage is the list envelope.
type wirePage[W any] struct {
	Next    jString `json:"next"`
	Results []W     `json:"results"`
}

// pageCap is the server's page size, used to preallocate results.
const pageCap = 250

// decodePage decodes a list envelope from rd, streaming the results array
// element by element so the decoder never buffers a whole page. A record
// with a mistyped field is kept (the other fields decoded) and counted in
// mistyped. A bare array body (what a server answers without the .json
// suffix) decodes as a page without next.
func decodePage[W any](rd io.Reader, page *wirePage[W]) (mistyped int, err error) {
	dec := json.NewDecoder(rd)
	tolerate := func(err error) error {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			mistyped++
			return nil
		}
		return err
	}
	results := func() error {
		page.Results = make([]W, 0, pageCap)
		for dec.More() {
			var w W
			err := dec.Decode(&w)
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field == "" {
				// The element itself is not an object: drop it.
				mistyped++
				continue
			}
			if err := tolerate(err); err != nil {
				return err
			}
			page.Results = append(page.Results, w)
		}
		_, err := dec.Token() // ']'
		return err
	}
	tok, err := dec.Token()
	if err != nil {
		return 0, err
	}
	switch tok {
	case json.Delim('['):
		return mistyped, results()
	case json.Delim('{'):
	default:
		return 0, fmt.Errorf("unexpected %v at the start of a page", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return mistyped, err
		}
		switch key, _ := tok.(string); key {
		case "next":
			if err := tolerate(dec.Decode(&page.Next)); err != nil {
				return mistyped, err
			}
		case "results":
			var raw json.RawMessage
			tok, err := dec.Token()
			if err != nil {
				return mistyped, err
			}
			switch tok {
			case json.Delim('['):
				if err := results(); err != nil {
					return mistyped, err
				}
			case nil:
			case json.Delim('{'):
				// Not a list: skip the object.
				for dec.More() {
					if _, err := dec.Token(); err != nil {
						return mistyped, err
					}
					if err := dec.Decode(&raw); err != nil {
						return mistyped, err
					}
				}
				if _, err := dec.Token(); err != nil {
					return mistyped, err
				}
				mistyped++
			default:
				mistyped++
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return mistyped, err
			}
		}
	}
	_, err = dec.Token() // '}'
	return mistyped, err
}

// ---- contacts ----

type wireContact struct {
	UUID       jString                `json:"uuid"`
	Name       jString                `json:"name"`
	Language   jString                `json:"language"`
	URNs       []jString              `json:"urns"`
	Groups     []Ref                  `json:"groups"`
	Fields     map[string]jNullString `json:"fields"`
	Status     jNullString            `json:"status"`
	Blocked    jNullString            `json:"blocked"`
	Stopped    jNullString            `json:"stopped"`
	Flow       *Ref                   `json:"flow"`
	CreatedOn  jTime                  `json:"created_on"`
	ModifiedOn jTime                  `json:"modified_on"`
	LastSeenOn jTime                  `json:"last_seen_on"`
}

func (w *wireContact) api() Contact {
	c := Contact{
		UUID:       string(w.UUID),
		Name:       string(w.Name),
		Language:   string(w.Language),
		Groups:     w.Groups,
		Flow:       w.Flow,
		CreatedOn:  w.CreatedOn.time(),
		ModifiedOn: w.ModifiedOn.time(),
		LastSeenOn: w.LastSeenOn.ptr(),
	}
	if w.URNs != nil {
		c.URNs = make([]string, len(w.URNs))
		for i, u := range w.URNs {
			c.URNs[i] = string(u)
		}
	}
	if w.Fields != nil {
		c.Fields = make(map[string]*string, len(w.Fields))
		for k, v := range w.Fields {
			c.Fields[k] = v.ptr()
		}
	}
	// flag reads a legacy boolean: value, present as a boolean, present
	// as null.
	flag := func(p jNullString) (value, present, null bool) {
		if !p.present {
			return false, false, false
		}
		if !p.valid {
			return false, false, true
		}
		return boolString(p.s), true, false
	}
	blocked, hasBlocked, nullBlocked := flag(w.Blocked)
	stopped, hasStopped, nullStopped := flag(w.Stopped)
	switch {
	case w.Status.valid && w.Status.s != "":
		c.Status = strings.ToLower(w.Status.s)
	case blocked:
		c.Status = StatusBlocked
	case stopped:
		c.Status = StatusStopped
	case hasBlocked || hasStopped:
		c.Status = StatusActive
	case (w.Status.present && !w.Status.valid) || nullBlocked || nullStopped:
		// An explicit null status (or null legacy flags) is how servers
		// render deleted contacts.
		c.Status = StatusDeleted
	default:
		c.Status = StatusActive
	}
	c.Blocked = blocked || c.Status == StatusBlocked
	c.Stopped = stopped || c.Status == StatusStopped
	return c
}

// UnmarshalJSON decodes any server shape of a contact.
func (c *Contact) UnmarshalJSON(b []byte) error {
	var w wireContact
	if err := decodeTolerant(b, &w); err != nil {
		return err
	}
	*c = w.api()
	return nil
}

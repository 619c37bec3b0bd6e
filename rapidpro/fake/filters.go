package fake

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// svStrToBool mirrors temba's str_to_bool: "true", "y", "yes" and "1" (any case)
// are true, anything else is false.
func svStrToBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "y", "yes", "1":
		return true
	}
	return false
}

// svValidUUID reports whether s parses as a UUID in its canonical form (with or
// without dashes, as Django's UUIDField accepts).
func svValidUUID(s string) bool {
	if len(s) != 36 && len(s) != 32 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// svParseISO parses the datetime forms the iso8601 module accepts: a date, or a
// date and time separated by "T" or a space, optional fraction, and a "Z",
// "±hh:mm", "±hhmm" or "±hh" offset (UTC when absent). The result is UTC,
// truncated to microseconds.
func svParseISO(s string) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	num := func(str string) (int, bool) {
		if str == "" {
			return 0, false
		}
		n := 0
		for i := 0; i < len(str); i++ {
			c := str[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	if s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	rest := s[10:]
	var hh, mm, ss, nsec int
	loc := time.UTC
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' {
			return time.Time{}, false
		}
		rest = rest[1:]
		if len(rest) < 5 || rest[2] != ':' {
			return time.Time{}, false
		}
		var ok bool
		if hh, ok = num(rest[0:2]); !ok || hh > 23 {
			return time.Time{}, false
		}
		if mm, ok = num(rest[3:5]); !ok || mm > 59 {
			return time.Time{}, false
		}
		rest = rest[5:]
		if len(rest) >= 3 && rest[0] == ':' {
			if ss, ok = num(rest[1:3]); !ok || ss > 60 {
				return time.Time{}, false
			}
			rest = rest[3:]
			if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
				i := 1
				for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
					i++
				}
				frac := rest[1:i]
				if frac == "" {
					return time.Time{}, false
				}
				if len(frac) > 9 {
					frac = frac[:9]
				}
				f, _ := num(frac)
				for k := len(frac); k < 9; k++ {
					f *= 10
				}
				nsec = f
				rest = rest[i:]
			}
		}
		switch {
		case rest == "" || rest == "Z" || rest == "z":
		case rest[0] == '+' || rest[0] == '-':
			sign := 1
			if rest[0] == '-' {
				sign = -1
			}
			tz := strings.ReplaceAll(rest[1:], ":", "")
			var oh, om int
			switch len(tz) {
			case 2:
				oh, ok = num(tz)
			case 4:
				oh, ok = num(tz[:2])
				if ok {
					om, ok = num(tz[2:])
				}
			default:
				ok = false
			}
			if !ok || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			loc = time.FixedZone("", sign*(oh*3600+om*60))
		default:
			return time.Time{}, false
		}
	}
	t := time.Date(y, time.Month(mo), d, hh, mm, ss, nsec, loc)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Microsecond), true
}

// svPyTime formats t as Python's str(datetime) for an aware UTC datetime, which
// is what DRF puts into a cursor position: "2015-08-26 10:05:47.516562+00:00",
// the fraction omitted when zero.
func svPyTime(t time.Time) string {
	b := make([]byte, 0, 32)
	b = svAppendClock(b, t, ' ')
	return string(append(b, "+00:00"...))
}

// svAppendClock appends "YYYY-MM-DD<sep>hh:mm:ss[.ffffff]" for t in UTC.
func svAppendClock(b []byte, t time.Time, sep byte) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	b = svAppendPad(b, y, 4)
	b = append(b, '-')
	b = svAppendPad(b, int(mo), 2)
	b = append(b, '-')
	b = svAppendPad(b, d, 2)
	b = append(b, sep)
	b = svAppendPad(b, hh, 2)
	b = append(b, ':')
	b = svAppendPad(b, mm, 2)
	b = append(b, ':')
	b = svAppendPad(b, ss, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = svAppendPad(b, us, 6)
	}
	return b
}

// svAppendPad appends n zero-padded to width digits.
func svAppendPad(b []byte, n, width int) []byte {
	var tmp [12]byte
	i := len(tmp)
	for n > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	for k := len(tmp) - i; k < width; k++ {
		b = append(b, '0')
	}
	return append(b, tmp[i:]...)
}

// svRange is an inclusive [after, before] filter parsed from query params.
// Empty is set when a value did not parse: the server then answers an empty
// list rather than a 400.
type svRange struct {
	After, Before       time.Time
	HasAfter, HasBefore bool
	Empty               bool
}

// svParseRange reads the after/before params.
func svParseRange(q url.Values) svRange {
	var r svRange
	if v := q.Get("after"); v != "" {
		t, ok := svParseISO(v)
		r.After, r.HasAfter = t, true
		r.Empty = r.Empty || !ok
	}
	if v := q.Get("before"); v != "" {
		t, ok := svParseISO(v)
		r.Before, r.HasBefore = t, true
		r.Empty = r.Empty || !ok
	}
	return r
}

// contains reports whether t lies in the range.
func (r svRange) contains(t time.Time) bool {
	if r.HasAfter && t.Before(r.After) {
		return false
	}
	if r.HasBefore && t.After(r.Before) {
		return false
	}
	return true
}

// svURNSchemes are the URN schemes the simulator accepts.
var svURNSchemes = map[string]bool{
	"tel": true, "twitter": true, "twitterid": true, "whatsapp": true, "telegram": true,
	"mailto": true, "ext": true, "facebook": true, "viber": true, "line": true,
	"jiochat": true, "wechat": true, "fcm": true, "discord": true, "instagram": true,
	"webchat": true, "slack": true, "rocketchat": true, "vk": true, "freshchat": true,
}

// svNormalizeURN normalizes and validates a URN the way RapidPro does for the
// schemes TracPro uses: tel numbers must be E.164 (a "+" and 7–15 digits after
// stripping punctuation), twitter handles lose "@" and are lower-cased, emails
// are lower-cased. It reports false for an invalid URN.
func svNormalizeURN(raw string) (string, bool) {
	scheme, path, ok := strings.Cut(strings.TrimSpace(raw), ":")
	scheme = strings.ToLower(scheme)
	if !ok || path == "" || !svURNSchemes[scheme] {
		return "", false
	}
	switch scheme {
	case "tel":
		var b strings.Builder
		for i, c := range path {
			switch {
			case c >= '0' && c <= '9':
				b.WriteRune(c)
			case c == '+' && i == 0:
				b.WriteRune(c)
			case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
			default:
				return "", false
			}
		}
		p := b.String()
		if !strings.HasPrefix(p, "+") || len(p)-1 < 7 || len(p)-1 > 15 {
			return "", false
		}
		path = p
	case "twitter":
		path = strings.ToLower(strings.TrimPrefix(path, "@"))
	case "mailto":
		path = strings.ToLower(path)
		if !strings.Contains(path, "@") {
			return "", false
		}
	case "twitterid", "whatsapp", "telegram", "facebook":
		if _, err := strconv.ParseUint(strings.TrimPrefix(path, "ref:"), 10, 64); err != nil && scheme != "facebook" {
			return "", false
		}
	}
	return scheme + ":" + path, true
}

// svExclusive returns the 400 detail when more than one of names is present in q.
func svExclusive(q url.Values, names ...string) string {
	n := 0
	for _, k := range names {
		if q.Get(k) != "" {
			n++
		}
	}
	if n > 1 {
		return "You may only specify one of the " + strings.Join(names, ", ") + " parameters"
	}
	return ""
}

// svParseQuery parses a query string the way Python's parse_qsl does: '+' is
// a space and malformed %-escapes are kept literally instead of dropping the
// pair (Go's url.ParseQuery drops it).
func svParseQuery(raw string) url.Values {
	q := url.Values{}
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(part, "=")
		q[svUnquote(k)] = append(q[svUnquote(k)], svUnquote(v))
	}
	return q
}

// svUnquote decodes '+' and valid %XX escapes, leaving anything else as is.
func svUnquote(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	unhex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 < len(s) {
				h, ok1 := unhex(s[i+1])
				l, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					b = append(b, h<<4|l)
					i += 2
					continue
				}
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

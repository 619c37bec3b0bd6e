package rapidpro

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// The run decoder. Runs are the bulk of every sync, so they are decoded by
// hand with scanner (scan.go) straight into Run, with the same semantics
// as decoding the tolerant wire struct with encoding/json (the reference
// implementation lives in the tests, and FuzzDecodeRun checks that both
// agree on every input). Scalar fields reuse the tolerant scalar types'
// UnmarshalJSON, so a mistyped or odd value means the same thing in both.

// Field names of a run object, matched exactly first and then
// case-insensitively, like encoding/json.
var (
	runKeys        = []string{"id", "uuid", "flow", "contact", "start", "start_uuid", "responded", "path", "values", "created_on", "modified_on", "exited_on", "exit_type"}
	refKeys        = []string{"uuid", "name"}
	contactRefKeys = []string{"uuid", "name", "urn", "urn_display", "anon_display"}
	stepKeys       = []string{"node", "time"}
	valueKeys      = []string{"name", "value", "category", "node", "time", "input"}
)

// matchKey returns the index of key in names, or -1.
func matchKey(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	for i, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return i
		}
	}
	return -1
}

// The scalar readers hand the next value's raw bytes to one of the
// tolerant scalar types (whose UnmarshalJSON never fails). They are
// concrete functions so the decoded values stay on the stack.

func (s *scanner) timeValue() (time.Time, error) {
	b, err := s.value()
	var x jTime
	if err == nil {
		_ = x.UnmarshalJSON(b)
	}
	return x.time(), err
}

func (s *scanner) textValue() (string, error) {
	b, err := s.value()
	var x jString
	if err == nil {
		_ = x.UnmarshalJSON(b)
	}
	return string(x), err
}

// textName is textValue with interning of plain strings.
func (s *scanner) textName() (string, error) {
	if s.peek() == '"' {
		at := s.pos
		start, end, special, err := s.scanString()
		if err != nil || !special {
			return s.intern(s.data[start:end]), err
		}
		var x jString
		_ = x.UnmarshalJSON(s.data[at:s.pos])
		return string(x), nil
	}
	return s.textValue()
}

// maxInterned bounds the intern table of one scanner.
const maxInterned = 4096

// intern returns b as a string, sharing one copy per distinct value within
// the document (flow and node UUIDs, result names, categories repeat on
// every run of a page).
func (s *scanner) intern(b []byte) string {
	if !s.share {
		return string(b)
	}
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	v := string(b)
	if s.names == nil {
		s.names = make(map[string]string, 64)
	}
	if len(s.names) < maxInterned {
		s.names[v] = v
	}
	return v
}

func (s *scanner) nullTextValue() (*string, error) {
	b, err := s.value()
	var x jNullString
	if err == nil {
		_ = x.UnmarshalJSON(b)
	}
	return x.ptr(), err
}

func (s *scanner) categoryValue() (*string, error) {
	if s.peek() == '"' {
		at := s.pos
		start, end, special, err := s.scanString()
		if err != nil {
			return nil, err
		}
		if !special {
			c := s.intern(s.data[start:end])
			return &c, nil
		}
		var x jCategory
		_ = x.UnmarshalJSON(s.data[at:s.pos])
		return x.ptr(), nil
	}
	b, err := s.value()
	var x jCategory
	if err == nil {
		_ = x.UnmarshalJSON(b)
	}
	return x.ptr(), err
}

func (s *scanner) int64Value() (int64, error) {
	b, err := s.value()
	var x jInt64
	if err == nil {
		_ = x.UnmarshalJSON(b)
	}
	return int64(x), err
}

func (s *scanner) boolValue() (bool, error) {
	b, err := s.value()
	var x jBool
	if err == nil {
		_ = x.UnmarshalJSON(b)
	}
	return bool(x), err
}

// enter consumes '{' when the next value is an object. Otherwise it skips
// the value, counting a mismatch unless it is null, and returns false.
func (s *scanner) enter(opening byte) (isOpen bool, err error) {
	if s.peek() == opening {
		return true, nil
	}
	v, err := s.value()
	if err != nil {
		return false, err
	}
	if v[0] != 'n' {
		s.mistyped++
	}
	return false, nil
}

// members iterates over the members of the object whose '{' is next,
// calling fn with each key; fn must consume the value.
func (s *scanner) members(fn func(key []byte) error) error {
	if !s.open('{', '}') {
		return nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		more, err := s.next('}')
		if err != nil || !more {
			return err
		}
	}
}

// plainString decodes into a Go string field: a string sets it, null
// leaves it, anything else is a mismatch that leaves it.
func (s *scanner) plainString(dst *string) error {
	return s.stringField(dst, false)
}

// nameString is plainString for values that repeat across runs (flow,
// node, result and category names), which are interned.
func (s *scanner) nameString(dst *string) error {
	return s.stringField(dst, true)
}

func (s *scanner) stringField(dst *string, intern bool) error {
	if s.peek() == '"' {
		start, end, special, err := s.scanString()
		if err != nil {
			return err
		}
		switch {
		case special:
			*dst = unquote(s.data[start:end])
		case intern:
			*dst = s.intern(s.data[start:end])
		default:
			*dst = string(s.data[start:end])
		}
		return nil
	}
	v, err := s.value()
	if err == nil && v[0] != 'n' {
		s.mistyped++
	}
	return err
}

// skipValue skips the value of an unknown key.
func (s *scanner) skipValue() error {
	_, err := s.value()
	return err
}

func (s *scanner) ref(dst *Ref) error {
	if ok, err := s.enter('{'); !ok {
		return err
	}
	return s.members(func(k []byte) error {
		switch matchKey(k, refKeys) {
		case 0:
			return s.nameString(&dst.UUID)
		case 1:
			return s.nameString(&dst.Name)
		}
		return s.skipValue()
	})
}

func (s *scanner) contactRef(dst *ContactRef) error {
	if ok, err := s.enter('{'); !ok {
		return err
	}
	return s.members(func(k []byte) error {
		switch matchKey(k, contactRefKeys) {
		case 0:
			return s.plainString(&dst.UUID)
		case 1:
			return s.plainString(&dst.Name)
		case 2:
			return s.plainString(&dst.URN)
		case 3:
			return s.plainString(&dst.URNDisplay)
		case 4:
			return s.plainString(&dst.AnonDisplay)
		}
		return s.skipValue()
	})
}

// path decodes "path": null gives nil, [] an empty slice, null or
// mistyped steps zero steps.
func (s *scanner) path(dst *[]PathStep) error {
	if s.peek() == 'n' {
		if err := s.literal("null"); err != nil {
			return err
		}
		*dst = nil
		return nil
	}
	if ok, err := s.enter('['); !ok {
		return err
	}
	if !s.open('[', ']') {
		*dst = []PathStep{}
		return nil
	}
	steps := make([]PathStep, 0, 8)
	for {
		steps = append(steps, PathStep{})
		step := &steps[len(steps)-1]
		ok, err := s.enter('{')
		if err != nil {
			return err
		}
		if ok {
			err := s.members(func(k []byte) error {
				switch matchKey(k, stepKeys) {
				case 0:
					return s.nameString(&step.Node)
				case 1:
					var err error
					step.Time, err = s.timeValue()
					return err
				}
				return s.skipValue()
			})
			if err != nil {
				return err
			}
		}
		more, err := s.next(']')
		if err != nil {
			return err
		}
		if !more {
			*dst = steps
			return nil
		}
	}
}

// values decodes "values" like encoding/json decodes into a map: entries
// are added to the existing map, each from a zero value.
func (s *scanner) values(dst *map[string]RunValue) error {
	if s.peek() == 'n' {
		if err := s.literal("null"); err != nil {
			return err
		}
		*dst = nil
		return nil
	}
	if ok, err := s.enter('{'); !ok {
		return err
	}
	if *dst == nil {
		*dst = make(map[string]RunValue, 4)
	}
	m := *dst
	return s.members(func(k []byte) error {
		key := s.intern(k)
		var v RunValue
		ok, err := s.enter('{')
		if err != nil {
			return err
		}
		if ok {
			if err := s.runValue(&v); err != nil {
				return err
			}
		}
		m[key] = v
		return nil
	})
}

func (s *scanner) runValue(v *RunValue) error {
	return s.members(func(k []byte) error {
		switch matchKey(k, valueKeys) {
		case 0:
			return s.nameString(&v.Name)
		case 1:
			var err error
			v.Value, err = s.textValue()
			return err
		case 2:
			var err error
			v.Category, err = s.categoryValue()
			return err
		case 3:
			return s.nameString(&v.Node)
		case 4:
			var err error
			v.Time, err = s.timeValue()
			return err
		case 5:
			var err error
			v.Input, err = s.nullTextValue()
			return err
		}
		return s.skipValue()
	})
}

// run decodes one run object (a non-object value leaves r unchanged).
func (s *scanner) run(r *Run) error {
	if ok, err := s.enter('{'); !ok {
		return err
	}
	var start, startUUID string
	var exited time.Time
	err := s.members(func(k []byte) error {
		var err error
		i := matchKey(k, runKeys)
		switch i {
		case 0:
			r.ID, err = s.int64Value()
			return err
		case 1:
			return s.plainString(&r.UUID)
		case 2:
			return s.ref(&r.Flow)
		case 3:
			return s.contactRef(&r.Contact)
		case 4:
			if ok, err := s.enter('{'); !ok {
				return err
			}
			return s.members(func(k []byte) error {
				if matchKey(k, refKeys[:1]) == 0 {
					var err error
					start, err = s.textName()
					return err
				}
				return s.skipValue()
			})
		case 5:
			startUUID, err = s.textValue()
			return err
		case 6:
			r.Responded, err = s.boolValue()
			return err
		case 7:
			return s.path(&r.Path)
		case 8:
			return s.values(&r.Values)
		case 9:
			r.CreatedOn, err = s.timeValue()
			return err
		case 10:
			r.ModifiedOn, err = s.timeValue()
			return err
		case 11:
			exited, err = s.timeValue()
			return err
		case 12:
			return s.nameString(&r.ExitType)
		}
		return s.skipValue()
	})
	r.StartUUID = start
	if r.StartUUID == "" {
		r.StartUUID = startUUID
	}
	if !exited.IsZero() {
		r.ExitedOn = &exited
	}
	return err
}

// decodeRun decodes a single run document; trailing data is an error.
func decodeRun(data []byte, r *Run) (mistyped int, err error) {
	var s scanner
	return s.decodeRun(data, r)
}

// decodeRun decodes a run document with s, keeping s's intern table (a
// stream of runs shares it).
func (s *scanner) decodeRun(data []byte, r *Run) (mistyped int, err error) {
	s.data, s.pos, s.mistyped = data, 0, 0
	*r = Run{}
	if err := s.run(r); err != nil {
		return s.mistyped, err
	}
	if s.peek() != 0 || s.pos < len(s.data) {
		return s.mistyped, s.fail("data after the run")
	}
	return s.mistyped, nil
}

// UnmarshalJSON decodes any server shape of a run (legacy ids, missing
// names, legacy localized categories, numbers for strings, null dates).
func (r *Run) UnmarshalJSON(b []byte) error {
	_, err := decodeRun(b, r)
	return err
}

// UnmarshalJSON decodes a run value, tolerating numbers and legacy
// localized categories.
func (v *RunValue) UnmarshalJSON(b []byte) error {
	s := scanner{data: b}
	*v = RunValue{}
	if ok, err := s.enter('{'); !ok {
		return err
	}
	return s.runValue(v)
}

var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodeRunsPage reads a runs page from rd. It follows decodePage's
// envelope rules: "next" and "results" are read, other keys skipped, a bare
// array is a page without next, and results that are not objects are
// dropped (null ones give an empty run, as with encoding/json).
func decodeRunsPage(rd io.Reader) (runs []Run, next string, mistyped int, err error) {
	buf := pageBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer pageBuffers.Put(buf)
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, "", 0, err
	}
	s := scanner{data: buf.Bytes(), share: true}
	results := func() error {
		runs = make([]Run, 0, pageCap)
		if !s.open('[', ']') {
			return nil
		}
		for {
			c := s.peek()
			if c != '{' && c != 'n' {
				if err := s.skipValue(); err != nil {
					return err
				}
				s.mistyped++
			} else {
				runs = append(runs, Run{})
				if err := s.run(&runs[len(runs)-1]); err != nil {
					return err
				}
			}
			more, err := s.next(']')
			if err != nil || !more {
				return err
			}
		}
	}
	switch s.peek() {
	case '[':
		err = results()
		return runs, "", s.mistyped, err
	case '{':
	default:
		return nil, "", 0, s.errAt("'{' or '['")
	}
	err = s.members(func(k []byte) error {
		switch string(k) {
		case "next":
			var err error
			next, err = s.textValue()
			return err
		case "results":
			if s.peek() == '[' {
				return results()
			}
			return s.plainSkip()
		}
		return s.skipValue()
	})
	return runs, next, s.mistyped, err
}

// plainSkip skips a value, counting it as a mismatch unless it is null.
func (s *scanner) plainSkip() error {
	v, err := s.value()
	if err == nil && v[0] != 'n' {
		s.mistyped++
	}
	return err
}

package locale

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Where user-visible strings are written: `.T "…"` / `.N "…" "…"` in
// templates, `.T("…")` / `.N("…", "…"` in handlers, and the messages of field
// errors in models (InvalidField(field, "…") and Message: "…").
var (
	tmplT  = regexp.MustCompile(`\.T\s+"((?:[^"\\]|\\.)*)"`)
	tmplN  = regexp.MustCompile(`\.N\s+"((?:[^"\\]|\\.)*)"\s+"((?:[^"\\]|\\.)*)"`)
	goT    = regexp.MustCompile(`\.T\(\s*"((?:[^"\\]|\\.)*)"`)
	goN    = regexp.MustCompile(`\.N\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"`)
	modelF = regexp.MustCompile(`InvalidField\(\s*[^,()]+,\s*"((?:[^"\\]|\\.)*)"`)
	modelM = regexp.MustCompile(`Message:\s*"((?:[^"\\]|\\.)*)"`)
	verbs  = regexp.MustCompile(`%[-+# 0]*\d*(?:\.\d+)?[vsdqfgxXtT]`)
)

type msg struct {
	id, plural string
	where      string
}

func unquote(t *testing.T, s string) string {
	u, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		t.Fatalf("bad string literal %q: %v", s, err)
	}
	return u
}

// extract collects every msgid of the sources.
func extract(t *testing.T) map[string]msg {
	out := map[string]msg{}
	add := func(id, plural, where string) {
		if _, ok := out[id]; !ok {
			out[id] = msg{id: id, plural: plural, where: where}
		}
	}
	scan := func(glob string, single, plural []*regexp.Regexp) {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range single {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					add(unquote(t, m[1]), "", strings.TrimPrefix(f, "../"))
				}
			}
			for _, re := range plural {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					add(unquote(t, m[1]), unquote(t, m[2]), strings.TrimPrefix(f, "../"))
				}
			}
		}
	}
	scan("../templates/*/*.html", []*regexp.Regexp{tmplT}, []*regexp.Regexp{tmplN})
	scan("../handlers/*.go", []*regexp.Regexp{goT, modelF}, []*regexp.Regexp{goN})
	scan("../models/*.go", []*regexp.Regexp{modelF, modelM}, nil)
	// Dates are written with the translated month names.
	for _, m := range Months {
		add(m, "", "locale/locale.go")
	}
	if len(out) < 20 {
		t.Fatalf("only %d strings extracted: the patterns no longer match the sources", len(out))
	}
	return out
}

func poQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// TestEveryStringTranslated fails when a template, handler or field-error
// string has no translation in a shipped language, or a translation does not
// keep the format verbs of its msgid. TRACPRO_UPDATE_PO=1 appends the missing
// msgids (with empty translations) to every catalog, for translators.
func TestEveryStringTranslated(t *testing.T) {
	msgs := extract(t)
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	update := os.Getenv("TRACPRO_UPDATE_PO") == "1"
	missing := 0
	for _, lang := range Languages {
		cat := Get(lang)
		entries := cat.Entries()
		var add strings.Builder
		for _, id := range ids {
			m := msgs[id]
			e, ok := entries[id]
			if !ok {
				if update {
					fmt.Fprintf(&add, "#: %s\nmsgid %s\n", m.where, poQuote(id))
					if m.plural != "" {
						fmt.Fprintf(&add, "msgid_plural %s\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n\n", poQuote(m.plural))
					} else {
						add.WriteString("msgstr \"\"\n\n")
					}
					continue
				}
				missing++
				t.Errorf("%s: no entry for %q (%s)", lang, id, m.where)
				continue
			}
			if lang == "en" {
				continue // the source language: an empty msgstr means the msgid
			}
			want := verbs.FindAllString(id, -1)
			for i, s := range e.Str {
				if strings.TrimSpace(s) == "" {
					missing++
					t.Errorf("%s: %q is not translated", lang, id)
					break
				}
				if got := verbs.FindAllString(s, -1); len(got) != len(want) {
					t.Errorf("%s: %q form %d has verbs %v, want %v", lang, id, i, got, want)
				}
			}
		}
		if update && add.Len() > 0 {
			f, err := os.OpenFile(filepath.Join(lang, "LC_MESSAGES", "tracpro.po"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(add.String())
			f.Close()
		}
	}
	if missing > 0 {
		t.Logf("%d missing translations; TRACPRO_UPDATE_PO=1 go test ./locale/ adds the msgids to the catalogs", missing)
	}
}

func TestRTLAndFallback(t *testing.T) {
	if !RTL("fa") || !RTL("ps") || RTL("fr") {
		t.Fatal("fa and ps are right to left, fr is not")
	}
	if Get("xx").Lang != "en" {
		t.Fatal("an unknown language falls back to English")
	}
	if got := Get("en").T("Data as of %s", "10:30"); got != "Data as of 10:30" {
		t.Fatalf("en T = %q", got)
	}
}

// TestCatalogsWellFormed: in every catalog a msgid appears once (msgfmt and
// Transifex refuse duplicates) and every msgid has its msgstr before the next
// entry (a line-based merge of two branches that appended entries once left
// both behind).
func TestCatalogsWellFormed(t *testing.T) {
	for _, lang := range Languages {
		path := filepath.Join(lang, "LC_MESSAGES", "tracpro.po")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		open := 0 // line of a msgid still waiting for its msgstr
		for i, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "msgstr"):
				open = 0
			case strings.HasPrefix(line, "msgid "):
				if open != 0 {
					t.Errorf("%s:%d: the msgid has no msgstr", path, open)
				}
				open = i + 1
				if line == `msgid ""` {
					continue
				}
				if first, dup := seen[line]; dup {
					t.Errorf("%s:%d: %s already at line %d", path, i+1, line, first)
					continue
				}
				seen[line] = i + 1
			}
		}
		if open != 0 {
			t.Errorf("%s:%d: the msgid has no msgstr", path, open)
		}
	}
}

// Package locale holds TracPro's gettext catalogs (locale/<lang>/LC_MESSAGES/tracpro.po,
// Transifex-compatible) and looks strings up in them.
package locale

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/leonelquinteros/gotext"
)

//go:embed */LC_MESSAGES/tracpro.po
var files embed.FS

// Languages are the shipped UI languages, in the order the switcher lists them.
var Languages = []string{"en", "fr", "es", "fa", "ps"}

// Names are each language's own name.
var Names = map[string]string{"en": "English", "fr": "Français", "es": "Español", "fa": "فارسی", "ps": "پښتو"}

// Months are the abbreviated month names, January first, as msgids: dates
// are written with their translations (handlers/format.go).
var Months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// RTL reports whether a language is written right to left.
func RTL(lang string) bool { return lang == "fa" || lang == "ps" }

// Supported reports whether lang is a shipped language.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Catalog translates strings into one language.
type Catalog struct {
	Lang string
	po   *gotext.Po
}

var (
	mu       sync.Mutex
	catalogs = map[string]*Catalog{}
)

// Get returns the catalog of lang (English for an unknown language).
func Get(lang string) *Catalog {
	if !Supported(lang) {
		lang = "en"
	}
	mu.Lock()
	defer mu.Unlock()
	if c := catalogs[lang]; c != nil {
		return c
	}
	po := gotext.NewPo()
	if b, err := files.ReadFile(lang + "/LC_MESSAGES/tracpro.po"); err == nil {
		po.Parse(b)
	}
	c := &Catalog{Lang: lang, po: po}
	catalogs[lang] = c
	return c
}

// T translates msgid, formatting args into it with fmt verbs.
func (c *Catalog) T(msgid string, args ...any) string {
	s := c.lookup(msgid)
	if s == "" {
		s = msgid
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// lookup returns the translation of msgid without formatting it (gotext
// formats only when given arguments; the indirection keeps vet's printf check
// from reading msgid as a format).
func (c *Catalog) lookup(msgid string) string {
	get := c.po.Get
	return get(msgid)
}

// N translates a singular/plural pair for n (n is the first format argument).
func (c *Catalog) N(singular, plural string, n int, args ...any) string {
	s := c.po.GetN(singular, plural, n)
	if s == "" {
		s = plural
		if n == 1 {
			s = singular
		}
	}
	return fmt.Sprintf(s, append([]any{n}, args...)...)
}

// Entry is one msgid of a catalog with its translation.
type Entry struct {
	ID, Plural string
	Str        []string
}

// Entries returns the catalog's msgids and translations (for the coverage test).
func (c *Catalog) Entries() map[string]Entry {
	out := map[string]Entry{}
	for _, t := range c.po.GetDomain().GetTranslations() {
		var strs []string
		keys := make([]int, 0, len(t.Trs))
		for k := range t.Trs {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		for _, k := range keys {
			strs = append(strs, t.Trs[k])
		}
		out[t.ID] = Entry{ID: t.ID, Plural: t.PluralID, Str: strs}
	}
	return out
}

// Translated reports whether msgid has a non-empty translation.
func (c *Catalog) Translated(msgid string) bool {
	e, ok := c.Entries()[msgid]
	if !ok {
		return false
	}
	for _, s := range e.Str {
		if strings.TrimSpace(s) == "" {
			return false
		}
	}
	return len(e.Str) > 0
}

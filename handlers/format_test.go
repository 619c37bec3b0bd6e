package handlers

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"tracpro/locale"
)

// enDay is the English compact form of an org-local day (YYYY-MM-DD), as
// pages and charts write it.
func enDay(s string) string {
	return dateFormat{cat: locale.Get("en"), nf: numbersOf("en"), loc: time.UTC, now: time.Now()}.Day(s)
}

// TestNumbersAndDatesPerLanguage: figures, percentages and dates in each
// language's digits, signs and month names; sums of whole numbers without
// a decimal.
func TestNumbersAndDatesPerLanguage(t *testing.T) {
	day := time.Date(2026, 12, 4, 15, 4, 0, 0, time.UTC)
	for _, c := range []struct {
		lang, figure, whole, dec, pct, date string
	}{
		{"en", "1,234.6", "2,379", "5.0", "66.7%", "Dec 4, 2026"},
		{"fr", "1\u202f234,6", "2\u202f379", "5,0", "66,7\u00a0%", "4 déc. 2026"},
		{"es", "1.234,6", "2.379", "5,0", "66,7\u00a0%", "4 dic. 2026"},
		{"fa", "۱٬۲۳۴٫۶", "۲٬۳۷۹", "۵٫۰", "۶۶٫۷٪", "۴ دسامبر ۲۰۲۶"},
		{"ps", "۱٬۲۳۴٫۶", "۲٬۳۷۹", "۵٫۰", "۶۶٫۷٪", "۴ دسمبر ۲۰۲۶"},
	} {
		nf := numbersOf(c.lang)
		d := dateFormat{cat: locale.Get(c.lang), nf: nf, loc: time.UTC, now: day}
		got := []string{nf.Figure(1234.56), nf.Figure(2379), nf.Dec(5), nf.Percent(66.66), d.Date(day)}
		want := []string{c.figure, c.whole, c.dec, c.pct, c.date}
		for i := range got {
			// CLDR's spaces vary by version: compare them as plain spaces.
			norm := strings.NewReplacer("\u202f", " ", "\u00a0", " ", "\u200e", "").Replace
			if norm(got[i]) != norm(want[i]) {
				t.Errorf("%s: %q, want %q", c.lang, got[i], want[i])
			}
		}
		if s := d.Day("2026-03-09"); strings.Contains(s, nf.Plain("2026")) || (c.lang == "fa" || c.lang == "ps") && strings.ContainsAny(s, "0123456789") {
			t.Errorf("%s: this year's day %q has the year or ASCII digits", c.lang, s)
		}
		if s := d.Day("2025-03-09"); !strings.Contains(s, nf.Plain("2025")) {
			t.Errorf("%s: last year's day %q lacks the year", c.lang, s)
		}
	}
}

var englishMonthRe = regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b`)

// TestPagesWriteDatesInTheirLanguage: the poll run list, a poll page's chart
// and the Summary tab in French, Spanish, Persian and Pashto name no English
// month and, in Persian and Pashto, write dates and figures with their digits.
func TestPagesWriteDatesInTheirLanguage(t *testing.T) {
	f := newMatrixFixture(t)
	fillForBrowser(f)
	var run string
	if err := f.DB.QueryRow(`SELECT id FROM pollruns WHERE pollrun_type = 'u' ORDER BY conducted_on DESC LIMIT 1`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	poll := sid(f.matrixPoll())
	for _, lang := range []string{"fr", "es", "fa", "ps"} {
		if _, err := f.DB.ExecContext(f.Ctx, `UPDATE users SET language = ? WHERE id = ?`, lang, f.Admin.ID); err != nil {
			t.Fatal(err)
		}
		c := f.newClient(f.Org1, f.Admin)
		for _, p := range []string{"/pollrun/", "/poll/read/" + poll + "/", "/pollrun/read/" + run + "/"} {
			body := c.get(p).Body
			main := body[strings.Index(body, `<main`):strings.Index(body, `</main>`)]
			// Text only: tags and attributes (URLs, ISO dates of inputs) aside.
			text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(main, " ")
			if m := englishMonthRe.FindString(text); m != "" {
				t.Errorf("%s %s: an English month name, %q", lang, p, m)
			}
			if (lang == "fa" || lang == "ps") && regexp.MustCompile(`\b20\d\d\b|\d{1,2}:\d\d`).MatchString(text) {
				t.Errorf("%s %s: a year or time in ASCII digits: %q", lang, p, regexp.MustCompile(`\b20\d\d\b|\d{1,2}:\d\d`).FindString(text))
			}
		}
	}
}

package handlers

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"tracpro/charts"
	"tracpro/locale"
)

// Dates, times, numbers and percentages in the reader's language, for pages,
// charts, maps and tables (never CSV exports, which stay machine-readable).
// Digits, decimal and grouping signs come from CLDR through golang.org/x/text
// (Persian and Pashto read Eastern Arabic-Indic digits, French a decimal
// comma); month names and the order of day, month and year come from the
// gettext catalogs (locale.Months and the date patterns below), so a
// translator owns them and the catalog test sees a missing one.

// numberFormat formats numbers in one language.
type numberFormat struct {
	p       *message.Printer
	digits  [10]string // the language's 0…9
	decimal string     // its decimal sign
}

var (
	formatsMu sync.Mutex
	formats   = map[string]*numberFormat{}
)

// numbersOf returns the number format of a language (cached).
func numbersOf(lang string) *numberFormat {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	if nf := formats[lang]; nf != nil {
		return nf
	}
	nf := &numberFormat{p: message.NewPrinter(language.Make(lang))}
	for d := range 10 {
		nf.digits[d] = nf.p.Sprint(number.Decimal(d))
	}
	// The sign between the digits of 1.5 written in the language.
	half := []rune(nf.p.Sprint(number.Decimal(1.5, number.MinFractionDigits(1))))
	nf.decimal = "."
	if len(half) == 3 {
		nf.decimal = string(half[1])
	}
	formats[lang] = nf
	return nf
}

// Int formats a count with the language's digits and grouping ("2,379").
func (nf *numberFormat) Int(n int) string { return nf.p.Sprint(number.Decimal(n)) }

// Dec formats v with exactly one decimal (SPEC §3.3's "1 dp": averages,
// standard deviations, rates).
func (nf *numberFormat) Dec(v float64) string {
	return nf.p.Sprint(number.Decimal(round1(v), number.MinFractionDigits(1), number.MaxFractionDigits(1)))
}

// Figure formats a sum or a count: whole numbers as integers ("2,379", not
// "2379.0"), others with one decimal.
func (nf *numberFormat) Figure(v float64) string {
	if r := round1(v); r == math.Trunc(r) && math.Abs(r) < 1<<53 {
		return nf.Int(int(r))
	}
	return nf.Dec(v)
}

// Percent formats a share given in percent (0–100) with one decimal ("66.7%").
func (nf *numberFormat) Percent(v float64) string {
	return nf.p.Sprint(number.Percent(round1(v)/100, number.MinFractionDigits(1), number.MaxFractionDigits(1)))
}

// Plain writes the ASCII digits and decimal point of s in the language,
// without grouping (years, times, ranges already formatted by strconv).
func (nf *numberFormat) Plain(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteString(nf.digits[r-'0'])
		case r == '.':
			b.WriteString(nf.decimal)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dateFormat formats dates and times in a language and time zone.
type dateFormat struct {
	cat *locale.Catalog
	nf  *numberFormat
	loc *time.Location
	now time.Time
}

// catalog is the request's catalog (English before the session is read).
func (rc *reqCtx) catalog() *locale.Catalog {
	if rc.cat == nil {
		return locale.Get("en")
	}
	return rc.cat
}

// dates returns the request's date format (the org's time zone, UTC without an org).
func (rc *reqCtx) dates() dateFormat {
	loc := time.UTC
	if rc.org != nil {
		loc = rc.org.Location()
	}
	cat := rc.catalog()
	return dateFormat{cat: cat, nf: numbersOf(cat.Lang), loc: loc, now: time.Now()}
}

// numbers returns the request's number format.
func (rc *reqCtx) numbers() *numberFormat { return numbersOf(rc.catalog().Lang) }

// format fills a date pattern of the catalog ("{month} {day}, {year}").
func (d dateFormat) format(t time.Time, withYear bool) string {
	pattern := d.cat.T("{month} {day}")
	if withYear {
		pattern = d.cat.T("{month} {day}, {year}")
	}
	return strings.NewReplacer("{month}", d.cat.T(locale.Months[t.Month()-1]),
		"{day}", d.nf.Plain(strconv.Itoa(t.Day())), "{year}", d.nf.Plain(strconv.Itoa(t.Year()))).Replace(pattern)
}

// Date is a full date ("Dec 4, 2026").
func (d dateFormat) Date(t time.Time) string { return d.format(t, true) }

// Short is a compact date: without the year when it is this year's ("Dec 4").
func (d dateFormat) Short(t time.Time) string { return d.format(t, t.Year() != d.now.In(d.loc).Year()) }

// Time is a time of day ("15:04").
func (d dateFormat) Time(t time.Time) string { return d.nf.Plain(t.Format("15:04")) }

// Day is the compact form of an org-local day written YYYY-MM-DD (a poll
// run's date); anything else is returned as it is.
func (d dateFormat) Day(s string) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return d.Short(t)
}

// chartOptions are the charts' options for the request: mirrored in RTL,
// lighter when the browser asks to save data, numbers in the reader's
// language, values with one decimal (a chart of sums sets Format to
// numberFormat.Figure).
func chartOptions(rc *reqCtx) charts.Options {
	nf := rc.numbers()
	return charts.Options{RTL: locale.RTL(rc.cat.Lang), Light: rc.light(), Format: nf.Dec, Count: nf.Int, Percent: nf.Percent, Digits: nf.Plain}
}

// The page's helpers for templates.

// DataAsOf formats the time of the last successful pull in the org's zone.
func (p *Page) DataAsOf() string {
	if p.rc.status == nil || p.rc.status.LastSuccess == 0 {
		return ""
	}
	d := p.rc.dates()
	return d.Time(time.UnixMilli(p.rc.status.LastSuccess).In(d.loc))
}

// Date formats a unix-ms time as an org-local date ("" for 0).
func (p *Page) Date(ms int64) string {
	if ms == 0 {
		return ""
	}
	d := p.rc.dates()
	return d.Date(time.UnixMilli(ms).In(d.loc))
}

// DateTime formats a unix-ms time as an org-local date and time ("" for 0).
func (p *Page) DateTime(ms int64) string {
	if ms == 0 {
		return ""
	}
	d := p.rc.dates()
	t := time.UnixMilli(ms).In(d.loc)
	return d.Date(t) + " " + d.Time(t)
}

// Short formats a unix-ms time as a compact org-local date ("Dec 4").
func (p *Page) Short(ms int64) string {
	if ms == 0 {
		return ""
	}
	d := p.rc.dates()
	return d.Short(time.UnixMilli(ms).In(d.loc))
}

// Day formats an org-local day written YYYY-MM-DD compactly ("Dec 4").
func (p *Page) Day(s string) string { return p.rc.dates().Day(s) }

// Num formats a count in the page's language ("2,379").
func (p *Page) Num(n int) string { return p.rc.numbers().Int(n) }

// Pct formats a percentage (0–100) in the page's language: a float with one
// decimal ("66.7%"), an int without ("66%").
func (p *Page) Pct(v any) string {
	nf := p.rc.numbers()
	switch x := v.(type) {
	case int:
		return nf.p.Sprint(number.Percent(float64(x) / 100))
	case float64:
		return nf.Percent(x)
	}
	return ""
}

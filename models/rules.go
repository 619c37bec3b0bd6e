package models

import (
	"strconv"
	"strings"
)

// CategoryOther is the category of a number no rule accepts (SPEC §3.1).
const CategoryOther = "Other"

// CategorizeNumber applies SPEC §3.1 "categorising arbitrary numbers" (used by
// maps for the average of a numeric question): the stored rules are evaluated
// in order and the first passing rule's category wins, else "Other". Tests:
// number (any number), between (inclusive), eq, lt / gt (strict), lte / gte;
// arguments that are not numbers and non-numeric tests fail.
func CategorizeNumber(rules []Rule, v float64) string {
	for _, r := range rules {
		if ruleAccepts(r, v) {
			return r.Category
		}
	}
	return CategoryOther
}

func ruleAccepts(r Rule, v float64) bool {
	arg := func(i int) (float64, bool) {
		if i >= len(r.Args) {
			return 0, false
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(r.Args[i]), 64)
		return x, err == nil
	}
	switch r.Test {
	case "number":
		return true
	case "between":
		lo, ok1 := arg(0)
		hi, ok2 := arg(1)
		return ok1 && ok2 && v >= lo && v <= hi
	case "eq", "lt", "gt", "lte", "gte":
		x, ok := arg(0)
		if !ok {
			return false
		}
		switch r.Test {
		case "eq":
			return v == x
		case "lt":
			return v < x
		case "gt":
			return v > x
		case "lte":
			return v <= x
		default:
			return v >= x
		}
	}
	return false
}

// CategoryLegend is SPEC §3.1's "all categories" list (the map legend): the
// rule categories in RapidPro order, then the other non-empty categories seen
// (in the order given), then "Other" last — each once.
func CategoryLegend(rules []Rule, seen []string) []string {
	var out []string
	have := map[string]bool{}
	add := func(c string) {
		if c != "" && c != CategoryOther && !have[c] {
			have[c] = true
			out = append(out, c)
		}
	}
	for _, r := range rules {
		add(r.Category)
	}
	for _, c := range seen {
		add(c)
	}
	return append(out, CategoryOther)
}

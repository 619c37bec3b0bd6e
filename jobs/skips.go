package jobs

import (
	"fmt"
	"sort"
	"strings"

	"tracpro/models"
)

// Why a pull skipped a record: the keys of Result.Skips and sync_runs.skips.
const (
	SkipNotInPanel  = "not_in_tracked_panel" // the contact is in no tracked panel
	SkipNoURN       = "no_supported_urn"     // the contact has no tel, twitter or twitterid URN
	SkipInactive    = "contact_inactive"     // the contact is blocked, stopped or archived in RapidPro
	SkipUnknown     = "unknown_contact"      // RapidPro does not return the run's contact (deleted)
	SkipFlowUntrack = "flow_not_tracked"     // the run's flow is not a tracked poll
)

// SkipReasons lists the reasons in the order they are shown.
var SkipReasons = []string{SkipNotInPanel, SkipNoURN, SkipInactive, SkipUnknown, SkipFlowUntrack}

// skipLabels say each reason in the CLI's words (the web translates its own).
var skipLabels = map[string]string{
	SkipNotInPanel:  "contact not in a tracked panel",
	SkipNoURN:       "contact without a tel, twitter or twitterid URN",
	SkipInactive:    "contact blocked, stopped or archived",
	SkipUnknown:     "contact unknown to RapidPro",
	SkipFlowUntrack: "flow not tracked",
}

// skip counts n records skipped for reason.
func (r *Result) skip(reason string, n int) {
	if n <= 0 {
		return
	}
	if r.Skips == nil {
		r.Skips = map[string]int{}
	}
	r.Skips[reason] += n
	r.Skipped += n
}

// skipContacts counts the contacts a contacts page did not store, by reason.
func (r *Result) skipContacts(st models.ContactStats) {
	r.skip(SkipNotInPanel, st.SkippedNoPanel)
	r.skip(SkipNoURN, st.SkippedNoURN)
	r.skip(SkipInactive, st.SkippedInactive)
}

// contactSkipReason is why a contact fetched for its runs was not stored
// (found: RapidPro returned it).
func contactSkipReason(st models.ContactStats, found bool) string {
	switch {
	case !found:
		return SkipUnknown
	case st.SkippedInactive > 0:
		return SkipInactive
	case st.SkippedNoURN > 0:
		return SkipNoURN
	case st.SkippedNoPanel > 0:
		return SkipNotInPanel
	}
	return SkipUnknown
}

// FormatSkips says how many records were skipped for each reason, e.g.
// "12 contact not in a tracked panel, 2 flow not tracked".
func FormatSkips(skips map[string]int) string {
	var parts []string
	for _, k := range SkipReasons {
		if n := skips[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, skipLabels[k]))
		}
	}
	var other []string
	for k, n := range skips {
		if _, known := skipLabels[k]; !known && n > 0 {
			other = append(other, fmt.Sprintf("%d %s", n, k))
		}
	}
	sort.Strings(other)
	return strings.Join(append(parts, other...), ", ")
}

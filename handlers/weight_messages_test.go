package handlers

import (
	"strconv"
	"testing"
)

// TestPageWeightMessagesPages holds the inbox, a conversation, participation
// across polls (a full page of 50 contacts, as administrator) and the poll
// run's Participation tab with its send form to the first-load budget, and
// their htmx swaps (and the send confirmation) to the swap budget.
func TestPageWeightMessagesPages(t *testing.T) {
	w := newStartWorld(t)
	run := strconv.FormatInt(w.busiestRun(), 10)
	var contact string
	if err := w.DB.QueryRow(`SELECT m.contact_id FROM inbox_messages m JOIN contacts c ON c.id = m.contact_id
		WHERE c.region_id = ? GROUP BY m.contact_id ORDER BY count(*) DESC LIMIT 1`, w.panelA).Scan(&contact); err != nil {
		t.Fatal(err)
	}
	if n := w.count(`SELECT count(*) FROM contacts WHERE is_active = 1`); n < perPage {
		t.Fatalf("only %d contacts: the grid page would not be full", n)
	}
	pages := []struct{ name, path string }{
		{"inbox", "/inboxmessage/"},
		{"conversation", "/inboxmessage/conversation/" + contact + "/"},
		{"participation across polls", "/participation/"},
		{"participation tab with the send form", "/pollrun/participation/" + run + "/"},
	}
	for _, c := range []*client{w.admin, w.supA} {
		for _, p := range pages {
			pageWeight(t, c, p.name, p.path)
		}
	}
	swaps := append(pages, struct{ name, path string }{"send confirmation", "/message/send/?pollrun=" + run + "&recipients=A&text=Hello"})
	for _, p := range swaps {
		r := w.admin.get(p.path, "HX-Request", "true")
		if r.Code != 200 {
			t.Fatalf("%s swap = %d", p.name, r.Code)
		}
		n := gzipSize(t, []byte(r.Body))
		t.Logf("%s swap: %d B raw / %d B gzip (budget %d B)", p.name, len(r.Body), n, swapBudget)
		if n > swapBudget {
			t.Errorf("%s swap weighs %d B gzipped, over %d B", p.name, n, swapBudget)
		}
	}
}

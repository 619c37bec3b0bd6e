package handlers

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"tracpro/models"
)

var inboxRowRe = regexp.MustCompile(`<li class="(in|out)"><a href="/inboxmessage/conversation/\d+/"><strong>([^<]*)</strong>(?: <span class="badge new">([^<]*)</span>)? <small>[^<]*</small><br><span class="dir">([^<]*):</span> ([^<]*)</a></li>`)

// inboxRows reads the inbox as "name|mark|new|text" rows, in order.
func inboxRows(body string) []string {
	var out []string
	for _, m := range inboxRowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, fmt.Sprintf("%s|%s %s|%s|%s", m[2], m[1], m[4], m[3], m[5]))
	}
	return out
}

// TestInboxLatestMessageEitherDirection ports the original's inbox list
// (SPEC §2.3): one row per contact with its latest message in either
// direction, marked Incoming or Outgoing; inactive contacts are left out.
// Unsolicited incoming messages still decide which conversations are new:
// a contact is listed while it has some (unarchived), by the latest of them,
// with their number; an archived conversation leaves the inbox until the
// contact writes again. Unlike the original, a contact that only received
// messages is not listed (Alice): the pull mirrors every sent message — each
// poll question — where the original kept one minute of them.
func TestInboxLatestMessageEitherDirection(t *testing.T) {
	f := newPollFixture(t)
	now := time.Now().Add(-time.Hour)
	at := func(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }
	n := 0
	msg := func(contact, dir, text string, when time.Time) models.InboxRow {
		n++
		return models.InboxRow{ID: fmt.Sprintf("m%d", n), ContactUUID: contact, Text: text, Direction: dir, Status: "handled", CreatedOn: when}
	}
	upsert := func(rows ...models.InboxRow) {
		t.Helper()
		if _, _, _, err := f.DB.UpsertInbox(f.Ctx, f.Org.ID, rows, nil); err != nil {
			t.Fatal(err)
		}
	}
	upsert(
		msg("c-a1", "out", "Test message to Alice", at(-180)),
		msg("c-a1", "out", "A more recent message to Alice", at(-120)),
		msg("c-a2", "in", "A message from Bob", at(-60)),
		msg("c-a3", "in", "Carol asks", at(-300)),
		msg("c-a3", "out", "Reply to Carol", at(-240)),
		msg("c-b1", "in", "Dan writes", at(-30)),
		msg("c-b2", "in", "Eve writes", at(-10)),
	)
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE contacts SET is_active = 0 WHERE uuid = 'c-b2'`); err != nil {
		t.Fatal(err)
	}
	admin, supA := f.newClient(f.Org, f.Admin), f.newClient(f.Org, f.SupA)
	check := func(c *client, what string, want ...string) {
		t.Helper()
		r := c.get("/inboxmessage/")
		if got := inboxRows(r.Body); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: inbox rows\n%q\nwant\n%q", what, got, want)
		}
	}
	check(admin, "administrator",
		"Dan|in Incoming|1 new|Dan writes",
		"@Bob|in Incoming|1 new|A message from Bob",
		"Carol|out Outgoing|1 new|Reply to Carol")
	check(supA, "supervisor of Province A",
		"@Bob|in Incoming|1 new|A message from Bob",
		"Carol|out Outgoing|1 new|Reply to Carol")

	// Archived, Carol leaves the inbox; a message sent to her does not bring
	// her back, a message from her does.
	if r := supA.post("/inboxmessage/archive/"+sid(f.Contacts["c-a3"])+"/", nil); r.Code != 303 {
		t.Fatalf("archive = %d", r.Code)
	}
	upsert(msg("c-a3", "out", "Poll question", at(-5)))
	check(supA, "after archiving Carol",
		"@Bob|in Incoming|1 new|A message from Bob")
	upsert(msg("c-a3", "in", "Carol again", at(0)), msg("c-a3", "in", "And again", at(1)))
	check(supA, "after Carol wrote again",
		"Carol|in Incoming|2 new|And again",
		"@Bob|in Incoming|1 new|A message from Bob")
	// Answered (the reply mirrored from RapidPro's sent folder): still new
	// until archived, now showing the reply.
	upsert(msg("c-a2", "out", "Thanks Bob", at(2)))
	check(supA, "after Bob was answered",
		"Carol|in Incoming|2 new|And again",
		"@Bob|out Outgoing|1 new|Thanks Bob")
	pageWeight(t, supA, "inbox (supervisor)", "/inboxmessage/")
}

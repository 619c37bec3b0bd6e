package main

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"tracpro/models"
)

// cmdExport is `tracpro export responses --org S --poll P [--pollrun ID]
// [--since DATE]`: SPEC §5's CSV of a poll's responses (every panel), the
// same columns as the web export, on standard output.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "responses" {
		if len(args) == 0 {
			return usagef("export needs a subcommand: responses")
		}
		return usagef("unknown export subcommand %q (responses)", args[0])
	}
	var c Config
	var orgRef, pollRef, pollrunRef, sinceRef string
	fs := newFlags("export responses", stderr)
	bindCommon(fs, &c)
	fs.StringVar(&orgRef, "org", "", "org id or subdomain (required)")
	fs.StringVar(&pollRef, "poll", "", "poll id or name (required)")
	fs.StringVar(&pollrunRef, "pollrun", "", "only this poll run (id)")
	fs.StringVar(&sinceRef, "since", "", "only responses updated on or after this org-local date (YYYY-MM-DD)")
	if err := c.parse(fs, args[1:], 0); err != nil {
		return err
	}
	if strings.TrimSpace(pollRef) == "" {
		return usagef("-poll is required")
	}
	var pollrunID int64
	if pollrunRef != "" {
		id, err := strconv.ParseInt(pollrunRef, 10, 64)
		if err != nil || id <= 0 {
			return usagef("-pollrun must be a poll run id, not %q", pollrunRef)
		}
		pollrunID = id
	}
	db, org, err := c.openOrg(ctx, orgRef)
	if err != nil {
		return err
	}
	defer db.Close()
	var since time.Time
	if sinceRef != "" {
		if since, err = models.ParseExportSince(org, sinceRef); err != nil {
			return err
		}
	}
	poll, err := db.PollByRef(ctx, org.ID, pollRef)
	if err != nil {
		return err
	}
	if pollrunID != 0 {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pollruns WHERE id = ? AND poll_id = ?`, pollrunID, poll.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return usagef("poll run %d is not a poll run of %q", pollrunID, poll.DisplayName())
		}
	}
	w := bufio.NewWriterSize(stdout, 64<<10)
	if _, err := db.ExportResponses(ctx, w, org, poll.ID, pollrunID, since, nil); err != nil {
		return err
	}
	return w.Flush()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"tracpro/models"
)

// errDrift is returned (exit 1) when counters drifted and --fix was not given.
var errDrift = errors.New("counters differ from the raw rows (run with --fix to rewrite them)")

// cmdRecount compares every dashboard counter of one org (or of every org)
// with the raw responses and answers, prints each drifted counter and a
// summary line, and with --fix rewrites the drifted poll runs' counters.
func cmdRecount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	fs := newFlags("recount", stderr)
	bindCommon(fs, &c)
	ref := fs.String("org", "", "org id or subdomain (default: every org)")
	fix := fs.Bool("fix", false, "rewrite the counters that drifted from the raw rows")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var orgs []*models.Org
	if *ref != "" {
		org, err := db.OrgByRef(ctx, *ref)
		if err != nil {
			return err
		}
		orgs = []*models.Org{org}
	} else if orgs, err = db.ListOrgs(ctx, false); err != nil {
		return err
	}
	start := time.Now()
	checked, drifted := 0, 0
	for _, org := range orgs {
		rep, err := db.RecountOrg(ctx, org.ID, *fix)
		if err != nil {
			return fmt.Errorf("org %s: %w", org.Subdomain, err)
		}
		for _, d := range rep.Drifts {
			fmt.Fprintf(stdout, "%s: %s: stored %s, raw %s\n", org.Subdomain, d.Key, d.Stored, d.Raw)
		}
		if rep.Drifted > len(rep.Drifts) {
			fmt.Fprintf(stdout, "%s: … and %d more\n", org.Subdomain, rep.Drifted-len(rep.Drifts))
		}
		checked += rep.Checked
		drifted += rep.Drifted
	}
	fmt.Fprintf(stdout, "%d counters checked, %d drifted", checked, drifted)
	if *fix && drifted > 0 {
		fmt.Fprint(stdout, " (rewritten from the raw rows)")
	}
	fmt.Fprintf(stdout, " in %s\n", time.Since(start).Round(time.Millisecond))
	if drifted > 0 && !*fix {
		return errDrift
	}
	return nil
}

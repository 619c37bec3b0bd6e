package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"tracpro/jobs"
	"tracpro/models"
	"tracpro/rapidpro"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func cmdOrg(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("org needs a subcommand: create, list or track")
	}
	switch args[0] {
	case "create":
		return cmdOrgCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return cmdOrgList(ctx, args[1:], stdout, stderr)
	case "track":
		return cmdOrgTrack(ctx, args[1:], stdout, stderr)
	}
	return usagef("unknown org subcommand %q (create, list or track)", args[0])
}

func cmdOrgCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var n models.NewOrg
	var langs string
	fs := newFlags("org create", stderr)
	bindCommon(fs, &c)
	fs.StringVar(&n.Name, "name", "", "org name (required)")
	fs.StringVar(&n.Subdomain, "subdomain", "", "subdomain the org is served on (required)")
	fs.StringVar(&n.RapidProURL, "rapidpro-url", "", "RapidPro server, e.g. https://app.rapidpro.io (required)")
	fs.StringVar(&n.Token, "token", env("RAPIDPRO_TOKEN", ""), "RapidPro API token (or TRACPRO_RAPIDPRO_TOKEN / _FILE)")
	fs.StringVar(&n.Timezone, "timezone", "", "IANA time zone (default: the workspace's, read from RapidPro)")
	fs.StringVar(&langs, "languages", "en", "available UI languages, comma-separated (en, fr, es, fa, ps)")
	fs.StringVar(&n.Language, "language", "", "default UI language (default: the first available)")
	check := fs.Bool("check", true, "check the token against RapidPro's org.json before saving")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	n.Languages = splitList(langs)
	tz := n.Timezone
	if tz == "" {
		n.Timezone = "UTC" // placeholder for validation; replaced below
	}
	if err := n.Validate(); err != nil {
		return err
	}
	if *check {
		cl := rapidpro.New(rapidpro.Options{BaseURL: n.RapidProURL, Token: n.Token, Timeout: 15 * time.Second, MaxAttempts: 2})
		info, err := cl.Org(ctx)
		if err != nil {
			return fmt.Errorf("RapidPro refused the org check (GET org.json): %w", err)
		}
		if tz == "" && info.Timezone != "" {
			n.Timezone = info.Timezone
		}
	}
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	org, err := db.CreateOrg(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created org %d %q (subdomain %s, timezone %s)\n", org.ID, org.Name, org.Subdomain, org.Timezone)
	return nil
}

func cmdOrgList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	fs := newFlags("org list", stderr)
	bindCommon(fs, &c)
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	orgs, err := db.ListOrgs(ctx, false)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUBDOMAIN\tNAME\tTIMEZONE\tRAPIDPRO\tACTIVE")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\n", o.ID, o.Subdomain, o.Name, o.Timezone, o.RapidProURL, o.IsActive)
	}
	return tw.Flush()
}

// trackOrg sets the panels, cohorts and polls of an org (see jobs.Track). It
// is shared by `org track` and `demo`.
func trackOrg(ctx context.Context, s *jobs.Syncer, org *models.Org, panels, cohorts, polls []string, out io.Writer) error {
	return jobs.Track(ctx, s, org, panels, cohorts, polls, out)
}

func cmdOrgTrack(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var orgRef, panels, cohorts, polls string
	fs := newFlags("org track", stderr)
	bindCommon(fs, &c)
	fs.StringVar(&orgRef, "org", "", "org id or subdomain (required)")
	fs.StringVar(&panels, "panels", "", "RapidPro groups that are panels (names or UUIDs, comma-separated)")
	fs.StringVar(&cohorts, "cohorts", "", "RapidPro groups that are cohorts")
	fs.StringVar(&polls, "polls", "", "RapidPro flows that are polls")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["panels"] && !set["cohorts"] && !set["polls"] {
		return usagef("give at least one of -panels, -cohorts, -polls")
	}
	list := func(name, v string) []string {
		if !set[name] {
			return nil
		}
		l := splitList(v)
		if l == nil {
			l = []string{}
		}
		return l
	}
	db, org, err := c.openOrg(ctx, orgRef)
	if err != nil {
		return err
	}
	defer db.Close()
	s := jobs.NewSyncer(db, c.syncConfig(c.logger(stderr)))
	return trackOrg(ctx, s, org, list("panels", panels), list("cohorts", cohorts), list("polls", polls), stdout)
}

func cmdSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var orgRef, only string
	fs := newFlags("sync", stderr)
	bindCommon(fs, &c)
	fs.StringVar(&orgRef, "org", "", "org id or subdomain (required)")
	fs.StringVar(&only, "only", "", "pulls to run, comma-separated: "+strings.Join(jobs.Resources, ","))
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	for _, r := range splitList(only) {
		if !contains(jobs.Resources, r) {
			return usagef("-only: unknown pull %q (one of %s)", r, strings.Join(jobs.Resources, ", "))
		}
	}
	db, org, err := c.openOrg(ctx, orgRef)
	if err != nil {
		return err
	}
	defer db.Close()
	s := jobs.NewSyncer(db, c.syncConfig(c.logger(stderr)))
	results, err := s.SyncAll(ctx, org, splitList(only))
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, jobs.FormatResults(results))
	for _, r := range results {
		if r.Err != nil {
			return fmt.Errorf("the %s pull failed: %w", r.Resource, r.Err)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func cmdFetchRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var minutes, hours, days int
	fs := newFlags("fetchruns", stderr)
	bindCommon(fs, &c)
	fs.IntVar(&minutes, "minutes", 0, "fetch runs modified in the last N minutes")
	fs.IntVar(&hours, "hours", 0, "… hours")
	fs.IntVar(&days, "days", 0, "… days")
	// ORG may come before or after the flags.
	var orgRef string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		orgRef, args = args[0], args[1:]
	}
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if orgRef == "" {
		orgRef = fs.Arg(0)
	}
	if err := c.validate(); err != nil {
		return err
	}
	if orgRef == "" {
		return usagef("usage: tracpro fetchruns ORG --minutes N | --hours N | --days N")
	}
	if minutes < 0 || hours < 0 || days < 0 {
		return usagef("--minutes, --hours and --days must not be negative")
	}
	window := time.Duration(minutes)*time.Minute + time.Duration(hours)*time.Hour + time.Duration(days)*24*time.Hour
	if window == 0 {
		return usagef("give at least one non-zero --minutes, --hours or --days")
	}
	db, org, err := c.openOrg(ctx, orgRef)
	if err != nil {
		return err
	}
	defer db.Close()
	s := jobs.NewSyncer(db, c.syncConfig(c.logger(stderr)))
	since := time.Now().Add(-window)
	res, err := s.FetchRuns(ctx, org, since)
	fmt.Fprintf(stdout, "since %s: fetched %d runs (%d archives), created %d, updated %d, skipped %d, %d API requests\n",
		since.UTC().Format(time.RFC3339), res.Fetched, res.Archives, res.Created, res.Updated, res.Skipped, res.Requests)
	return err
}

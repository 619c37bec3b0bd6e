package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"tracpro/models"
)

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("user needs a subcommand: create or enroll-link")
	}
	switch args[0] {
	case "create":
		return cmdUserCreate(ctx, args[1:], stdout, stderr)
	case "enroll-link":
		return cmdUserEnrollLink(ctx, args[1:], stdout, stderr)
	}
	return usagef("unknown user subcommand %q (create or enroll-link)", args[0])
}

// readPassword reads one line from stdin (for --password-stdin).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdUserCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var n models.NewUser
	var orgRef, role string
	fs := newFlags("user create", stderr)
	bindCommon(fs, &c)
	fs.StringVar(&n.Email, "email", "", "email address (required)")
	fs.StringVar(&n.FullName, "name", "", "full name (required)")
	fs.BoolVar(&n.Superuser, "superuser", false, "site-wide rights")
	fs.StringVar(&orgRef, "org", "", "org id or subdomain to join")
	fs.StringVar(&role, "role", "", "role in the org: admin or supervisor")
	stdin := fs.Bool("password-stdin", false, "read a password from the first line of standard input (else the user signs in with a passkey enrolment link)")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	switch role {
	case "":
		if orgRef != "" {
			return usagef("-org needs -role admin or supervisor")
		}
	case "admin":
		role = models.RoleAdmin
	case "supervisor":
		role = models.RoleSupervisor
	default:
		return usagef("-role must be admin or supervisor, not %q", role)
	}
	if role != "" && orgRef == "" {
		return usagef("-role needs -org")
	}
	if *stdin {
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return err
		}
		n.Password = pw
		if n.Password == "" {
			return usagef("--password-stdin: standard input gave an empty password")
		}
	}
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := models.CheckCommonPasswordList(); err != nil {
		return err
	}
	var org *models.Org
	if orgRef != "" {
		if org, err = db.OrgByRef(ctx, orgRef); err != nil {
			return err
		}
	}
	u, err := db.CreateUser(ctx, n)
	if err != nil {
		return err
	}
	if org != nil {
		if err := db.SetMembership(ctx, org.ID, u.ID, role); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "created user %d <%s>", u.ID, u.Email)
	if org != nil {
		fmt.Fprintf(stdout, " (%s of %s)", role, org.Subdomain)
	}
	fmt.Fprintln(stdout)
	return nil
}

func cmdUserEnrollLink(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var email, base string
	fs := newFlags("user enroll-link", stderr)
	bindCommon(fs, &c)
	fs.StringVar(&email, "email", "", "the user's email address (required)")
	fs.StringVar(&base, "base-url", env("BASE_URL", "http://127.0.0.1:8080"), "public URL of TracPro the link starts with (TRACPRO_BASE_URL)")
	if err := c.parse(fs, args, 0); err != nil {
		return err
	}
	if email == "" {
		return usagef("-email is required")
	}
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, email)
	if err != nil {
		return err
	}
	token, err := db.CreateEnrolLink(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s/passkeys/enrol/%s\n(single use, valid for %s, for %s)\n", strings.TrimRight(base, "/"), token, models.EnrolLinkLifetime, u.Email)
	return nil
}

package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tracpro/rapidpro/fake"
)

// TestSecretsNeverLogged runs the commands that handle the RapidPro token and
// passwords — org create, sync (also with a refused token), user create and a
// served sign-in — at debug level in both log formats, and checks that neither
// secret appears in anything they print.
func TestSecretsNeverLogged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tracpro as a child process")
	}
	bin, _ := buildBinaries(t, false)
	const token = "rp-Token-5f0c2a9d7e41b3"
	const password = "Pw-very-secret-81d3f7"
	sim, err := startSimulator("127.0.0.1:0", fake.GenConfig{Seed: 2, Contacts: 40, Weeks: 2, Timezone: "Africa/Kigali"}, fake.Config{Tokens: []string{token}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.close()
	db := filepath.Join(t.TempDir(), "logs.db")
	var all bytes.Buffer
	runBin := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(cmd.Environ(), "TRACPRO_DB="+db, "TRACPRO_LOG_LEVEL=debug")
		out, err := cmd.CombinedOutput()
		all.Write(out)
		if err != nil && !strings.Contains(string(out), "token") {
			t.Fatalf("tracpro %v: %v\n%s", args, err, out)
		}
	}
	runBin("", "org", "create", "-name", "Logs", "-subdomain", "logs", "-rapidpro-url", sim.url, "-token", token, "-timezone", "Africa/Kigali")
	runBin("", "org", "track", "-org", "logs", "-panels", strings.Join(sim.info.Panels, ","), "-polls", strings.Join(sim.info.Polls, ","))
	runBin("", "sync", "-org", "logs", "-log-format", "json")
	runBin("", "sync", "-org", "logs", "-log-format", "text", "-only", "runs")
	runBin(password+"\n", "user", "create", "-email", "ops@logs.example", "-name", "Ops", "-org", "logs", "-role", "supervisor", "-password-stdin")
	// The simulator now refuses the token: the failed pulls are logged.
	sim.server.RevokeToken(token)
	runBin("", "sync", "-org", "logs", "-only", "flows,runs")

	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "-addr", addr, "-log-format", "json")
	cmd.Env = append(cmd.Environ(), "TRACPRO_DB="+db, "TRACPRO_LOG_LEVEL=debug")
	var serveLog bytes.Buffer
	cmd.Stdout, cmd.Stderr = syncWriter(&serveLog), syncWriter(&serveLog)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var page string
	for deadline := time.Now().Add(20 * time.Second); ; {
		if resp, err := hc.Get("http://" + addr + "/users/login/"); err == nil {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			page = b.String()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", serveLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the login page:\n%.500s", page)
	}
	for _, pw := range []string{password + "-wrong", password} {
		resp, err := hc.PostForm("http://"+addr+"/users/login/", url.Values{"_csrf": {m[1]}, "email": {"ops@logs.example"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if pw == password && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in with the right password = %d", resp.StatusCode)
		}
	}
	logMu.Lock()
	all.Write(serveLog.Bytes())
	logMu.Unlock()

	out := all.String()
	if !strings.Contains(out, `"msg":"pull"`) || !strings.Contains(out, "msg=pull") || !strings.Contains(out, "level=WARN msg=pull") {
		t.Fatalf("the commands did not log what this test inspects:\n%s", out)
	}
	for _, secret := range []string{token, password} {
		if strings.Contains(out, secret) {
			t.Fatalf("a secret (%s…) appears in the logs:\n%s", secret[:6], out)
		}
	}
}

// Attributes named like secrets are redacted whatever the caller logs.
func TestLoggerRedactsSecretAttributes(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var b bytes.Buffer
		c := Config{LogFormat: format, LogLevel: "debug"}
		c.logger(&b).Info("x", "api_token", "tok-123", "password", "pw-456", slog.Group("req", "Authorization", "Token tok-789"), "org", "demo")
		if s := b.String(); strings.Contains(s, "tok-123") || strings.Contains(s, "pw-456") || strings.Contains(s, "tok-789") || !strings.Contains(s, "demo") {
			t.Fatalf("%s log: %s", format, s)
		}
	}
}

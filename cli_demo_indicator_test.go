package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoHasIndicatorAndMaps runs `tracpro demo` in-process (a small
// simulator org), signs in as the printed supervisor and checks what a
// newcomer sees: the demo indicator on the Indicators page and featured on
// home, its page with figures (a baseline and follow-up sums above zero), and
// a poll's Map tab drawing the panels' boundaries.
func TestDemoHasIndicatorAndMaps(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs a simulator org")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := freeAddr(t)
	var out, errs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- cmdDemo(ctx, []string{"-addr", addr, "-db", t.TempDir() + "/demo.db", "-contacts", "120", "-weeks", "4"}, syncWriter(&out), syncWriter(&errs))
	}()
	defer func() {
		cancel()
		<-done
	}()
	var logins []string
	for deadline := time.Now().Add(60 * time.Second); logins == nil; {
		logMu.Lock()
		logins = regexp.MustCompile(`supervisor:\s+(\S+)\s+password (\S+)`).FindStringSubmatch(out.String())
		logMu.Unlock()
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, errs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not start:\n%s\n%s", out.String(), errs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The printed address is localhost (passkeys refuse an IP address).
	_, port, _ := strings.Cut(addr, ":")
	logMu.Lock()
	printed := out.String()
	logMu.Unlock()
	if !strings.Contains(printed, "app:        http://localhost:"+port+"/\n") {
		t.Fatalf("the demo does not print its localhost URL:\n%s", printed)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d\n%.800s", path, resp.StatusCode, b.String())
		}
		return b.String()
	}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(get("/users/login/"))
	if csrf == nil {
		t.Fatal("no CSRF field on the login page")
	}
	resp, err := hc.PostForm("http://"+addr+"/users/login/", url.Values{"_csrf": {csrf[1]}, "email": {logins[1]}, "password": {logins[2]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	home := get("/")
	_, featured, _ := strings.Cut(home, `id="home-indicators"`)
	if !strings.Contains(featured, "Girls present against the boys at the start") || !strings.Contains(featured, "<svg") {
		t.Fatalf("home does not feature the demo indicator with its chart:\n%.1500s", featured)
	}
	list := get("/indicators/")
	m := regexp.MustCompile(`href="(/indicators/read/\d+/)"[^>]*>Girls present against the boys at the start<`).FindStringSubmatch(list)
	if m == nil {
		t.Fatalf("the Indicators page does not list the demo indicator:\n%.1500s", list)
	}
	page := get(m[1])
	figure := func(id string) float64 {
		t.Helper()
		f := regexp.MustCompile(`id="` + id + `">([0-9.,]+)%?<`).FindStringSubmatch(page)
		if f == nil {
			t.Fatalf("no #%s on the indicator page:\n%.2000s", id, page)
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(f[1], ",", ""), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if b, mean, rate := figure("baseline-value"), figure("follow-up-mean"), figure("follow-up-rate"); b <= 0 || mean <= 0 || rate <= 0 {
		t.Fatalf("the demo indicator shows baseline %v, follow-up mean %v, rate %v%%: want figures", b, mean, rate)
	}
	if !strings.Contains(page, "Boys present at the start") {
		t.Fatal("the baseline's label (y-axis title) is missing")
	}

	// The panels have boundaries: a poll's Map tab draws them.
	run := regexp.MustCompile(`href="/pollrun/read/(\d+)/`).FindStringSubmatch(home)
	if run == nil {
		t.Fatalf("home lists no poll run:\n%.2000s", home)
	}
	mp := get("/pollrun/map/" + run[1] + "/")
	if n := strings.Count(mp, "<path"); !strings.Contains(mp, `class="map"`) || n < 2 {
		t.Fatalf("the demo's Map tab draws %d areas:\n%.2000s", n, mp)
	}
}

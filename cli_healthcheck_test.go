package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheckCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte("schema not current"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)

	if code, out, errs := runCLI(t, "healthcheck", "-addr", addr); code != 0 || out != "ok\n" {
		t.Fatalf("ready: exit %d %q %q", code, out, errs)
	}
	// ":port" (how the image sets TRACPRO_ADDR) means this machine.
	if code, _, errs := runCLI(t, "healthcheck", "-addr", ":"+port); code != 0 {
		t.Fatalf(":port: exit %d %q", code, errs)
	}
	status = http.StatusServiceUnavailable
	if code, _, errs := runCLI(t, "healthcheck", "-addr", addr); code != 1 || !strings.Contains(errs, "503") || !strings.Contains(errs, "schema not current") {
		t.Fatalf("not ready: exit %d %q", code, errs)
	}
	srv.Close()
	if code, _, _ := runCLI(t, "healthcheck", "-addr", addr, "-timeout", "1s"); code != 1 {
		t.Fatalf("nothing listening: exit %d", code)
	}
	if code, _, _ := runCLI(t, "healthcheck", "-addr", "no-port"); code != 2 {
		t.Fatalf("bad address: exit %d", code)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// cmdHealthcheck asks the server on the configured address for /readyz and
// exits 0 when it answers 200 (the image has no curl: Docker's HEALTHCHECK
// runs this). An unspecified host (":8080", "0.0.0.0:8080") means this machine.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var addr string
	var timeout time.Duration
	fs := newFlags("healthcheck", stderr)
	fs.StringVar(&addr, "addr", env("ADDR", "127.0.0.1:8080"), "address tracpro serve listens on (TRACPRO_ADDR)")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("-addr must be host:port, not %q", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if timeout <= 0 {
		return usagef("-timeout must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not healthy: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s %s", resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

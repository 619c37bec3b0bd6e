package jobs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIngest measures a first full pull into an empty database: the
// simulator (a separate `tracpro fake-rapidpro` process) serves an org of
// 100,000 contacts and 1,000,000 runs over loopback in 250-run pages, and a
// `tracpro sync` process pulls contacts, then runs. It reports runs/s and the
// peak RSS of the syncing process. Run it with `make bench-ingest` (it needs
// TRACPRO_BENCH_INGEST=1; sizes can be lowered with TRACPRO_BENCH_CONTACTS).
func BenchmarkIngest(b *testing.B) {
	if os.Getenv("TRACPRO_BENCH_INGEST") == "" {
		b.Skip("set TRACPRO_BENCH_INGEST=1 (make bench-ingest): it takes minutes")
	}
	contacts := 100000
	if v, err := strconv.Atoi(os.Getenv("TRACPRO_BENCH_CONTACTS")); err == nil && v > 0 {
		contacts = v
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "tracpro")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	port := freePort(b)
	sim := exec.Command(bin, "fake-rapidpro", "--addr", "127.0.0.1:"+port, "--contacts", strconv.Itoa(contacts), "--weeks", "2",
		"--page-size", "250", "--unlimited", "--token", "bench-token")
	stdout, _ := sim.StdoutPipe()
	sim.Stderr = os.Stderr
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { sim.Process.Kill(); sim.Wait() }()
	sc := bufio.NewScanner(stdout)
	info := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok {
			info[k] = v
		}
		if strings.HasPrefix(line, "org: ") {
			b.Log("simulator: " + line)
			break
		}
	}
	simURL := info["RapidPro simulator"]
	go func() {
		for sc.Scan() {
		}
	}()
	db := filepath.Join(dir, "bench.db")
	run := func(args ...string) (string, *syscall.Rusage, time.Duration) {
		cmd := exec.Command(bin, append(args, "--db", db, "--log-level", "warn", "--api-rate", "0")...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("tracpro %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), cmd.ProcessState.SysUsage().(*syscall.Rusage), time.Since(start)
	}
	run("org", "create", "--name", "Bench", "--subdomain", "bench", "--rapidpro-url", simURL, "--token", "bench-token")
	run("sync", "--org", "bench", "--only", "groups,flows,fields")
	// Track every panel, cohort and poll of the generated org.
	run("org", "track", "--org", "bench", "--panels", info["panels"], "--cohorts", info["cohorts"], "--polls", info["polls"])
	out, cru, cdur := run("sync", "--org", "bench", "--only", "contacts")
	b.Log("\n" + out)
	b.ResetTimer()
	out, ru, dur := run("sync", "--org", "bench", "--only", "runs")
	b.StopTimer()
	b.Log("\n" + out)
	items := syncItems(b, out, "runs")
	b.ReportMetric(float64(items)/dur.Seconds(), "runs/s")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(syncItems(b, out, "runs")), "runs")
	fmt.Printf("ingest: %d contacts in %s (peak RSS %.1f MB); %d runs in %s = %.0f runs/s, peak RSS %.1f MB\n",
		contacts, cdur.Round(time.Millisecond), float64(cru.Maxrss)/1024, items, dur.Round(time.Millisecond),
		float64(items)/dur.Seconds(), float64(ru.Maxrss)/1024)
}

func freePort(b *testing.B) string {
	out, err := exec.Command("sh", "-c", "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").Output()
	if err != nil {
		return "18777"
	}
	return strings.TrimSpace(string(out))
}

var resultLine = regexp.MustCompile(`(?m)^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+ok`)

// syncItems reads the items column of a resource from `tracpro sync` output.
func syncItems(b *testing.B, out, resource string) int {
	for _, m := range resultLine.FindAllStringSubmatch(out, -1) {
		if m[1] == resource {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	b.Fatalf("no %s line in:\n%s", resource, out)
	return 0
}

package main

// Benchmarks of docs/benchmarks.md "Replication": restore time of a 1 GB
// database from the loopback S3 server, and the data lost by a SIGKILL at the
// configured sync interval. `make bench-restore` runs them (TRACPRO_BENCH_RESTORE=1).

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"tracpro/models"
)

func requireBenchRestore(b *testing.B) {
	if os.Getenv("TRACPRO_BENCH_RESTORE") != "1" {
		b.Skip("set TRACPRO_BENCH_RESTORE=1 (make bench-restore)")
	}
}

// litestreamRun runs the litestream CLI with env and returns its output.
func litestreamRun(b *testing.B, env []string, args ...string) string {
	b.Helper()
	cmd := exec.Command(binLitest, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("litestream %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// BenchmarkRestore1GB builds a 1 GiB database (the TracPro schema plus 1,024
// rows of 1 MiB of random bytes, which do not compress), ships it to the
// in-process S3 server with one `litestream replicate -once`, then times
// `litestream restore` to a new path.
func BenchmarkRestore1GB(b *testing.B) {
	requireBenchRestore(b)
	buildBinaries(b, true)
	s3 := startS3(b)
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "big.db")
	db, err := models.OpenMigrated(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_padding (id INTEGER PRIMARY KEY, data BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 16; i++ { // 16 transactions of 64 MiB
		if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64)
			INSERT INTO bench_padding (data) SELECT randomblob(1048576) FROM n`); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil { // before replication starts
		b.Fatal(err)
	}
	st, _ := db.Storage(ctx)
	db.Close()
	b.Logf("built a %.2f GiB database in %s", float64(st.DBBytes)/(1<<30), time.Since(start).Round(time.Millisecond))

	env := replicaEnv(s3.URL, "big", path, "1s")
	cfg := envValue(env, "LITESTREAM_CONFIG")
	start = time.Now()
	litestreamRun(b, env, "replicate", "-config", cfg, "-once")
	b.Logf("snapshot shipped in %s (%d objects)", time.Since(start).Round(time.Millisecond), s3.objects(b, "big/"))

	b.ResetTimer()
	var total time.Duration
	var out string
	for i := 0; i < b.N; i++ {
		out = filepath.Join(dir, fmt.Sprintf("restored-%d.db", i))
		start := time.Now()
		litestreamRun(b, env, "restore", "-config", cfg, "-o", out, path)
		total += time.Since(start)
	}
	b.StopTimer()
	sec := total.Seconds() / float64(b.N)
	b.ReportMetric(sec, "s/restore")
	b.ReportMetric(float64(st.DBBytes)/(1<<20)/sec, "MiB/s")
	start = time.Now()
	rdb, err := sql.Open("sqlite3", "file:"+out+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	var ok string
	var rows int
	rdb.QueryRow(`PRAGMA integrity_check`).Scan(&ok)
	rdb.QueryRow(`SELECT count(*) FROM bench_padding`).Scan(&rows)
	if ok != "ok" || rows != 1024 {
		b.Fatalf("restored database: integrity %q, %d rows", ok, rows)
	}
	b.Logf("restore: %.1f s for %.2f GiB; integrity_check ok in %s", sec, float64(st.DBBytes)/(1<<30), time.Since(start).Round(time.Millisecond))
}

// BenchmarkCrashLoss measures what a SIGKILL of Litestream (the machine is
// lost) loses: a writer commits one row every 5 ms for 4 s plus a random
// part of the interval, Litestream is
// killed, the replica is restored, and the newest restored row is compared
// with the kill time. Five kills at each sync interval.
func BenchmarkCrashLoss(b *testing.B) {
	requireBenchRestore(b)
	buildBinaries(b, true)
	s3 := startS3(b)
	for _, interval := range []time.Duration{time.Second, 100 * time.Millisecond} {
		b.Run(interval.String(), func(b *testing.B) {
			var windows []time.Duration
			var lostRows []int
			for i := 0; i < b.N*5; i++ {
				w, lost := crashOnce(b, s3, fmt.Sprintf("loss-%s-%d", interval, i), interval)
				windows = append(windows, w)
				lostRows = append(lostRows, lost)
			}
			sort.Slice(windows, func(i, j int) bool { return windows[i] < windows[j] })
			var sum time.Duration
			for _, w := range windows {
				sum += w
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(windows)), "ms-lost-mean")
			b.ReportMetric(float64(windows[len(windows)-1].Milliseconds()), "ms-lost-max")
			b.Logf("sync-interval %s: loss windows %v, rows lost %v", interval, windows, lostRows)
		})
	}
}

func crashOnce(b *testing.B, s3 *fakeS3, prefix string, interval time.Duration) (time.Duration, int) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "crash.db")
	db, err := models.OpenMigrated(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_ticks (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	env := replicaEnv(s3.URL, prefix, path, interval.String())
	cmd := exec.Command(binLitest, "replicate", "-config", envValue(env, "LITESTREAM_CONFIG"))
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second) // Litestream's first sync
	// A random phase against Litestream's ticks: the kill lands anywhere in an interval.
	stop := time.Now().Add(4*time.Second + rand.N(interval))
	for time.Now().Before(stop) {
		if _, err := db.ExecContext(ctx, `INSERT INTO bench_ticks (at) VALUES (?)`, time.Now().UnixMilli()); err != nil {
			b.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	killed := time.Now()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	var local int
	db.QueryRow(`SELECT count(*) FROM bench_ticks`).Scan(&local)

	out := filepath.Join(dir, "restored.db")
	litestreamRun(b, env, "restore", "-config", envValue(env, "LITESTREAM_CONFIG"), "-o", out, path)
	rdb, err := sql.Open("sqlite3", "file:"+out+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	var restored int
	var newest sql.NullInt64
	if err := rdb.QueryRow(`SELECT count(*), max(at) FROM bench_ticks`).Scan(&restored, &newest); err != nil {
		b.Fatalf("restored database: %v\n%s", err, logs.String())
	}
	window := killed.Sub(time.UnixMilli(newest.Int64))
	return window, local - restored
}

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The child-process tests run real binaries, built once per test process:
//   - tracpro: with TRACPRO_E2E=1 (CI) the Dockerfile's static build (the
//     binary that ships, also checked by TestStaticBuild), otherwise a plain
//     build that reuses the packages the test binary already compiled;
//   - litestream: the CLI of the module go.mod pins as a tool.
//
// The two are compiled side by side: each spends most of its cold time in
// one long single-threaded compile (SQLite's C amalgamation for tracpro,
// modernc.org/sqlite for Litestream), so on CI's two cores building them in
// parallel takes about as long as the slower one alone.

// The flags of the Dockerfile's static build.
const (
	staticTags    = "osusergo,netgo,sqlite_omit_load_extension"
	staticLDFlags = "-linkmode external -extldflags -static"
)

var (
	binDirOnce = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "tracpro-e2e-bin-") })
	// binTracpro and binLitest are the built binaries' paths (set by buildBinaries).
	binTracpro, binLitest string
	tracproOnce           = sync.OnceValues(func() (string, error) {
		dir, err := binDirOnce()
		if err != nil {
			return "", err
		}
		out := filepath.Join(dir, "tracpro")
		args := []string{"build", "-o", out}
		env := os.Environ()
		if os.Getenv("TRACPRO_E2E") == "1" {
			args = []string{"build", "-trimpath", "-tags", staticTags, "-ldflags", "-s -w " + staticLDFlags, "-o", out}
			env = append(env, "CGO_ENABLED=1")
		}
		return out, goBuild("tracpro", env, append(args, ".")...)
	})
	litestreamOnce = sync.OnceValues(func() (string, error) {
		dir, err := binDirOnce()
		if err != nil {
			return "", err
		}
		out := filepath.Join(dir, "litestream")
		return out, goBuild("litestream", os.Environ(), "build", "-o", out, "github.com/benbjohnson/litestream/cmd/litestream")
	})
	// buildLog records how long each build took (reported by the tests).
	buildLog   []string
	buildLogMu sync.Mutex
)

func goBuild(what string, env []string, args ...string) error {
	start := time.Now()
	cmd := exec.Command("go", args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", what, err, out)
	}
	buildLogMu.Lock()
	buildLog = append(buildLog, fmt.Sprintf("%s built in %s", what, time.Since(start).Round(100*time.Millisecond)))
	buildLogMu.Unlock()
	return nil
}

// buildBinaries returns the tracpro binary and, when litestream is true, the
// Litestream CLI, building each at most once per test process.
func buildBinaries(t testing.TB, litestream bool) (tracpro, ls string) {
	t.Helper()
	var lsErr error
	var wg sync.WaitGroup
	if os.Getenv("TRACPRO_E2E") == "1" {
		// The end-to-end tests will need Litestream: start its build now,
		// beside tracpro's, whichever test comes first.
		go litestreamOnce()
	}
	if litestream {
		wg.Add(1)
		go func() { defer wg.Done(); ls, lsErr = litestreamOnce() }()
	}
	tracpro, err := tracproOnce()
	wg.Wait()
	if err = errors.Join(err, lsErr); err != nil {
		t.Fatal(err)
	}
	binTracpro = tracpro
	if litestream {
		binLitest = ls
	}
	buildLogMu.Lock()
	for _, l := range buildLog {
		t.Log(l)
	}
	buildLog = nil
	buildLogMu.Unlock()
	return tracpro, ls
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := binDirOnce(); err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

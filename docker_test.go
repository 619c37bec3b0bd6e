package main

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// dockerfileLines returns the Dockerfile's instructions, continuation lines joined.
func dockerfileLines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// No Docker engine runs here: check what can be checked without one — every
// file the Dockerfile copies from the build context exists, the files copied
// from the npm stage are the ones `make assets` uses, the runtime is non-root
// with a /data volume, the health check is `tracpro healthcheck`, and the
// entrypoint is the tested script.
func TestDockerfile(t *testing.T) {
	lines := dockerfileLines(t)
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var user, volume, health, entry, build string
	for _, l := range lines {
		fields := strings.Fields(l)
		switch strings.ToUpper(fields[0]) {
		case "COPY":
			args := fields[1:]
			from := ""
			if strings.HasPrefix(args[0], "--from=") {
				from, args = strings.TrimPrefix(args[0], "--from="), args[1:]
			}
			for _, src := range args[:len(args)-1] {
				switch from {
				case "":
					if src == "." {
						continue
					}
					if _, err := os.Stat(src); err != nil {
						t.Errorf("Dockerfile copies %s, which does not exist", src)
					}
				case "assets":
					rel := strings.TrimPrefix(src, "/src/")
					if !strings.Contains(string(makefile), rel) {
						t.Errorf("Dockerfile copies %s from the npm stage; make assets does not use it", rel)
					}
				}
			}
		case "USER":
			user = fields[1]
		case "VOLUME":
			volume = fields[1]
		case "HEALTHCHECK":
			health = l
		case "ENTRYPOINT":
			entry = l
		case "RUN":
			if strings.Contains(l, "-o /out/tracpro") {
				build = l
			}
		}
	}
	if user == "" || user == "root" || user == "0" {
		t.Errorf("USER = %q, want a non-root user", user)
	}
	if volume != "/data" {
		t.Errorf("VOLUME = %q", volume)
	}
	if !strings.Contains(health, `"/usr/local/bin/tracpro", "healthcheck"`) {
		t.Errorf("HEALTHCHECK = %q", health)
	}
	if !strings.Contains(entry, "/usr/local/bin/docker-entrypoint.sh") {
		t.Errorf("ENTRYPOINT = %q", entry)
	}
	for _, want := range []string{"CGO_ENABLED=1", "-tags " + staticTags, staticLDFlags} {
		if !strings.Contains(build, want) {
			t.Errorf("the tracpro build lacks %q: %s", want, build)
		}
		// make build-static and the tests build the same binary.
		if i := strings.Index(string(makefile), "\nbuild-static:"); i < 0 || !strings.Contains(strings.ReplaceAll(string(makefile[i:]), "\\\n", " "), strings.TrimPrefix(want, "CGO_ENABLED=1")) {
			t.Errorf("make build-static lacks %q", want)
		}
	}
	if fi, err := os.Stat("docker/entrypoint.sh"); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("docker/entrypoint.sh must exist and be executable")
	}
	if out, err := exec.Command("sh", "-n", "docker/entrypoint.sh").CombinedOutput(); err != nil {
		t.Errorf("sh -n docker/entrypoint.sh: %v %s", err, out)
	}
	// The image's litestream comes from the module go.mod pins as a tool.
	gomod, _ := os.ReadFile("go.mod")
	if !regexp.MustCompile(`(?m)^tool github.com/benbjohnson/litestream/cmd/litestream$`).Match(gomod) {
		t.Error("go.mod lacks the litestream tool line")
	}
}

// The Dockerfile's static cgo build works on this machine and gives a binary
// without a dynamic loader. With TRACPRO_E2E=1 (CI) buildBinaries builds
// tracpro exactly so, once, and the end-to-end tests run that binary: this
// test checks it rather than compiling SQLite a second time.
func TestStaticBuild(t *testing.T) {
	requireE2E(t)
	out, _ := buildBinaries(t, false)
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary links %v", libs)
	}
	if b, err := exec.Command(out, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(b), "tracpro ") {
		t.Fatalf("static binary: %v %s", err, b)
	}
}

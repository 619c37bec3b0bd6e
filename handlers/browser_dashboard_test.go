package handlers

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"tracpro/models"
)

// TestBrowserDashboardWalk is issue #4's phone walk in Debian's chromium on a
// 360×640 screen: a supervisor signs in, opens a poll, switches the numeric
// display, opens a poll run, reads its participation, exports the CSV and
// starts a poll — over a simulator-synced org. Screenshots go to screenshots/.
// Mandatory when TRACPRO_E2E=1.
func TestBrowserDashboardWalk(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("TRACPRO_E2E") == "1" {
			t.Fatalf("TRACPRO_E2E=1 but chromium is not installed: %v", err)
		}
		t.Skip("chromium not installed; set TRACPRO_E2E=1 to require browser tests")
	}
	w := newStartWorld(t)
	sup := w.createUser(w.org, "phone@example.org", models.RoleSupervisor, testPassword, w.panelA)
	var pollrunID int64
	if err := w.DB.QueryRow(`SELECT pr.id FROM pollruns pr WHERE pr.poll_id = ? AND pr.pollrun_type = 'u' ORDER BY pr.conducted_on DESC LIMIT 1`, w.poll.ID).Scan(&pollrunID); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go w.App.Listener(ln)
	t.Cleanup(func() { w.App.Shutdown() })
	base := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)
	shots := filepath.Join("..", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noSideways := func(where string) {
		t.Helper()
		if over := eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" {
			t.Fatalf("%s scrolls sideways by %s px at 360 px", where, over)
		}
	}

	run("phone viewport", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 360, Height: 640, DeviceScaleFactor: 2, Mobile: true})
		return err
	}))
	run("sign in", chromedp.Navigate(base+"/users/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), sup.Email), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS(`#login form button.primary`)), chromedp.WaitVisible(chromedp.CSS("#home-page")))

	// A poll: charts drawn on the server, then the numeric display switched to averages.
	run("open poll", chromedp.Navigate(fmt.Sprintf("%s/poll/read/%d/?date_range=12-months", base, w.poll.ID)), chromedp.WaitVisible(chromedp.CSS("#poll-body")))
	if n := eval(`String(document.querySelectorAll("#poll-body svg").length)`); n == "0" {
		t.Fatal("the poll page draws no chart")
	}
	noSideways("the poll page")
	shot("dashboard-poll-sum.png")
	run("switch to averages", chromedp.Click(chromedp.CSS(`nav.tabs a[href*="numeric=average"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.tabs a[aria-current="page"][href*="numeric=average"]`)))
	if loc := eval(`location.search`); !strings.Contains(loc, "numeric=average") {
		t.Fatalf("the switched view is not in the URL: %s", loc)
	}
	shot("dashboard-poll-average.png")

	// A poll run, its participation tab.
	run("open poll run", chromedp.Navigate(fmt.Sprintf("%s/pollrun/read/%d/", base, pollrunID)), chromedp.WaitVisible(chromedp.CSS("#pollrun-tab")))
	noSideways("the poll run page")
	shot("dashboard-pollrun-summary.png")
	run("participation", chromedp.Navigate(fmt.Sprintf("%s/pollrun/participation/%d/", base, pollrunID)), chromedp.WaitVisible(chromedp.CSS("#pollrun-tab table")))
	total := eval(`document.querySelector("#pollrun-tab tfoot th").textContent`)
	if total == "" {
		t.Fatal("participation has no totals row")
	}
	shot("dashboard-participation.png")

	// The CSV export, fetched as the signed-in supervisor.
	csv := eval(fmt.Sprintf(`fetch("/response/by_pollrun/%d/?_format=csv").then(r => r.text())`, pollrunID))
	if !strings.HasPrefix(csv, "Date,Name,URN,Panel,Cohorts") {
		t.Fatalf("CSV header = %q", strings.SplitN(csv, "\n", 2)[0])
	}
	if strings.Contains(csv, w.nameB) {
		t.Fatalf("the supervisor of %s exported rows of %s", w.nameA, w.nameB)
	}

	// Start a poll for the panel from home; the progress page follows.
	run("home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("details.start")))
	run("start", chromedp.Click(chromedp.CSS("details.start summary")), chromedp.WaitVisible(chromedp.CSS("#start-poll")),
		chromedp.SetValue(chromedp.CSS("#start-poll"), fmt.Sprint(w.poll.ID)))
	shot("dashboard-start-form.png")
	run("submit start", chromedp.Click(chromedp.CSS(`details.start form button`)), chromedp.WaitVisible(chromedp.CSS("#start-progress")))
	if loc := eval(`location.pathname`); !strings.HasPrefix(loc, "/pollrun/start/") {
		t.Fatalf("after starting, the browser is on %s", loc)
	}
	if _, err := w.syncer.DeliverOutbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	run("progress", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#start-progress")))
	noSideways("the start progress page")
	shot("dashboard-start-progress.png")
	var started int
	if err := w.DB.QueryRow(`SELECT count(*) FROM flow_starts WHERE uuid IS NOT NULL`).Scan(&started); err != nil || started == 0 {
		t.Fatalf("no flow start delivered (%v)", err)
	}
}

package handlers

import (
	"context"
	"encoding/json"
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
	"github.com/gofiber/fiber/v2"
)

// browser is a headless Debian chromium tab on an app served on loopback,
// with the helpers the browser tests share. Without chromium the test skips,
// unless TRACPRO_E2E=1 makes browser tests mandatory.
type browser struct {
	t     *testing.T
	tab   context.Context
	base  string // http://localhost:<port>
	shots string
}

func newBrowser(t *testing.T, app *fiber.App) *browser {
	return openBrowser(t, app, browserConfig{})
}

// browserConfig adjusts openBrowser: Timeout bounds the whole session (60 s
// by default); Host, when set, is a name (with its subdomains) that the
// browser resolves to the app's loopback address, for apps that serve orgs
// on subdomains (base is then http://Host:<port>).
type browserConfig struct {
	Timeout time.Duration
	Host    string
}

func openBrowser(t *testing.T, app *fiber.App, cfg browserConfig) *browser {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("TRACPRO_E2E") == "1" {
			t.Fatalf("TRACPRO_E2E=1 but chromium is not installed: %v", err)
		}
		t.Skip("chromium not installed; set TRACPRO_E2E=1 to require browser tests")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	// localhost, not 127.0.0.1: an IP address is not a valid WebAuthn RP ID.
	host := "localhost"
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1000, 800),
	}
	if cfg.Host != "" {
		host = cfg.Host
		opts = append(opts, chromedp.Flag("host-resolver-rules", "MAP "+cfg.Host+" 127.0.0.1, MAP *."+cfg.Host+" 127.0.0.1"))
	}
	b := &browser{t: t, shots: filepath.Join("..", "screenshots"),
		base: fmt.Sprintf("http://%s:%d", host, ln.Addr().(*net.TCPAddr).Port)}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	b.tab = tab
	return b
}

// run performs a step's actions or fails the test naming the step.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.tab, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// eval evaluates JavaScript (awaiting a promise) and returns its string value.
func (b *browser) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.tab, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// shot saves a screenshot of the viewport under screenshots/.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.tab, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// phone emulates a 360×640 phone screen.
func (b *browser) phone() {
	b.t.Helper()
	b.run("phone viewport", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 360, Height: 640, DeviceScaleFactor: 2, Mobile: true})
		return err
	}))
}

// usableOnPhone fails when the page is not usable on the phone (see
// phoneProblems).
func (b *browser) usableOnPhone(where string) {
	b.t.Helper()
	if problems := b.phoneProblems(); len(problems) > 0 {
		b.t.Fatalf("%s:\n%s", where, strings.Join(problems, "\n"))
	}
}

// phoneProblems runs the phone checks on the page as it is, with every
// <details> opened for the time of the check (what a tap reveals must fit
// too): the document does not scroll sideways — measured against the layout
// viewport, document.documentElement.clientWidth (360), since under mobile
// emulation window.innerWidth grows with the content and never shows it —
// no control lies outside the screen unless it is in a box that scrolls, and
// controls and navigation links are at least 44 px high.
// It returns one line per problem.
func (b *browser) phoneProblems() []string {
	b.t.Helper()
	var out struct {
		Over      int
		Offscreen []string
		Small     []string
	}
	if err := json.Unmarshal([]byte(b.eval(phoneCheckJS)), &out); err != nil {
		b.t.Fatal(err)
	}
	var problems []string
	if out.Over != 0 {
		problems = append(problems, fmt.Sprintf("scrolls sideways by %d px", out.Over))
	}
	for _, e := range out.Offscreen {
		problems = append(problems, "off screen: "+e)
	}
	for _, e := range out.Small {
		problems = append(problems, "touch target under 44 px: "+e)
	}
	return problems
}

// phoneCheckJS is phoneProblems' measurement, in the page.
const phoneCheckJS = `(async () => {
  const de = document.documentElement, out = {over: 0, offscreen: [], small: []};
  const closed = [...document.querySelectorAll("details:not([open])")];
  closed.forEach(d => d.open = true);
  try {
    out.over = de.scrollWidth - de.clientWidth;
    const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
    const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
    const tag = e => e.outerHTML.slice(0, 80);
    for (const e of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
      if (!shown(e)) continue;
      const r = e.getBoundingClientRect();
      if ((r.left < -1 || r.right > de.clientWidth + 1) && !scrolls(e)) out.offscreen.push(Math.round(r.left) + ".." + Math.round(r.right) + " " + tag(e));
    }
    for (const e of document.querySelectorAll("button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden]), label.check, summary, nav a, .tabs a, .actions a, .menu a")) {
      if (shown(e) && e.getBoundingClientRect().height < 44) out.small.push(tag(e));
    }
  } finally { closed.forEach(d => d.open = false); }
  return JSON.stringify(out);
})()`

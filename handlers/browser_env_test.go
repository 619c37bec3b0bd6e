package handlers

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/target"
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
	// workers are the service worker targets a test attached to (browser_offline_test.go).
	workers map[target.ID]context.Context
}

func newBrowser(t *testing.T, app *fiber.App) *browser {
	t.Helper()
	return newBrowserFor(t, app, 60*time.Second)
}

// newBrowserFor is newBrowser for a test that may take up to limit.
func newBrowserFor(t *testing.T, app *fiber.App, limit time.Duration) *browser {
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
	b := &browser{t: t, shots: filepath.Join("..", "screenshots"),
		// localhost, not 127.0.0.1: an IP address is not a valid WebAuthn RP ID.
		base: fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1000, 800))
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

// usableOnPhone fails when the page scrolls sideways or a visible control or
// navigation link is under 44 px high. Links inside text, tables and charts are
// exempt (as in WCAG 2.5.8); a checkbox counts through its label.
func (b *browser) usableOnPhone(where string) {
	b.t.Helper()
	if over := b.eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" {
		b.t.Fatalf("%s scrolls sideways by %s px", where, over)
	}
	if small := b.eval(`[...document.querySelectorAll("button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden]), label.check, summary, nav a, .tabs a, .actions a, .menu a")].filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 60)).join(" | ")`); small != "" {
		b.t.Fatalf("%s: touch targets under 44 px: %s", where, small)
	}
}

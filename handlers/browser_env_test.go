package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/cdproto/webauthn"
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
	return openBrowser(t, app, browserConfig{})
}

// newBrowserWith is newBrowser with more chromium flags, made from the port
// the app listens on.
func newBrowserWith(t *testing.T, app *fiber.App, flags func(port int) []chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	return openBrowser(t, app, browserConfig{Flags: flags})
}

// newBrowserFor is newBrowser for a test that may take up to limit.
func newBrowserFor(t *testing.T, app *fiber.App, limit time.Duration) *browser {
	t.Helper()
	return openBrowser(t, app, browserConfig{Timeout: limit})
}

// browserConfig adjusts openBrowser: Timeout bounds the whole session (60 s
// by default); Host, when set, is a name (with its subdomains) that the
// browser resolves to the app's loopback address, for apps that serve orgs
// on subdomains (base is then http://Host:<port>); Flags adds chromium flags
// made from the port the app listens on.
type browserConfig struct {
	Timeout time.Duration
	Host    string
	Flags   func(port int) []chromedp.ExecAllocatorOption
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
	port := ln.Addr().(*net.TCPAddr).Port
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
	if cfg.Flags != nil {
		opts = append(opts, cfg.Flags(port)...)
	}
	b := &browser{t: t, shots: filepath.Join("..", "screenshots"),
		base: fmt.Sprintf("http://%s:%d", host, port)}
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

// virtualAuthenticator gives the tab Chrome's virtual authenticator: a
// platform authenticator with discoverable credentials that verifies the user.
func (b *browser) virtualAuthenticator() {
	b.t.Helper()
	b.run("virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: "ctap2", Ctap2version: "ctap2_1", Transport: "internal", HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return err
	}))
}

// noAutofill hides conditional mediation from the pages: the virtual
// authenticator answers a conditional (autofill) request at once, which would
// sign in whoever's passkey it holds on every visit to the sign-in page. The
// identifier returned removes the script again.
func (b *browser) noAutofill() page.ScriptIdentifier {
	b.t.Helper()
	var id page.ScriptIdentifier
	b.run("no autofill", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `if (window.PublicKeyCredential) Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", {value: () => Promise.resolve(false)});`,
		})
		id = res.Identifier
		return err
	}))
	return id
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
// too), and returns one line per problem:
//   - the document scrolls sideways: measured against the layout viewport,
//     document.documentElement.clientWidth (360), since under mobile
//     emulation window.innerWidth grows with the content and never shows it;
//   - a control lies outside the screen, and not in a box that scrolls;
//   - a touch target — link, button, field, summary, a checkbox's or radio
//     button's label — is under 44×44 CSS px (WCAG 2.5.5), except those of
//     targetExempt;
//   - axe-core finds a WCAG 2.1 A or AA violation (except those of
//     axeExempt), when the page has axe (browser.withAxe).
func (b *browser) phoneProblems() []string {
	b.t.Helper()
	var out struct {
		Over      int
		Offscreen []string
		Small     []string
		Axe       []struct {
			ID, Help string
			Nodes    []string
		}
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
		problems = append(problems, "touch target under 44×44 px: "+e)
	}
	for _, v := range out.Axe {
		problems = append(problems, fmt.Sprintf("axe %s (%s): %s", v.ID, v.Help, strings.Join(v.Nodes, " | ")))
	}
	return problems
}

// targetExempt are the touch targets allowed under 44×44 px, as CSS
// selectors, each with WCAG 2.5.5's reason.
var targetExempt = map[string]string{
	// Essential: an area's size is the geography's. Equivalent: the map's
	// data table under it links every area with a full-size target.
	"svg.map a": "map areas",
}

// axeExempt are the axe rules not applied, each with its reason.
var axeExempt = map[string]string{}

// phoneCheckJS is phoneProblems' measurement, in the page.
var phoneCheckJS = `(async () => {
  const de = document.documentElement, out = {over: 0, offscreen: [], small: [], axe: []};
  const exempt = ` + jsonString(keysOf(targetExempt)) + `;
  const closed = [...document.querySelectorAll("details:not([open])")];
  closed.forEach(d => d.open = true);
  try {
    out.over = de.scrollWidth - de.clientWidth;
    const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
    const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
    const tag = e => { const r = e.getBoundingClientRect(); return Math.round(r.width) + "×" + Math.round(r.height) + " " + e.outerHTML.slice(0, 90); };
    const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary";
    for (const e of document.querySelectorAll(controls)) {
      if (!shown(e)) continue;
      const r = e.getBoundingClientRect();
      if ((r.left < -1 || r.right > de.clientWidth + 1) && !scrolls(e)) out.offscreen.push(Math.round(r.left) + ".." + Math.round(r.right) + " " + tag(e));
      // A checkbox or radio button is tapped through its label.
      const t = (e.type === "checkbox" || e.type === "radio") ? (e.closest("label") || document.querySelector("label[for='" + e.id + "']") || e) : e;
      if (exempt.some(s => t.matches(s))) continue;
      const tr = t.getBoundingClientRect();
      if (tr.width < 43.5 || tr.height < 43.5) out.small.push(tag(t));
    }
    if (window.axe) {
      const res = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        rules: ` + axeRulesOff() + `, resultTypes: ["violations"]});
      out.axe = res.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " " + (n.failureSummary || "").split("\n").slice(1, 2).join(""))}));
    }
  } finally { closed.forEach(d => d.open = false); }
  return JSON.stringify(out);
})()`

// jsonString is v as JSON.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// keysOf returns a map's keys, sorted.
func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// axeRulesOff is axe's rules option turning off the rules of axeExempt.
func axeRulesOff() string {
	off := map[string]map[string]bool{}
	for id := range axeExempt {
		off[id] = map[string]bool{"enabled": false}
	}
	return jsonString(off)
}

// withAxe loads axe-core (pinned in package.json, installed by npm ci) into
// every page the tab opens from now on, for phoneProblems.
func (b *browser) withAxe() {
	b.t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		b.t.Fatalf("axe-core is not installed (run npm ci): %v", err)
	}
	b.run("axe", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: string(src)})
		return err
	}))
}

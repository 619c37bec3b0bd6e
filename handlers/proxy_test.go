package handlers

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// brand is the org name (or "TracPro") the navigation shows.
func brand(body string) string {
	_, after, ok := strings.Cut(body, `<a class="brand" href="/">`)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(after, "</a>")
	return name
}

// rpIDOf is the relying party id of passkey sign-in options.
func rpIDOf(t *testing.T, body string) string {
	t.Helper()
	var opts struct {
		PublicKey struct {
			RPID string `json:"rpId"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(body), &opts); err != nil {
		t.Fatalf("sign-in options: %v: %.200s", err, body)
	}
	return opts.PublicKey.RPID
}

// TestForwardedHeadersIgnoredFromUntrustedPeers: with no trusted proxy (the
// default), X-Forwarded-Host does not pick another org nor the passkeys'
// relying party, X-Forwarded-Proto does not make the request HTTPS, and
// X-Forwarded-For does not dodge sign-in throttling.
func TestForwardedHeadersIgnoredFromUntrustedPeers(t *testing.T) {
	e := newTestEnv(t)
	e.createOrg("a")
	e.createOrg("b")
	spoof := []string{"X-Forwarded-Host", "a." + testDomain, "X-Forwarded-Proto", "https"}

	c := e.noSessionClient(nil)
	c.Host = "zz." + testDomain
	r := c.get("/users/login/", spoof...)
	if r.Code != 200 || brand(r.Body) != "TracPro" {
		t.Fatalf("Host zz with X-Forwarded-Host a: %d, brand %q, want no org", r.Code, brand(r.Body))
	}
	if r.Header.Get("Strict-Transport-Security") != "" || strings.Contains(strings.ToLower(r.Header.Get("Set-Cookie")), "secure") {
		t.Fatalf("X-Forwarded-Proto from an untrusted peer made the answer HTTPS: %v", r.Header)
	}

	ev := e.noSessionClient(nil)
	ev.Host = "evil.example"
	ev.get("/users/login/", spoof...)
	r = ev.post("/passkeys/login/begin", nil, append(spoof, "Origin", "http://evil.example")...)
	if r.Code != 200 || rpIDOf(t, r.Body) != "evil.example" {
		t.Fatalf("passkey options with a spoofed X-Forwarded-Host: %d, RP ID %q, want evil.example", r.Code, rpIDOf(t, r.Body))
	}

	// Five failures from one peer, each claiming another address, then the
	// sixth waits: the peer's address counts, not the header.
	a := e.noSessionClient(nil)
	a.Host = "a." + testDomain
	a.get("/users/login/")
	for i := 1; i <= 6; i++ {
		r = a.post("/users/login/", signInForm(fmt.Sprintf("guess%d@a.test", i), "x"), "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		if i < 6 && r.Code != 422 {
			t.Fatalf("guess %d = %d", i, r.Code)
		}
	}
	if r.Code != 429 {
		t.Fatalf("sixth guess with yet another X-Forwarded-For = %d, want 429", r.Code)
	}
}

// proxied sends a request to a real listener as a trusted reverse proxy on
// 127.0.0.1 would: Host and X-Forwarded-Host the public host, HTTPS in
// X-Forwarded-Proto, and X-Forwarded-For ending with the client it saw.
type proxied struct {
	t       *testing.T
	base    string
	host    string
	xff     string
	cookies map[string]string
	csrf    string
}

func (p *proxied) do(method, path string, form url.Values) (int, http.Header, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("_csrf", p.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-Host", p.host)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-For", p.xff)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == "POST" {
		req.Header.Set("Origin", "https://"+p.host)
		req.Header.Set("X-CSRF-Token", p.csrf)
	}
	for k, v := range p.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		p.cookies[ck.Name] = ck.Value
	}
	if m := csrfRe.FindStringSubmatch(string(b)); m != nil {
		p.csrf = m[1]
	}
	return resp.StatusCode, resp.Header, string(b)
}

// TestForwardedHeadersFromTrustedProxy: behind a proxy listed in
// TRACPRO_TRUSTED_PROXIES the forwarded host picks the org and the relying
// party, the forwarded scheme makes cookies Secure, and each client behind
// the proxy is throttled on its own address — the last one the proxy
// appended, whatever the client wrote before it.
func TestForwardedHeadersFromTrustedProxy(t *testing.T) {
	e := newTestEnv(t)
	e.createOrg("a")
	e.createOrg("b")
	proxies, err := ParseTrustedProxies("127.0.0.1, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	e.H.TrustedProxies = proxies
	if e.App, err = New(e.H); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go e.App.Listener(ln)
	base := "http://" + ln.Addr().String()

	client := func(xff string) *proxied {
		return &proxied{t: t, base: base, host: "a." + testDomain, xff: xff, cookies: map[string]string{}}
	}
	p := client("198.51.100.7")
	code, hdr, body := p.do("GET", "/users/login/", nil)
	if code != 200 || brand(body) != "Org a" {
		t.Fatalf("through the proxy: %d, brand %q, want Org a", code, brand(body))
	}
	if hdr.Get("Strict-Transport-Security") == "" || !strings.Contains(strings.ToLower(hdr.Get("Set-Cookie")), "secure") {
		t.Fatalf("HTTPS at the proxy: HSTS %q, cookie %q", hdr.Get("Strict-Transport-Security"), hdr.Get("Set-Cookie"))
	}
	if code, _, body := p.do("POST", "/passkeys/login/begin", url.Values{}); code != 200 || rpIDOf(t, body) != testDomain {
		t.Fatalf("passkey options through the proxy: %d, RP ID %q", code, rpIDOf(t, body))
	}

	// A client rotating what it writes in X-Forwarded-For: the proxy appends
	// the address it saw (198.51.100.7), then an inner proxy of 10/8 its own.
	for i := 1; i <= 6; i++ {
		p.xff = fmt.Sprintf("203.0.113.%d, 198.51.100.7, 10.1.2.3", i)
		code, _, _ = p.do("POST", "/users/login/", url.Values{"email": {fmt.Sprintf("guess%d@a.test", i)}, "password": {"x"}})
		if i < 6 && code != 422 {
			t.Fatalf("guess %d = %d", i, code)
		}
	}
	if code != 429 {
		t.Fatalf("sixth guess of the same client = %d, want 429", code)
	}
	// Another client behind the same proxy is not held back.
	other := client("198.51.100.8")
	other.do("GET", "/users/login/", nil)
	if code, _, _ := other.do("POST", "/users/login/", url.Values{"email": {"someone@a.test"}, "password": {"x"}}); code != 422 {
		t.Fatalf("another client behind the proxy = %d, want 422", code)
	}
	var keys []string
	rows, err := e.DB.Query(`SELECT key FROM login_failures WHERE key LIKE 'ip:%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	if strings.Join(keys, " ") != "ip:198.51.100.7 ip:198.51.100.8" {
		t.Fatalf("throttled addresses = %v", keys)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 127.0.0.1,10.0.0.0/8  fd00::/8\t::1")
	if err != nil || strings.Join(got, " ") != "127.0.0.1 10.0.0.0/8 fd00::/8 ::1" {
		t.Fatalf("parsed %v %v", got, err)
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "localhost", "10.0.0", "1.2.3.4/x"} {
		if _, err := ParseTrustedProxies("127.0.0.1," + bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// Test harness shared by passkeys_test.go and browser_test.go: the real app
// over a temp database, a cookie-keeping client, and a software WebAuthn
// authenticator (P-256, "none" attestation).

package handlers

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// Authenticator data flags of the software authenticator.
const (
	pkFlagUP = 0x01
	pkFlagUV = 0x04
	pkFlagBE = 0x08
	pkFlagBS = 0x10
	pkFlagAT = 0x40
)

// pkHost, pkOrigin and pkRPID are what app.Test requests look like by
// default (Host example.com).
const (
	pkHost   = "example.com"
	pkOrigin = "http://" + pkHost
	pkRPID   = pkHost
)

var b64u = base64.RawURLEncoding

// pkLog is a concurrency-safe log buffer.
type pkLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *pkLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *pkLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// pkEnv is the real app over a migrated temp database with one org.
type pkEnv struct {
	t   *testing.T
	db  *models.DB
	app *fiber.App
	org *models.Org
	log *pkLog
}

func newPKEnv(t *testing.T) *pkEnv {
	t.Helper()
	e, _ := newPKEnvWith(t, "", models.NewOrg{Name: "UNICEF", Subdomain: "unicef"})
	return e
}

// newPKEnvWith is the app under TRACPRO_DOMAIN domain ("" = none) with the
// orgs (the first is the env's org), their passkey policy on by default.
func newPKEnvWith(t *testing.T, domain string, orgs ...models.NewOrg) (*pkEnv, []*models.Org) {
	t.Helper()
	ctx := context.Background()
	db, err := models.OpenMigrated(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var made []*models.Org
	for _, o := range orgs {
		o.RapidProURL, o.Token = "http://127.0.0.1:1", "t"
		org, err := db.CreateOrg(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, org)
	}
	logs := &pkLog{}
	app, err := New(&Handlers{DB: db, Domain: domain, Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &pkEnv{t: t, db: db, app: app, org: made[0], log: logs}, made
}

// user creates a user with a password and a role in the org ("" = none).
func (e *pkEnv) user(email, role string) *models.User {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.db.CreateUser(ctx, models.NewUser{Email: email, FullName: strings.Split(email, "@")[0], Password: "correct horse battery"})
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		if err := e.db.SetMembership(ctx, e.org.ID, u.ID, role); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

// pkClient is one browser on one host (pkHost unless set): a session
// cookie and the page's CSRF token.
type pkClient struct {
	e       *pkEnv
	host    string
	cookie  string
	csrf    string
	cookies map[string]string // the other cookies (anonymous CSRF, messages)
}

func (e *pkEnv) client() *pkClient { return &pkClient{e: e, host: pkHost} }

// origin is the client's web origin.
func (c *pkClient) origin() string { return "http://" + c.host }

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// do sends a request with the session cookie (and the CSRF header on POST)
// and keeps the cookie the answer sets.
func (c *pkClient) do(method, path, ctype string, body []byte) (*http.Response, string) {
	c.e.t.Helper()
	req := httptest.NewRequest(method, c.origin()+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.cookie})
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	if method == http.MethodPost {
		req.Header.Set("X-CSRF-Token", c.csrf)
		req.Header.Set("Origin", c.origin())
	}
	resp, err := c.e.app.Test(req, -1)
	if err != nil {
		c.e.t.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		switch {
		case ck.Name == sessionCookie:
			c.cookie = ck.Value
		case ck.Value == "" || ck.MaxAge < 0:
			delete(c.cookies, ck.Name)
		default:
			if c.cookies == nil {
				c.cookies = map[string]string{}
			}
			c.cookies[ck.Name] = ck.Value
		}
	}
	b, _ := io.ReadAll(resp.Body)
	text := string(b)
	if m := csrfRe.FindStringSubmatch(text); m != nil {
		c.csrf = m[1]
	}
	return resp, text
}

func (c *pkClient) get(path string) (*http.Response, string) {
	return c.do(http.MethodGet, path, "", nil)
}

func (c *pkClient) postForm(path string, form url.Values) (*http.Response, string) {
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// postJSON posts a JSON body and decodes the JSON answer.
func (c *pkClient) postJSON(path string, body any) (int, map[string]any) {
	c.e.t.Helper()
	b, _ := json.Marshal(body)
	resp, text := c.do(http.MethodPost, path, "application/json", b)
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		c.e.t.Fatalf("POST %s: %d, not JSON: %.200s", path, resp.StatusCode, text)
	}
	return resp.StatusCode, out
}

// passwordLogin signs in with a password from the sign-in page.
func (c *pkClient) passwordLogin(email string) (*http.Response, string) {
	c.e.t.Helper()
	c.get("/users/login/")
	return c.postForm("/users/login/", url.Values{"email": {email}, "password": {"correct horse battery"}})
}

// softKey is a software authenticator holding one P-256 credential, scoped
// like a real one to the relying party it was registered for.
type softKey struct {
	priv   *ecdsa.PrivateKey
	id     []byte
	handle []byte // user handle, learnt at registration
	rpID   string // RP ID of the registration options
	count  uint32
	aaguid []byte
	origin string // of the page running the ceremony; pkOrigin when empty
}

func newSoftKey(t *testing.T) *softKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	// iCloud Keychain's AAGUID, so the default name can be checked.
	aaguid := []byte{0xfb, 0xfc, 0x30, 0x07, 0x15, 0x4e, 0x4e, 0xcc, 0x8c, 0x0b, 0x6e, 0x02, 0x05, 0x57, 0xd7, 0xbd}
	return &softKey{priv: priv, id: id, aaguid: aaguid}
}

func (k *softKey) clientData(typ, challenge string) []byte {
	origin := k.origin
	if origin == "" {
		origin = pkOrigin
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

func authDataHead(rpID string, flags byte, count uint32) []byte {
	rp := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, rp[:]...)
	out = append(out, flags)
	return binary.BigEndian.AppendUint32(out, count)
}

// attest answers registration options: a "none" attestation with flags.
func (k *softKey) attest(t *testing.T, options map[string]any, flags byte) map[string]any {
	t.Helper()
	pk := options["publicKey"].(map[string]any)
	handle, err := b64u.DecodeString(pk["user"].(map[string]any)["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	k.handle = handle
	k.rpID = pk["rp"].(map[string]any)["id"].(string)
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1,
		XCoord:        k.priv.X.FillBytes(make([]byte, 32)),
		YCoord:        k.priv.Y.FillBytes(make([]byte, 32)),
	})
	if err != nil {
		t.Fatal(err)
	}
	auth := authDataHead(k.rpID, flags|pkFlagAT, k.count)
	auth = append(auth, k.aaguid...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(k.id)))
	auth = append(auth, k.id...)
	auth = append(auth, cose...)
	att, err := webauthncbor.Marshal(struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}{"none", map[string]any{}, auth})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(k.clientData("webauthn.create", pk["challenge"].(string))),
			"attestationObject": b64u.EncodeToString(att),
			"transports":        []string{"internal", "hybrid"},
		},
	}
}

// assert answers sign-in options with an assertion signed over
// authenticatorData || SHA-256(clientDataJSON), with the counter advanced.
func (k *softKey) assert(t *testing.T, options map[string]any, flags byte) map[string]any {
	t.Helper()
	pk := options["publicKey"].(map[string]any)
	// A browser offers a credential only to the relying party it belongs to.
	if rp, _ := pk["rpId"].(string); rp != k.rpID {
		t.Fatalf("the authenticator has no passkey for RP ID %q (its passkey is for %q)", rp, k.rpID)
	}
	k.count++
	auth := authDataHead(k.rpID, flags, k.count)
	cd := k.clientData("webauthn.get", pk["challenge"].(string))
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(cd),
			"authenticatorData": b64u.EncodeToString(auth),
			"signature":         b64u.EncodeToString(sig),
			"userHandle":        b64u.EncodeToString(k.handle),
		},
	}
}

// register runs a registration ceremony; it returns the finish answer.
func (c *pkClient) register(k *softKey, flags byte, query string) (int, map[string]any) {
	c.e.t.Helper()
	code, opts := c.postJSON("/passkeys/register/begin"+query, nil)
	if code != 200 {
		c.e.t.Fatalf("register begin = %d %v", code, opts)
	}
	k.origin = c.origin()
	return c.postJSON("/passkeys/register/finish", k.attest(c.e.t, opts, flags))
}

// login runs a sign-in ceremony; it returns the finish answer.
func (c *pkClient) login(k *softKey, flags byte, next string) (int, map[string]any) {
	c.e.t.Helper()
	c.get("/users/login/")
	code, opts := c.postJSON("/passkeys/login/begin", nil)
	if code != 200 {
		c.e.t.Fatalf("login begin = %d %v", code, opts)
	}
	k.origin = c.origin()
	return c.postJSON("/passkeys/login/finish?next="+url.QueryEscape(next), k.assert(c.e.t, opts, flags))
}

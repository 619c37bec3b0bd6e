package handlers

import (
	"strings"
	"testing"
)

// TestFlashShownOnce: an administrator whom the passkey policy sends to
// register a passkey follows three links, each redirected to the passkeys
// page with the same message: the page shows it once, and the next page not
// at all.
func TestFlashShownOnce(t *testing.T) {
	f := newMatrixFixture(t)
	if _, err := f.DB.ExecContext(f.Ctx, `UPDATE orgs SET admin_passkeys = 1 WHERE id = ?`, f.Org1.ID); err != nil {
		t.Fatal(err)
	}
	c := f.newClient(f.Org1, f.Admin)
	for _, p := range []string{"/", "/poll/", "/user/"} {
		if r := c.get(p); r.Code != 303 || r.Header.Get("Location") != "/passkeys/" {
			t.Fatalf("%s = %d → %q, want 303 → /passkeys/", p, r.Code, r.Header.Get("Location"))
		}
	}
	const msg = "Your account signs in with a passkey. Register one to continue."
	if r := c.get("/passkeys/"); strings.Count(r.Body, msg) != 1 {
		t.Errorf("the passkeys page shows the message %d times, want once", strings.Count(r.Body, msg))
	}
	if r := c.get("/passkeys/"); strings.Contains(r.Body, msg) {
		t.Error("the message is shown again on the next page")
	}
}

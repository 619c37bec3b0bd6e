package models

import (
	"context"
	"errors"
	"testing"
)

// passkeyFixture makes two users with no passkeys.
func passkeyFixture(t *testing.T) (*DB, *User, *User) {
	t.Helper()
	ctx := context.Background()
	db := testDB(t)
	a, err := db.CreateUser(ctx, NewUser{Email: "ada@example.org", FullName: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateUser(ctx, NewUser{Email: "bob@example.org", FullName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	return db, a, b
}

func TestPasskeyProviderName(t *testing.T) {
	icloud := []byte{0xfb, 0xfc, 0x30, 0x07, 0x15, 0x4e, 0x4e, 0xcc, 0x8c, 0x0b, 0x6e, 0x02, 0x05, 0x57, 0xd7, 0xbd}
	for _, tc := range []struct {
		aaguid []byte
		want   string
	}{{icloud, "iCloud Keychain"}, {make([]byte, 16), "Passkey"}, {nil, "Passkey"}, {[]byte{1, 2}, "Passkey"}} {
		if got := PasskeyProviderName(tc.aaguid); got != tc.want {
			t.Errorf("PasskeyProviderName(%x) = %q, want %q", tc.aaguid, got, tc.want)
		}
	}
}

func TestPasskeyStoreRenameDelete(t *testing.T) {
	ctx := context.Background()
	db, a, b := passkeyFixture(t)
	icloud := []byte{0xfb, 0xfc, 0x30, 0x07, 0x15, 0x4e, 0x4e, 0xcc, 0x8c, 0x0b, 0x6e, 0x02, 0x05, 0x57, 0xd7, 0xbd}
	k1 := &Passkey{UserID: a.ID, CredentialID: []byte("cred-1"), PublicKey: []byte("pk"), AAGUID: icloud, SignCount: 3,
		BackupEligible: true, BackupState: true, Transports: []string{"internal", "hybrid"}}
	if err := db.AddPasskey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if err := db.AddPasskey(ctx, &Passkey{UserID: b.ID, CredentialID: []byte("cred-1"), PublicKey: []byte("pk")}); ErrorCode(err) != CodeConflict {
		t.Fatalf("duplicate credential id: err = %v, want conflict", err)
	}
	k2 := &Passkey{UserID: a.ID, CredentialID: []byte("cred-2"), PublicKey: []byte("pk2")}
	if err := db.AddPasskey(ctx, k2); err != nil {
		t.Fatal(err)
	}
	keys, err := db.ListPasskeys(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Name != "iCloud Keychain" || keys[1].Name != "Passkey" {
		t.Fatalf("passkeys = %+v", keys)
	}
	if k := keys[0]; !k.BackupEligible || !k.BackupState || k.SignCount != 3 || len(k.Transports) != 2 || k.Transports[1] != "hybrid" || k.LastUsedAt != 0 {
		t.Fatalf("stored passkey = %+v", k)
	}
	if err := db.RenamePasskey(ctx, a.ID, k1.ID, "  Phone  "); err != nil {
		t.Fatal(err)
	}
	if k, _ := db.UserPasskey(ctx, a.ID, k1.ID); k.Name != "Phone" {
		t.Fatalf("renamed = %q", k.Name)
	}
	if err := db.RenamePasskey(ctx, b.ID, k1.ID, "Mine"); ErrorCode(err) != CodeNotFound {
		t.Fatalf("rename another user's passkey: %v", err)
	}
	if err := db.RenamePasskey(ctx, a.ID, k1.ID, " "); ErrorCode(err) != CodeInvalid {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := db.UserPasskey(ctx, b.ID, k1.ID); ErrorCode(err) != CodeNotFound {
		t.Fatalf("another user's passkey loaded: %v", err)
	}

	// Deleting ends every session of the user, not other users' sessions.
	if _, err := db.NewSession(ctx, &Session{UserID: a.ID, Method: AuthPasskey}); err != nil {
		t.Fatal(err)
	}
	bTok, _ := db.NewSession(ctx, &Session{UserID: b.ID, Method: AuthPasskey})
	if err := db.DeletePasskey(ctx, b.ID, k1.ID, false); ErrorCode(err) != CodeNotFound {
		t.Fatalf("delete another user's passkey: %v", err)
	}
	if err := db.DeletePasskey(ctx, a.ID, k2.ID, true); err != nil {
		t.Fatal(err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM sessions WHERE user_id = ?`, a.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("sessions of the user left after deletion: %d", n)
	}
	if s, _ := db.SessionByToken(ctx, bTok); s == nil {
		t.Fatal("another user's session was ended")
	}
	if err := db.DeletePasskey(ctx, a.ID, k1.ID, true); ErrorCode(err) != CodeInvalid {
		t.Fatalf("last passkey under the policy: err = %v, want invalid", err)
	}
	if err := db.DeletePasskey(ctx, a.ID, k1.ID, false); err != nil {
		t.Fatalf("last passkey without the policy: %v", err)
	}
	if c, _ := db.CountPasskeys(ctx, a.ID); c != 0 {
		t.Fatalf("count after deletion = %d", c)
	}
}

func TestUsePasskeyCounterAndBackupState(t *testing.T) {
	ctx := context.Background()
	db, a, _ := passkeyFixture(t)
	k := &Passkey{UserID: a.ID, CredentialID: []byte("c"), PublicKey: []byte("p"), SignCount: 5, BackupEligible: true}
	if err := db.AddPasskey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.UsePasskey(ctx, k.ID, 6, true); err != nil {
		t.Fatal(err)
	}
	got, _ := db.UserPasskey(ctx, a.ID, k.ID)
	if got.SignCount != 6 || !got.BackupState || got.LastUsedAt == 0 {
		t.Fatalf("after use: %+v", got)
	}
	for _, c := range []uint32{6, 4} {
		if err := db.UsePasskey(ctx, k.ID, c, false); !errors.Is(err, ErrSignCountRegressed) {
			t.Fatalf("counter %d after 6: err = %v, want regression", c, err)
		}
	}
	// An authenticator without a counter (0) is accepted and the stored value kept.
	if err := db.UsePasskey(ctx, k.ID, 0, false); err != nil {
		t.Fatal(err)
	}
	got, _ = db.UserPasskey(ctx, a.ID, k.ID)
	if got.SignCount != 6 || got.BackupState {
		t.Fatalf("after a zero counter: count %d backup %v", got.SignCount, got.BackupState)
	}
}

func TestCeremonySingleUseAndExpiry(t *testing.T) {
	ctx := context.Background()
	db, a, _ := passkeyFixture(t)
	if err := db.StartCeremony(ctx, "sess-1", CeremonyRegister, a.ID, []byte(`{"challenge":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.TakeCeremony(ctx, "sess-2", CeremonyRegister); ErrorCode(err) != CodeNotFound {
		t.Fatalf("another owner's ceremony: %v", err)
	}
	uid, data, err := db.TakeCeremony(ctx, "sess-1", CeremonyRegister)
	if err != nil || uid != a.ID || string(data) != `{"challenge":"x"}` {
		t.Fatalf("take = %d %q %v", uid, data, err)
	}
	if _, _, err := db.TakeCeremony(ctx, "sess-1", CeremonyRegister); ErrorCode(err) != CodeNotFound {
		t.Fatalf("replayed ceremony: %v", err)
	}
	// A new ceremony replaces the owner's previous one.
	db.StartCeremony(ctx, "sess-1", CeremonyRegister, a.ID, []byte(`{"challenge":"old"}`))
	db.StartCeremony(ctx, "sess-1", CeremonyLogin, 0, []byte(`{"challenge":"new"}`))
	if _, _, err := db.TakeCeremony(ctx, "sess-1", CeremonyRegister); ErrorCode(err) != CodeNotFound {
		t.Fatalf("replaced ceremony still usable: %v", err)
	}
	// The failed take consumed the new one too.
	if _, _, err := db.TakeCeremony(ctx, "sess-1", CeremonyLogin); ErrorCode(err) != CodeNotFound {
		t.Fatalf("ceremony reused after a failed take: %v", err)
	}
	db.StartCeremony(ctx, "sess-1", CeremonyLogin, 0, []byte(`{}`))
	db.Exec(`UPDATE webauthn_ceremonies SET expires_at = ? WHERE session_id = 'sess-1'`, NowMs()-1)
	if _, _, err := db.TakeCeremony(ctx, "sess-1", CeremonyLogin); ErrorCode(err) != CodeNotFound {
		t.Fatalf("expired ceremony: %v", err)
	}
}

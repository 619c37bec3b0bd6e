package models

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// CountPasskeys returns how many passkeys a user has registered.
func (db *DB) CountPasskeys(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM passkeys WHERE user_id = ?`, userID).Scan(&n)
	return n, err
}

// EnrolLinkLifetime is how long a passkey enrolment link stays valid.
const EnrolLinkLifetime = 24 * time.Hour

// CreateEnrolLink makes a single-use link token letting a user register a
// passkey without signing in; only its hash is stored.
func (db *DB) CreateEnrolLink(ctx context.Context, userID int64) (string, error) {
	token, err := randomToken(32)
	if err != nil {
		return "", err
	}
	now := NowMs()
	_, err = db.ExecContext(ctx, `INSERT INTO enrol_links (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		HashToken(token), userID, now, now+EnrolLinkLifetime.Milliseconds())
	return token, err
}

// UseEnrolLink consumes a link token: it returns the user it admits, or a
// not-found error when the token is unknown, used or expired.
func (db *DB) UseEnrolLink(ctx context.Context, token string) (*User, error) {
	var userID int64
	err := db.QueryRowContext(ctx, `UPDATE enrol_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
		NowMs(), HashToken(token), NowMs()).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NotFound("This enrolment link is not valid: it was used already or has expired.")
	}
	if err != nil {
		return nil, err
	}
	return db.UserByID(ctx, userID)
}

// Passkey is a registered WebAuthn credential of a user.
type Passkey struct {
	ID              int64
	UserID          int64
	CredentialID    []byte
	PublicKey       []byte // COSE key
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	BackupEligible  bool
	BackupState     bool
	Transports      []string
	Name            string
	CreatedAt       int64 // unix ms
	LastUsedAt      int64 // unix ms, 0 = never
}

// MaxPasskeyName is the longest passkey name accepted (in characters).
const MaxPasskeyName = 64

const passkeyCols = `id, user_id, credential_id, public_key, attestation_type, aaguid, sign_count, backup_eligible, backup_state, transports, name, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }) (*Passkey, error) {
	var p Passkey
	var transports string
	var lastUsed sql.NullInt64
	var count int64
	if err := row.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AttestationType, &p.AAGUID, &count,
		&p.BackupEligible, &p.BackupState, &transports, &p.Name, &p.CreatedAt, &lastUsed); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, NotFound("There is no such passkey.")
		}
		return nil, err
	}
	p.SignCount = uint32(count)
	p.LastUsedAt = lastUsed.Int64
	_ = json.Unmarshal([]byte(transports), &p.Transports)
	return &p, nil
}

// ListPasskeys returns a user's passkeys, oldest first.
func (db *DB) ListPasskeys(ctx context.Context, userID int64) ([]*Passkey, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UserPasskey loads one passkey of a user; another user's passkey is not found.
func (db *DB) UserPasskey(ctx context.Context, userID, id int64) (*Passkey, error) {
	return scanPasskey(db.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE id = ? AND user_id = ?`, id, userID))
}

// AddPasskey stores a newly registered passkey; an empty name is replaced by
// the provider's name from the AAGUID. It fills p.ID and p.CreatedAt.
func (db *DB) AddPasskey(ctx context.Context, p *Passkey) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		p.Name = PasskeyProviderName(p.AAGUID)
	}
	if p.Transports == nil {
		p.Transports = []string{}
	}
	transports, _ := json.Marshal(p.Transports)
	p.CreatedAt = NowMs()
	res, err := db.ExecContext(ctx, `INSERT INTO passkeys (user_id, credential_id, public_key, attestation_type, aaguid, sign_count,
		backup_eligible, backup_state, transports, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.UserID, p.CredentialID, p.PublicKey, p.AttestationType, p.AAGUID, int64(p.SignCount),
		boolInt(p.BackupEligible), boolInt(p.BackupState), string(transports), p.Name, p.CreatedAt)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return Conflict("This passkey is registered already.")
		}
		return err
	}
	p.ID, err = res.LastInsertId()
	return err
}

// RenamePasskey gives one of the user's passkeys a new name (1 to 64
// characters).
func (db *DB) RenamePasskey(ctx context.Context, userID, id int64, name string) error {
	// Another user's passkey is not found, whatever the name.
	if _, err := db.UserPasskey(ctx, userID, id); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return InvalidField("name", "Give the passkey a name.")
	}
	if utf8.RuneCountInString(name) > MaxPasskeyName {
		return InvalidField("name", "The name is too long (64 characters at most).")
	}
	res, err := db.ExecContext(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return NotFound("There is no such passkey.")
	}
	return nil
}

// DeletePasskey removes one of the user's passkeys and ends every session of
// the user, in one transaction. With keepOne (the org requires the user to
// sign in with a passkey) the last passkey cannot be deleted.
func (db *DB) DeletePasskey(ctx context.Context, userID, id int64, keepOne bool) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM passkeys WHERE id = ? AND user_id = ?`, id, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return NotFound("There is no such passkey.")
		}
		if keepOne {
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM passkeys WHERE user_id = ?`, userID).Scan(&n); err != nil {
				return err
			}
			if n <= 1 {
				return Invalid("You cannot delete your last passkey: administrators of this organization sign in with a passkey. Register another one first.")
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
}

// ErrSignCountRegressed is returned by UsePasskey when the authenticator's
// signature counter did not advance: the credential may have been cloned.
var ErrSignCountRegressed = &Error{Code: CodeConflict, Message: "This passkey cannot be used: its signature counter went backwards."}

// UsePasskey records a successful sign-in with a passkey: it checks and stores
// the signature counter (refusing one that did not advance when both the
// stored and the new value are non-zero), the backup state and the time.
func (db *DB) UsePasskey(ctx context.Context, id int64, signCount uint32, backupState bool) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		var stored int64
		if err := tx.QueryRowContext(ctx, `SELECT sign_count FROM passkeys WHERE id = ?`, id).Scan(&stored); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return NotFound("There is no such passkey.")
			}
			return err
		}
		count := int64(signCount)
		if count != 0 && stored != 0 && count <= stored {
			return ErrSignCountRegressed
		}
		_, err := tx.ExecContext(ctx, `UPDATE passkeys SET sign_count = max(sign_count, ?), backup_state = ?, last_used_at = ? WHERE id = ?`,
			count, boolInt(backupState), NowMs(), id)
		return err
	})
}

// Ceremony kinds of webauthn_ceremonies.
const (
	CeremonyRegister = "register"
	CeremonyLogin    = "login"
)

// CeremonyLifetime is how long a WebAuthn ceremony may take.
const CeremonyLifetime = 5 * time.Minute

// StartCeremony stores the state of a WebAuthn ceremony for its owner — a
// session id, or an anonymous visitor's key (handlers/anonymous.go) — and
// drops the owner's earlier ceremonies and every expired one.
func (db *DB) StartCeremony(ctx context.Context, owner, kind string, userID int64, data []byte) error {
	id, err := randomToken(24)
	if err != nil {
		return err
	}
	var uid any
	if userID != 0 {
		uid = userID
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE session_id = ? OR expires_at < ?`, owner, NowMs()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (id, session_id, kind, user_id, data, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, owner, kind, uid, string(data), NowMs()+CeremonyLifetime.Milliseconds())
		return err
	})
}

// TakeCeremony consumes the owner's ceremony: it is deleted whatever the
// outcome, and returned only when it is of the kind asked and has not expired.
func (db *DB) TakeCeremony(ctx context.Context, owner, kind string) (userID int64, data []byte, err error) {
	var k, d string
	var uid sql.NullInt64
	var expires int64
	err = db.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE session_id = ? RETURNING kind, user_id, data, expires_at`, owner).
		Scan(&k, &uid, &d, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (k != kind || expires < NowMs())) {
		return 0, nil, NotFound("The passkey request expired. Try again.")
	}
	if err != nil {
		return 0, nil, err
	}
	return uid.Int64, []byte(d), nil
}

// passkeyProviders names well-known passkey providers by AAGUID, for the
// default name of a new passkey.
var passkeyProviders = map[string]string{
	"fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain",
	"dd4ec289-e01d-41c9-bb89-70fa845d4bf2": "iCloud Keychain",
	"ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
	"adce0002-35bc-c60a-648b-0b25f1f05503": "Chrome on Mac",
	"08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
	"9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
	"6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
	"bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
	"d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
	"531126d6-e717-415c-9320-3d9aa6981239": "Dashlane",
	"53414d53-554e-4700-0000-000000000000": "Samsung Pass",
	"771b48fd-d3d4-4f74-9232-fc157ab0507a": "Microsoft Password Manager",
	"fdb141b2-5d84-443e-8a35-4698c205a502": "KeePassXC",
	"50726f74-6f6e-5061-7373-50726f746f6e": "Proton Pass",
	"cb69481e-8ff7-4039-93ec-0a2729a154a8": "YubiKey 5 Series",
	"ee882879-721c-4913-9775-3dfcce97072a": "YubiKey 5 Series",
	"fa2b99dc-9e39-4257-8f92-4a30d23c4118": "YubiKey 5 Series",
	"2fc0579f-8113-47ea-b116-bb5a8db9202a": "YubiKey 5 Series",
}

// PasskeyProviderName names the provider of an AAGUID, or "Passkey" when the
// AAGUID is unknown or absent.
func PasskeyProviderName(aaguid []byte) string {
	if len(aaguid) == 16 {
		h := hex.EncodeToString(aaguid)
		if name, ok := passkeyProviders[h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:]]; ok {
			return name
		}
	}
	return "Passkey"
}

// PasskeyPolicyCovers reports whether the passkey policy covers u anywhere:
// u administers an org whose policy is on, or u is a superuser and some org
// has it on. Such a user's password session may only enrol a first passkey.
func (db *DB) PasskeyPolicyCovers(ctx context.Context, u *User) (bool, error) {
	var covered bool
	err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM orgs o WHERE o.admin_passkeys = 1 AND (? OR EXISTS
		(SELECT 1 FROM org_members m WHERE m.org_id = o.id AND m.user_id = ? AND m.role = ?)))`, u.IsSuperuser, u.ID, RoleAdmin).Scan(&covered)
	return covered, err
}

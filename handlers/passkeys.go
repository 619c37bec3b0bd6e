package handlers

import (
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"tracpro/models"
)

// passkeyUser adapts a user and their passkeys to go-webauthn: the user
// handle is the stable random users.webauthn_handle, never the id or email.
type passkeyUser struct {
	u    *models.User
	keys []*models.Passkey
}

func (p *passkeyUser) WebAuthnID() []byte          { return p.u.Handle }
func (p *passkeyUser) WebAuthnName() string        { return p.u.Email }
func (p *passkeyUser) WebAuthnDisplayName() string { return p.u.FullName }

func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(p.keys))
	for _, k := range p.keys {
		flags := protocol.FlagUserPresent | protocol.FlagUserVerified
		if k.BackupEligible {
			flags |= protocol.FlagBackupEligible
		}
		if k.BackupState {
			flags |= protocol.FlagBackupState
		}
		transports := make([]protocol.AuthenticatorTransport, 0, len(k.Transports))
		for _, t := range k.Transports {
			transports = append(transports, protocol.AuthenticatorTransport(t))
		}
		out = append(out, webauthn.Credential{
			ID:              k.CredentialID,
			PublicKey:       k.PublicKey,
			AttestationType: k.AttestationType,
			Transport:       transports,
			Flags:           webauthn.NewCredentialFlags(flags),
			Authenticator:   webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
		})
	}
	return out
}

// key returns the stored passkey of a credential id (nil when none).
func (p *passkeyUser) key(credentialID []byte) *models.Passkey {
	for _, k := range p.keys {
		if string(k.CredentialID) == string(credentialID) {
			return k
		}
	}
	return nil
}

// loadPasskeyUser loads a user with their passkeys.
func (h *Handlers) loadPasskeyUser(c *fiber.Ctx, u *models.User) (*passkeyUser, error) {
	keys, err := h.DB.ListPasskeys(c.UserContext(), u.ID)
	if err != nil {
		return nil, err
	}
	return &passkeyUser{u: u, keys: keys}, nil
}

// relyingParty builds the WebAuthn relying party of the request. The RP ID is
// TRACPRO_DOMAIN on it and every org's subdomain of it, so one passkey signs
// its owner in on every host they use (the passkey policy covers an account
// on every host); elsewhere it is the host without its port. The origin is
// the request's scheme and host.
func (h *Handlers) relyingParty(c *fiber.Ctx) (*webauthn.WebAuthn, error) {
	host := c.Hostname()
	rpID := requestHost(c)
	if d := strings.ToLower(h.Domain); d != "" && (rpID == d || strings.HasSuffix(rpID, "."+d)) {
		rpID = d
	}
	scheme := c.Protocol()
	if h.Secure {
		scheme = "https"
	}
	return webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: "TracPro",
		RPOrigins:     []string{scheme + "://" + host},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
	})
}

// passkeyJSONError answers a ceremony endpoint with {"error": message}.
func passkeyJSONError(c *fiber.Ctx, status int, message string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(fiber.Map{"error": message})
}

// passkeyBegin stores the ceremony state server-side for its owner (the
// session, or the anonymous visitor's cookie) and answers the options for
// navigator.credentials.
func (h *Handlers) passkeyBegin(c *fiber.Ctx, kind string, userID int64, session *webauthn.SessionData, options any) error {
	data, err := json.Marshal(session)
	if err != nil {
		return err
	}
	if err := h.DB.StartCeremony(c.UserContext(), ceremonyOwner(getRC(c)), kind, userID, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(options)
}

// passkeyTake consumes the owner's ceremony of kind (single use: a replay
// or an expired ceremony is refused).
func (h *Handlers) passkeyTake(c *fiber.Ctx, kind string) (int64, *webauthn.SessionData, error) {
	userID, data, err := h.DB.TakeCeremony(c.UserContext(), ceremonyOwner(getRC(c)), kind)
	if err != nil {
		return 0, nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(data, &sd); err != nil {
		return 0, nil, err
	}
	return userID, &sd, nil
}

// passkeyRegistrant is who may register a passkey now: the user an
// enrolment link admitted in this session (enrol = true), or the signed-in
// user — whose session must be a passkey session once the account has a
// passkey (a password alone never adds a key to an account that has one).
func (h *Handlers) passkeyRegistrant(c *fiber.Ctx, wantEnrol bool) (u *models.User, enrol bool, err error) {
	rc := getRC(c)
	if wantEnrol && rc.sess != nil && rc.sess.Data.EnrolUser != 0 {
		u, err := h.DB.UserByID(c.UserContext(), rc.sess.Data.EnrolUser)
		if err != nil || !u.IsActive {
			return nil, false, models.NotFound("This enrolment link is not valid: it was used already or has expired.")
		}
		return u, true, nil
	}
	if rc.user == nil {
		return nil, false, &models.Error{Code: models.CodeForbidden, Message: "Sign in to register a passkey."}
	}
	if !rc.sess.Strong() {
		n, err := h.DB.CountPasskeys(c.UserContext(), rc.user.ID)
		if err != nil {
			return nil, false, err
		}
		if n > 0 {
			return nil, false, &models.Error{Code: models.CodeForbidden, Message: "Sign in with one of your passkeys to add another."}
		}
	}
	return rc.user, false, nil
}

// passkeyRegisterBegin starts registering a passkey (user verification and a
// discoverable credential required); ?enrol=1 registers for the user an
// enrolment link admitted.
func (h *Handlers) passkeyRegisterBegin(c *fiber.Ctx) error {
	rc := getRC(c)
	u, _, err := h.passkeyRegistrant(c, c.Query("enrol") == "1")
	if err != nil {
		return h.passkeyFail(c, err)
	}
	wa, err := h.relyingParty(c)
	if err != nil {
		return passkeyJSONError(c, fiber.StatusBadRequest, rc.cat.T("Passkeys need the site's domain name, not an IP address."))
	}
	pu, err := h.loadPasskeyUser(c, u)
	if err != nil {
		return err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(pu.keys))
	for _, cred := range pu.WebAuthnCredentials() {
		exclude = append(exclude, cred.Descriptor())
	}
	options, session, err := wa.BeginRegistration(pu, webauthn.WithExclusions(exclude))
	if err != nil {
		return err
	}
	return h.passkeyBegin(c, models.CeremonyRegister, u.ID, session, options)
}

// passkeyRegisterFinish verifies the new credential and stores it. Through an
// enrolment link it also signs the user in.
func (h *Handlers) passkeyRegisterFinish(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	userID, session, err := h.passkeyTake(c, models.CeremonyRegister)
	if err != nil {
		return h.passkeyFail(c, err)
	}
	// Whoever began the ceremony must still be allowed to register now.
	u, enrol, err := h.passkeyRegistrant(c, rc.sess != nil && rc.sess.Data.EnrolUser == userID)
	if err != nil {
		return h.passkeyFail(c, err)
	}
	if u.ID != userID {
		return passkeyJSONError(c, fiber.StatusForbidden, rc.cat.T("Sign in to register a passkey."))
	}
	wa, err := h.relyingParty(c)
	if err != nil {
		return passkeyJSONError(c, fiber.StatusBadRequest, rc.cat.T("Passkeys need the site's domain name, not an IP address."))
	}
	pu, err := h.loadPasskeyUser(c, u)
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(c.Body())
	if err != nil {
		return passkeyJSONError(c, fiber.StatusBadRequest, rc.cat.T("The passkey could not be registered. Try again."))
	}
	cred, err := wa.CreateCredential(pu, *session, parsed)
	if err != nil || !cred.Flags.UserVerified {
		h.Log.Info("passkey registration refused", "user_id", u.ID)
		return passkeyJSONError(c, fiber.StatusBadRequest, rc.cat.T("The passkey could not be registered. Try again."))
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	key := &models.Passkey{
		UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey, AttestationType: cred.AttestationType,
		AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Transports: transports,
	}
	if err := h.DB.AddPasskey(ctx, key); err != nil {
		return h.passkeyFail(c, err)
	}
	// Through an enrolment link the new passkey signs the user in; a password
	// session that registered the account's first passkey becomes a passkey
	// session (the policy would end a password session now).
	to := "/passkeys/"
	switch {
	case enrol:
		if err := h.startSession(c, u, models.AuthEnrol); err != nil {
			return err
		}
		to = "/"
	case rc.sess == nil || !rc.sess.Strong():
		if err := h.startSession(c, u, models.AuthPasskey); err != nil {
			return err
		}
	}
	flash(c, "success", rc.cat.T("Passkey registered: %s.", key.Name))
	return c.JSON(fiber.Map{"redirect": to})
}

// passkeyLoginBegin starts a discoverable sign-in (the browser offers the
// passkeys of this site; the user handle says whose it is).
func (h *Handlers) passkeyLoginBegin(c *fiber.Ctx) error {
	rc := getRC(c)
	wa, err := h.relyingParty(c)
	if err != nil {
		return passkeyJSONError(c, fiber.StatusBadRequest, rc.cat.T("Passkeys need the site's domain name, not an IP address."))
	}
	options, session, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return err
	}
	return h.passkeyBegin(c, models.CeremonyLogin, 0, session, options)
}

// passkeyLoginFinish verifies an assertion (user verification required,
// signature counter checked, backup state stored) and signs the user in.
// Failures count towards the per-address sign-in throttle.
func (h *Handlers) passkeyLoginFinish(c *fiber.Ctx) error {
	rc := getRC(c)
	ctx := c.UserContext()
	ipKey := "ip:" + h.clientIP(c)
	wait, err := h.DB.LoginWait(ctx, ipKey)
	if err != nil {
		return err
	}
	if wait > 0 {
		return passkeyJSONError(c, fiber.StatusTooManyRequests, rc.cat.T("Too many attempts. Try again in %s.", roundWait(rc.cat, wait)))
	}
	refuse := func(status int, msg string) error {
		if _, err := h.DB.RecordLoginFailure(ctx, ipKey); err != nil {
			return err
		}
		return passkeyJSONError(c, status, msg)
	}
	failed := rc.cat.T("This passkey could not sign you in.")
	_, session, err := h.passkeyTake(c, models.CeremonyLogin)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return refuse(fiber.StatusBadRequest, rc.cat.T("The passkey request expired. Try again."))
		}
		return err
	}
	wa, err := h.relyingParty(c)
	if err != nil {
		return passkeyJSONError(c, fiber.StatusBadRequest, rc.cat.T("Passkeys need the site's domain name, not an IP address."))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(c.Body())
	if err != nil {
		return refuse(fiber.StatusBadRequest, failed)
	}
	var pu *passkeyUser
	lookup := func(rawID, handle []byte) (webauthn.User, error) {
		u, err := h.DB.UserByHandle(ctx, handle)
		if err != nil {
			return nil, err
		}
		if !u.IsActive {
			return nil, errors.New("inactive user")
		}
		if pu, err = h.loadPasskeyUser(c, u); err != nil {
			return nil, err
		}
		return pu, nil
	}
	cred, err := wa.ValidateDiscoverableLogin(lookup, *session, parsed)
	if err != nil || pu == nil || !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		return refuse(fiber.StatusUnauthorized, failed)
	}
	key := pu.key(cred.ID)
	if key == nil {
		return refuse(fiber.StatusUnauthorized, failed)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if err := h.DB.UsePasskey(ctx, key.ID, parsed.Response.AuthenticatorData.Counter, flags.HasBackupState()); err != nil {
		if errors.Is(err, models.ErrSignCountRegressed) {
			h.Log.Warn("passkey sign counter went backwards; possible cloned authenticator",
				"user_id", pu.u.ID, "passkey_id", key.ID, "stored", key.SignCount, "received", parsed.Response.AuthenticatorData.Counter)
			return refuse(fiber.StatusUnauthorized, failed)
		}
		return err
	}
	if err := h.DB.ClearLoginFailures(ctx, ipKey); err != nil {
		return err
	}
	if err := h.startSession(c, pu.u, models.AuthPasskey); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"redirect": safeNext(c.Query("next"))})
}

// passkeyFail answers an application error of a ceremony endpoint as JSON.
func (h *Handlers) passkeyFail(c *fiber.Ctx, err error) error {
	var e *models.Error
	if !asAppError(err, &e) {
		return err
	}
	status := fiber.StatusBadRequest
	switch e.Code {
	case models.CodeForbidden:
		status = fiber.StatusForbidden
	case models.CodeConflict:
		status = fiber.StatusConflict
	}
	return passkeyJSONError(c, status, getRC(c).cat.T(e.Message))
}

// passkeysData is what the management page shows.
type passkeysData struct {
	Passkeys      []*models.Passkey
	PolicyApplies bool
	// OnIP is the IP address the page was opened on (browsers refuse
	// passkeys there), and Localhost the same page on localhost when that
	// address is the machine's own.
	OnIP, Localhost string
}

// passkeysPage renders the management page with a status (200 or 422).
func (h *Handlers) passkeysPage(c *fiber.Ctx, status int, errs map[string]string) error {
	rc := getRC(c)
	keys, err := h.DB.ListPasskeys(c.UserContext(), rc.user.ID)
	if err != nil {
		return err
	}
	covered, err := h.DB.PasskeyPolicyCovers(c.UserContext(), rc.user)
	if err != nil {
		return err
	}
	d := passkeysData{Passkeys: keys, PolicyApplies: covered}
	if ip := net.ParseIP(rc.host); ip != nil {
		d.OnIP = rc.host
		if ip.IsLoopback() || ip.IsUnspecified() {
			port := ""
			if _, p, err := net.SplitHostPort(c.Hostname()); err == nil {
				port = ":" + p
			}
			d.Localhost = c.Protocol() + "://localhost" + port + "/passkeys/"
		}
	}
	p := h.page(c, rc.cat.T("Passkeys"), d)
	p.Errors = errs
	return h.render(c, status, "passkeys/index", p)
}

// passkeyIndex lists the user's passkeys with rename, delete and register.
func (h *Handlers) passkeyIndex(c *fiber.Ctx) error {
	return h.passkeysPage(c, fiber.StatusOK, nil)
}

// passkeyID reads the :id of the URL; anything else is not found.
func passkeyID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// passkeyRename renames one of the user's passkeys (another user's: 404).
func (h *Handlers) passkeyRename(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := passkeyID(c)
	if err != nil {
		return err
	}
	err = h.DB.RenamePasskey(c.UserContext(), rc.user.ID, id, c.FormValue("name"))
	switch models.ErrorCode(err) {
	case "":
		if err != nil {
			return err
		}
	case models.CodeNotFound:
		return fiber.ErrNotFound
	default:
		return h.passkeysPage(c, fiber.StatusUnprocessableEntity, fieldErrors(rc, err))
	}
	flash(c, "success", rc.cat.T("The passkey was renamed."))
	return redirect(c, "/passkeys/")
}

// passkeyDelete removes one of the user's passkeys (another user's: 404). The
// last passkey of an account the org policy covers stays (422). Every session
// of the user ends; this browser is signed in again with a fresh session.
func (h *Handlers) passkeyDelete(c *fiber.Ctx) error {
	rc := getRC(c)
	id, err := passkeyID(c)
	if err != nil {
		return err
	}
	covered, err := h.DB.PasskeyPolicyCovers(c.UserContext(), rc.user)
	if err != nil {
		return err
	}
	err = h.DB.DeletePasskey(c.UserContext(), rc.user.ID, id, covered)
	switch models.ErrorCode(err) {
	case "":
		if err != nil {
			return err
		}
	case models.CodeNotFound:
		return fiber.ErrNotFound
	default:
		return h.passkeysPage(c, fiber.StatusUnprocessableEntity, fieldErrors(rc, err))
	}
	if err := h.startSession(c, rc.user, rc.sess.Method); err != nil {
		return err
	}
	flash(c, "success", rc.cat.T("The passkey was deleted. You were signed out everywhere else."))
	return redirect(c, "/passkeys/")
}

// passkeyEnrol consumes a single-use enrolment link and shows the page to
// register a passkey for the user it admits; a used, expired or unknown link
// gets 410.
func (h *Handlers) passkeyEnrol(c *fiber.Ctx) error {
	rc := getRC(c)
	u, err := h.DB.UseEnrolLink(c.UserContext(), c.Params("token"))
	if err == nil && !u.IsActive {
		err = models.NotFound("inactive user")
	}
	if err != nil {
		if models.ErrorCode(err) != models.CodeNotFound {
			return err
		}
		return h.render(c, fiber.StatusGone, "passkeys/enrol", h.page(c, rc.cat.T("Register a passkey"), fiber.Map{"Invalid": true}))
	}
	if err := h.ensureSession(c); err != nil {
		return err
	}
	rc.sess.Data.EnrolUser = u.ID
	rc.dirty = true
	return h.render(c, fiber.StatusOK, "passkeys/enrol", h.page(c, rc.cat.T("Register a passkey"), fiber.Map{"Name": u.FullName}))
}

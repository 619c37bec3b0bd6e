-- 0020_session_binding: a session records how it was authenticated and the host (and org) it was made on
-- (issue 12). A password session of an account the passkey policy covers may only enrol a passkey; a session
-- made on one host is refused on every other. Sessions from before this migration carry neither, so they are
-- dropped: everyone signs in once more (their WebAuthn ceremonies, five-minute state, go with them).
DELETE FROM webauthn_ceremonies;
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN auth_method TEXT NOT NULL DEFAULT ''
    CHECK (auth_method IN ('', 'password', 'passkey', 'enrol'));                -- '' = anonymous (an enrolment link's admission)
ALTER TABLE sessions ADD COLUMN host TEXT NOT NULL DEFAULT '';                  -- lower-case host name, no port
ALTER TABLE sessions ADD COLUMN org_id INTEGER REFERENCES orgs (id) ON DELETE CASCADE; -- org the host served; NULL = none

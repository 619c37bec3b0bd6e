-- 0002_access: sign-in state — server-side sessions, sign-in throttling,
-- single-use passkey enrolment links, WebAuthn ceremony state, background tasks.

CREATE TABLE sessions (
    id           TEXT    PRIMARY KEY,                             -- SHA-256 of the cookie token, hex
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE, -- NULL before sign-in
    csrf_token   TEXT    NOT NULL,
    data         TEXT    NOT NULL DEFAULT '{}',                  -- JSON: selected panel per org, sub-panel toggle, language, flash
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins per key ("email:<addr>" or "ip:<addr>"), for growing delays.
CREATE TABLE login_failures (
    key        TEXT    PRIMARY KEY,
    failures   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Single-use links to register a passkey (operator recovery, new administrators).
CREATE TABLE enrol_links (
    token_hash TEXT    PRIMARY KEY,                                -- SHA-256 of the token, hex
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;

-- WebAuthn ceremony state: server-side, single-use, short-lived.
CREATE TABLE webauthn_ceremonies (
    id         TEXT    PRIMARY KEY,                                -- random id kept in the session
    session_id TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('register', 'login')),
    user_id    INTEGER,
    data       TEXT    NOT NULL,                                   -- go-webauthn SessionData JSON
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Background tasks started from the web (e.g. fetch past runs) with progress.
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    params      TEXT    NOT NULL DEFAULT '{}',
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    progress    INTEGER NOT NULL DEFAULT 0,                        -- 0..100
    message     TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX tasks_org ON tasks (org_id, created_at);

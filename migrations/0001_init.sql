-- 0001_init: the whole data model of SPEC §1, the outbox, sync state and history.
-- Times are INTEGER unix milliseconds UTC; org-calendar days are TEXT 'YYYY-MM-DD'.

CREATE TABLE orgs (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL,
    subdomain        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    timezone         TEXT    NOT NULL DEFAULT 'UTC',
    language         TEXT    NOT NULL DEFAULT 'en',
    languages        TEXT    NOT NULL DEFAULT '["en"]',           -- JSON list of available UI languages
    rapidpro_url     TEXT    NOT NULL,
    api_token        TEXT    NOT NULL,
    sameday          TEXT    NOT NULL DEFAULT 'use_last' CHECK (sameday IN ('use_last', 'sum')),
    show_spoof_data  INTEGER NOT NULL DEFAULT 0,
    google_analytics TEXT    NOT NULL DEFAULT '',
    logo             BLOB,
    admin_passkeys   INTEGER NOT NULL DEFAULT 1,                   -- policy: administrators sign in with a passkey
    is_active        INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    email                TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    full_name            TEXT    NOT NULL DEFAULT '',
    password_hash        TEXT    NOT NULL DEFAULT '',
    is_superuser         INTEGER NOT NULL DEFAULT 0,
    is_active            INTEGER NOT NULL DEFAULT 1,
    change_password      INTEGER NOT NULL DEFAULT 0,             -- forced change at next sign-in
    webauthn_handle      BLOB    NOT NULL UNIQUE,                  -- stable random WebAuthn user handle
    language             TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    last_login_at        INTEGER
);

CREATE TABLE org_members (
    org_id  INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT    NOT NULL CHECK (role IN ('administrator', 'supervisor', 'viewer')),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members (user_id);

CREATE TABLE passkeys (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id    BLOB    NOT NULL UNIQUE,
    public_key       BLOB    NOT NULL,
    attestation_type TEXT    NOT NULL DEFAULT '',
    aaguid           BLOB,
    sign_count       INTEGER NOT NULL DEFAULT 0,
    backup_eligible  INTEGER NOT NULL DEFAULT 0,
    backup_state     INTEGER NOT NULL DEFAULT 0,
    transports       TEXT    NOT NULL DEFAULT '[]',
    name             TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- Boundaries pulled from RapidPro (osm_id), GeoJSON geometry.
CREATE TABLE boundaries (
    id        INTEGER PRIMARY KEY,
    org_id    INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    osm_id    TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    level     INTEGER NOT NULL,
    parent_id INTEGER REFERENCES boundaries (id) ON DELETE SET NULL,
    geometry  TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (org_id, osm_id)
);

-- Every RapidPro group as last pulled (admins choose panels and cohorts among them).
CREATE TABLE rapidpro_groups (
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uuid       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    query      TEXT,
    count      INTEGER NOT NULL DEFAULT 0,
    is_present INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, uuid)
);

-- Panels (SPEC "Region"): tracked regional groups, a tree.
CREATE TABLE regions (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uuid        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    is_active   INTEGER NOT NULL DEFAULT 1,
    parent_id   INTEGER REFERENCES regions (id) ON DELETE SET NULL,
    boundary_id INTEGER REFERENCES boundaries (id) ON DELETE SET NULL,
    UNIQUE (org_id, uuid)
);
CREATE INDEX regions_parent ON regions (parent_id);

-- Supervisor <-> panel assignments (direct access; descendants implied).
CREATE TABLE user_regions (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    region_id INTEGER NOT NULL REFERENCES regions (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, region_id)
);
CREATE INDEX user_regions_region ON user_regions (region_id);

-- Cohorts (SPEC "Group", reporter groups).
CREATE TABLE cohorts (
    id        INTEGER PRIMARY KEY,
    org_id    INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uuid      TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, uuid)
);

CREATE TABLE contacts (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uuid              TEXT    NOT NULL,
    name              TEXT    NOT NULL DEFAULT '',
    urn               TEXT    NOT NULL DEFAULT '',
    region_id         INTEGER REFERENCES regions (id) ON DELETE SET NULL,
    language          TEXT    NOT NULL DEFAULT '',
    is_active         INTEGER NOT NULL DEFAULT 1,
    created_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_on        INTEGER NOT NULL,
    modified_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    modified_on       INTEGER NOT NULL,
    temba_modified_on INTEGER,                                     -- RapidPro modified_on last applied
    UNIQUE (org_id, uuid)
);
CREATE INDEX contacts_region ON contacts (org_id, region_id, is_active);
CREATE INDEX contacts_urn ON contacts (org_id, urn);

-- Contact membership of cohorts (may include inactive cohorts).
CREATE TABLE contact_cohorts (
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    cohort_id  INTEGER NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, cohort_id)
);
CREATE INDEX contact_cohorts_cohort ON contact_cohorts (cohort_id, contact_id);

CREATE TABLE data_fields (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    key             TEXT    NOT NULL,
    label           TEXT    NOT NULL DEFAULT '',
    value_type      TEXT    NOT NULL DEFAULT 'T' CHECK (value_type IN ('T', 'N', 'D', 'S', 'I', 'W')),
    show_on_tracpro INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, key)
);

CREATE TABLE contact_fields (
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    field_id   INTEGER NOT NULL REFERENCES data_fields (id) ON DELETE CASCADE,
    value      TEXT,
    PRIMARY KEY (contact_id, field_id)
) WITHOUT ROWID;
CREATE INDEX contact_fields_field ON contact_fields (field_id, value);

-- Polls (RapidPro flows). is_active = tracked ("show on TracPro");
-- in_rapidpro = 0 once the flow disappeared (kept with its history).
CREATE TABLE polls (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    flow_uuid     TEXT    NOT NULL,
    rapidpro_name TEXT    NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',                     -- override; '' means use rapidpro_name
    is_active     INTEGER NOT NULL DEFAULT 0,
    in_rapidpro   INTEGER NOT NULL DEFAULT 1,
    is_archived   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, flow_uuid)
);

CREATE TABLE questions (
    id            INTEGER PRIMARY KEY,
    poll_id       INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    ruleset_uuid  TEXT    NOT NULL,                                -- router node uuid
    result_key    TEXT    NOT NULL DEFAULT '',
    rapidpro_name TEXT    NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    question_type TEXT    NOT NULL DEFAULT 'O' CHECK (question_type IN ('O', 'C', 'N', 'M', 'K', 'R')),
    type_set      INTEGER NOT NULL DEFAULT 0,                      -- 1 once an admin chose the type
    display_order INTEGER NOT NULL DEFAULT 0,
    is_active     INTEGER NOT NULL DEFAULT 1,
    in_rapidpro   INTEGER NOT NULL DEFAULT 1,
    json_rules    TEXT    NOT NULL DEFAULT '[]',
    categories    TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (poll_id, ruleset_uuid)
);
CREATE INDEX questions_key ON questions (poll_id, result_key);

-- Poll runs: u universal, s spoofed, r regional, p propagated.
CREATE TABLE pollruns (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    poll_id      INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    pollrun_type TEXT    NOT NULL CHECK (pollrun_type IN ('u', 's', 'r', 'p')),
    region_id    INTEGER REFERENCES regions (id) ON DELETE SET NULL,
    conducted_on INTEGER NOT NULL,
    local_date   TEXT    NOT NULL,                                 -- org-local day of conducted_on
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX pollruns_universal_day ON pollruns (poll_id, local_date) WHERE pollrun_type = 'u';
CREATE INDEX pollruns_poll ON pollruns (poll_id, conducted_on);
CREATE INDEX pollruns_poll_day ON pollruns (poll_id, local_date);
CREATE INDEX pollruns_org ON pollruns (org_id, conducted_on);
CREATE INDEX pollruns_region ON pollruns (region_id, conducted_on);

-- RapidPro flow starts made by TracPro (batches of 100 contacts) for a poll run.
CREATE TABLE flow_starts (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pollrun_id  INTEGER NOT NULL REFERENCES pollruns (id) ON DELETE CASCADE,
    uuid        TEXT,                                              -- RapidPro start uuid once known
    contacts    INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'pending',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX flow_starts_uuid ON flow_starts (org_id, uuid) WHERE uuid IS NOT NULL;
CREATE INDEX flow_starts_pollrun ON flow_starts (pollrun_id);

-- Responses: one RapidPro run of one contact.
CREATE TABLE responses (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    pollrun_id  INTEGER NOT NULL REFERENCES pollruns (id) ON DELETE CASCADE,
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    run_uuid    TEXT    NOT NULL,                                  -- RapidPro run uuid (or id as text)
    flow_run_id INTEGER,                                           -- legacy integer run id when given
    created_on  INTEGER NOT NULL,
    updated_on  INTEGER NOT NULL,                                  -- latest value time, else run creation
    modified_on INTEGER NOT NULL,                                  -- RapidPro run modified_on last applied
    status      TEXT    NOT NULL CHECK (status IN ('E', 'P', 'C')),
    is_active   INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, run_uuid)
);
-- (poll run, contact) serves participation, the newest-response rule, same-day
-- grouping and a contact's responses (probed poll run by poll run). There is
-- deliberately no index led by contact_id: it would cost a random page write per
-- ingested run.
CREATE INDEX responses_pollrun ON responses (pollrun_id, contact_id, created_on, is_active, status);

-- Answers: one value of a response per question. Keyed by (response, question)
-- without a rowid: one B-tree, appended in response order during ingest. Charts
-- reach answers through responses (by poll run) and this key.
CREATE TABLE answers (
    response_id  INTEGER NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    question_id  INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    value        TEXT    NOT NULL DEFAULT '',
    category     TEXT,                                             -- NULL = open-ended ("All Responses")
    submitted_on INTEGER NOT NULL,
    local_date   TEXT    NOT NULL,                                 -- org-local day of submitted_on
    last_value   TEXT,
    sum_value    TEXT,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

-- Outbound messages about a poll run.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    sent_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    sent_on    INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    pollrun_id INTEGER REFERENCES pollruns (id) ON DELETE CASCADE,
    cohort     TEXT    NOT NULL CHECK (cohort IN ('A', 'R', 'N', 'C')), -- all, respondents, non-respondents, one contact
    region_id  INTEGER REFERENCES regions (id) ON DELETE SET NULL,
    status     TEXT    NOT NULL DEFAULT 'P' CHECK (status IN ('P', 'S', 'F')),
    error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX messages_org ON messages (org_id, sent_on);

CREATE TABLE message_recipients (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX message_recipients_contact ON message_recipients (contact_id);

-- Unsolicited messages mirrored from RapidPro (and replies sent from TracPro).
CREATE TABLE inbox_messages (
    id                  INTEGER PRIMARY KEY,
    org_id              INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    rapidpro_message_id TEXT,
    contact_id          INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    text                TEXT    NOT NULL,
    archived            INTEGER NOT NULL DEFAULT 0,
    created_on          INTEGER NOT NULL,
    delivered_on        INTEGER,
    sent_on             INTEGER,
    direction           TEXT    NOT NULL CHECK (direction IN ('I', 'O')),
    status              TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX inbox_messages_rapidpro ON inbox_messages (org_id, rapidpro_message_id) WHERE rapidpro_message_id IS NOT NULL;
CREATE INDEX inbox_messages_contact ON inbox_messages (contact_id, created_on);

-- Recent indicators (SPEC BaselineTerm).
CREATE TABLE indicators (
    id                    INTEGER PRIMARY KEY,
    org_id                INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name                  TEXT    NOT NULL,
    start_date            TEXT    NOT NULL,
    end_date              TEXT    NOT NULL,
    baseline_poll_id      INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    baseline_question_id  INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    follow_up_poll_id     INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    follow_up_question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    y_axis_title          TEXT    NOT NULL DEFAULT '',
    CHECK (start_date <= end_date),
    CHECK (baseline_question_id <> follow_up_question_id)
);

-- Writes that must reach RapidPro, recorded in the same transaction as the local change.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,                              -- contact_create, contact_update, contact_delete, broadcast, flow_start
    ordering_key    TEXT    NOT NULL DEFAULT '',                   -- delivered in id order per key (e.g. contact:<id>)
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    result          TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_key ON outbox (org_id, ordering_key, id);

-- Incremental sync state per org and resource (scope '' = org-wide, or a flow uuid for backfills).
CREATE TABLE sync_state (
    org_id        INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    resource      TEXT    NOT NULL,
    scope         TEXT    NOT NULL DEFAULT '',
    watermark     INTEGER,                                         -- last completed window end (ms)
    window_after  INTEGER,                                         -- window in progress
    window_before INTEGER,
    cursor        TEXT    NOT NULL DEFAULT '',                     -- next URL of the window in progress
    failures      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL DEFAULT 0,                      -- back-off: no pull before this time
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, resource, scope)
);

-- Every pull: feeds the "data as of" badge, the RapidPro banners and the sync status page.
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    resource    TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'error', 'skipped')),
    items       INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0,
    error_kind  TEXT    NOT NULL DEFAULT '',                       -- token, unavailable, rate_limited, budget, other
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_org ON sync_runs (org_id, resource, started_at);

-- RapidPro API requests per org, throttle scope and hour (the budget meter).
CREATE TABLE api_usage (
    org_id     INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    hour_start INTEGER NOT NULL,
    scope      TEXT    NOT NULL,
    requests   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, hour_start, scope)
) WITHOUT ROWID;

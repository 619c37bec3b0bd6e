-- 0021_cookie_key: the key that signs the cookies which replace stored state for anonymous visitors (issue 12):
-- the sign-in form's CSRF token (a signed double-submit cookie: a visit stores no session row) and the one-time
-- messages shown on the next page (no write when a page shows them). Random per database; a restore keeps it.
CREATE TABLE app_keys (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO app_keys (name, value) VALUES ('cookie', randomblob(32));

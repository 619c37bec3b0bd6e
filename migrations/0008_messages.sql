-- 0008_messages: messages sent through the outbox (issue #5). A message goes out as broadcasts of at most 100
-- contacts; each batch has its own outcome (pending, sent, failed with RapidPro's message, unknown = maybe sent,
-- never resent), and every recipient row names its batch, so a contact's messages show their own status. A message
-- may be restricted to one cohort. Inbox listing reads the latest incoming message per contact of an org. The
-- participation grid pages through an org's active contacts by name (and its CSV by keyset on name, id).
CREATE TABLE message_batches (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    contacts   INTEGER NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'unknown')),
    broadcast  TEXT    NOT NULL DEFAULT '',                        -- RapidPro's broadcast uuid (or id) once sent
    error      TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
CREATE INDEX message_batches_message ON message_batches (message_id);

ALTER TABLE messages ADD COLUMN cohort_id INTEGER REFERENCES cohorts (id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN contacts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE message_recipients ADD COLUMN batch_id INTEGER;
CREATE INDEX messages_pollrun ON messages (pollrun_id, sent_on);

CREATE INDEX inbox_messages_org ON inbox_messages (org_id, direction, archived, contact_id, created_on);
CREATE INDEX contacts_name ON contacts (org_id, is_active, name, id);

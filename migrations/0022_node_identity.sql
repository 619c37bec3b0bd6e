-- 0022_node_identity: a restored database must not send its pushes a second time (issue #13, point 1).
--
-- node_state is the database's record of which server wrote it: a random generation and the number of outbox
-- claims that generation made. The server keeps the same two values in a small file beside the database
-- (<db>.node, on the same volume, never replicated), written before each claim commits. At start
-- (models/node.go) a database whose generation is not the file's (a restore, a copy), or whose claim count is
-- behind the file's (an older copy swapped in, commits lost to a power cut), may be missing the claims and sent
-- marks of pushes that did reach RapidPro: its pending pushes are then marked uncertain (verify_since) and read
-- back from RapidPro before anything is sent again (jobs/outbox_reconcile.go).
--
-- outbox.uid is a random key per push, sent with flow starts in params/extra so that RapidPro's flow_starts.json
-- shows whether a start was made (a row id is not enough: a restored database hands out the lost ids again).
-- '' for rows queued before this migration. outbox.verify_since (unix ms, 0 = certain) is when a row became
-- uncertain: marked by a restore check, or claimed by a process that stopped mid-request.
CREATE TABLE node_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  TEXT    NOT NULL,
    claims      INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    restored_at INTEGER                                            -- last start that found the database restored or copied
);

ALTER TABLE outbox ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN verify_since INTEGER NOT NULL DEFAULT 0;

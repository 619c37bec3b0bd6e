-- 0003_counters: the aggregates behind the dashboards (DESIGN.md §4 "Aggregates").
-- Counted = active responses of active contacts (SPEC §3.2), keyed by the contact's panel; whether that panel
-- is still active is decided when reading, so deactivating a panel needs no rewrite. Both same-day variants
-- (last_value and sum_value, SPEC §3.1) are kept, so switching the org setting needs no recount either.
-- Maintained in the transaction that writes the rows they count (models/counters.go); `tracpro recount`
-- compares them with the raw rows and `--fix` rewrites them. A database upgraded with data in it starts with
-- empty counters: run `tracpro recount --fix` once.

-- Answers per poll run × question × panel × category ('' = none / open-ended): how many, and the count, sum
-- and sum of squares of the numeric value_to_use under each same-day setting.
CREATE TABLE answer_counters (
    pollrun_id  INTEGER NOT NULL REFERENCES pollruns (id) ON DELETE CASCADE,
    question_id INTEGER NOT NULL,                                  -- questions are never deleted
    region_id   INTEGER NOT NULL,                                  -- the contact's panel (0 = none)
    category    TEXT    NOT NULL,
    answers     INTEGER NOT NULL DEFAULT 0,
    n_last      INTEGER NOT NULL DEFAULT 0,                        -- numeric last_value (org setting use_last)
    sum_last    REAL    NOT NULL DEFAULT 0,
    sumsq_last  REAL    NOT NULL DEFAULT 0,
    n_sum       INTEGER NOT NULL DEFAULT 0,                        -- numeric sum_value (org setting sum)
    sum_sum     REAL    NOT NULL DEFAULT 0,
    sumsq_sum   REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (pollrun_id, question_id, region_id, category)
) WITHOUT ROWID;

-- Responses per poll run × panel by status (empty / partial / complete): response rates and participation.
CREATE TABLE response_counters (
    pollrun_id INTEGER NOT NULL REFERENCES pollruns (id) ON DELETE CASCADE,
    region_id  INTEGER NOT NULL,
    empty      INTEGER NOT NULL DEFAULT 0,
    partial    INTEGER NOT NULL DEFAULT 0,
    complete   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pollrun_id, region_id)
) WITHOUT ROWID;

-- Filtered views read raw rows through existing keys: responses by poll run (responses_pollrun covers the
-- contact, activity and status), the contact by id, contact_fields (contact_id, field_id) with the value, the
-- contact's cohorts (contact_cohorts' primary key) and the answer by (response_id, question_id).

-- 0014_first_answers: each contact's earliest answer to each numeric question over the poll's runs, and whether
-- it responded to the poll at all, with per poll × question × panel totals: the baseline of a recent indicator
-- (SPEC §3.6: the sum over contacts of each contact's earliest baseline answer, and the baseline response rate
-- = answering / responding contacts) read in a few rows instead of every response of the baseline poll runs
-- (issue #7 benchmark: 0.44 s for "All panels"). Like SPEC §3.6, inactive (superseded) responses count too.
-- Kept only for the polls that are some indicator's baseline poll (written when the first such indicator is
-- saved, dropped with the last): the ingest of other polls pays one index probe per response and answer.
-- The totals answer for a date window and scope only when the poll runs left out hold no response of the
-- panels' contacts (models/indicator_fast.go checks it with response_counters); otherwise the raw rows are read.
-- Kept by triggers in the writing transaction (answers, responses, contacts, questions, indicators), like
-- 0005/0006; numbers are parsed by tracpro_num() (models/db.go). `tracpro recount` checks both tables and
-- --fix rewrites them.
--
-- first_answers: question_id 0 = one response of the contact to the poll (which one does not matter; its
-- response_id says which row to look at again when it goes). Otherwise the earliest answer by (submitted_on,
-- response_id) with its value_to_use as a number under each same-day setting (NULL = not a number).
-- region_id / counted copy the contact's panel (0 = none) and is_active, so the totals can be moved without
-- reading the contact (a deleted contact's rows go by cascade after it).
CREATE TABLE first_answers (
    contact_id   INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    poll_id      INTEGER NOT NULL,
    question_id  INTEGER NOT NULL,
    region_id    INTEGER NOT NULL,
    counted      INTEGER NOT NULL,
    response_id  INTEGER,                                          -- NULL only while being replaced
    submitted_on INTEGER,
    last_num     REAL,
    sum_num      REAL,
    PRIMARY KEY (contact_id, poll_id, question_id)
) WITHOUT ROWID;
-- The few contacts whose earliest answer is not a number (the indicator looks for their earliest number).
CREATE INDEX first_answers_nonnumeric ON first_answers (question_id, region_id, contact_id)
    WHERE question_id <> 0 AND (last_num IS NULL OR sum_num IS NULL);

-- Per poll × question (0 = responding contacts) × panel of counted (active) contacts: how many, and how many of
-- their earliest answers are numbers under each setting, with their sum.
CREATE INDEX indicators_baseline_poll ON indicators (baseline_poll_id);
CREATE TABLE first_counters (
    poll_id     INTEGER NOT NULL,                                  -- rows of a deleted poll stay, unread
    question_id INTEGER NOT NULL,
    region_id   INTEGER NOT NULL,
    contacts    INTEGER NOT NULL DEFAULT 0,
    n_last      INTEGER NOT NULL DEFAULT 0,
    sum_last    REAL    NOT NULL DEFAULT 0,
    n_sum       INTEGER NOT NULL DEFAULT 0,
    sum_sum     REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, question_id, region_id)
) WITHOUT ROWID;

CREATE TRIGGER first_counters_insert AFTER INSERT ON first_answers WHEN NEW.counted = 1 AND NEW.response_id IS NOT NULL
BEGIN
    INSERT INTO first_counters (poll_id, question_id, region_id, contacts, n_last, sum_last, n_sum, sum_sum)
    VALUES (NEW.poll_id, NEW.question_id, NEW.region_id, 1, NEW.last_num IS NOT NULL, coalesce(NEW.last_num, 0), NEW.sum_num IS NOT NULL, coalesce(NEW.sum_num, 0))
    ON CONFLICT (poll_id, question_id, region_id) DO UPDATE SET contacts = contacts + excluded.contacts, n_last = n_last + excluded.n_last,
        sum_last = sum_last + excluded.sum_last, n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum;
END;

CREATE TRIGGER first_counters_delete AFTER DELETE ON first_answers WHEN OLD.counted = 1 AND OLD.response_id IS NOT NULL
BEGIN
    INSERT INTO first_counters (poll_id, question_id, region_id, contacts, n_last, sum_last, n_sum, sum_sum)
    VALUES (OLD.poll_id, OLD.question_id, OLD.region_id, -1, -(OLD.last_num IS NOT NULL), -coalesce(OLD.last_num, 0), -(OLD.sum_num IS NOT NULL), -coalesce(OLD.sum_num, 0))
    ON CONFLICT (poll_id, question_id, region_id) DO UPDATE SET contacts = contacts + excluded.contacts, n_last = n_last + excluded.n_last,
        sum_last = sum_last + excluded.sum_last, n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum;
END;

CREATE TRIGGER first_counters_update AFTER UPDATE ON first_answers
WHEN OLD.region_id IS NOT NEW.region_id OR OLD.counted IS NOT NEW.counted OR OLD.response_id IS NOT NEW.response_id
    OR OLD.last_num IS NOT NEW.last_num OR OLD.sum_num IS NOT NEW.sum_num
BEGIN
    INSERT INTO first_counters (poll_id, question_id, region_id, contacts, n_last, sum_last, n_sum, sum_sum)
    SELECT OLD.poll_id, OLD.question_id, OLD.region_id, -1, -(OLD.last_num IS NOT NULL), -coalesce(OLD.last_num, 0), -(OLD.sum_num IS NOT NULL), -coalesce(OLD.sum_num, 0)
    WHERE OLD.counted = 1 AND OLD.response_id IS NOT NULL
    ON CONFLICT (poll_id, question_id, region_id) DO UPDATE SET contacts = contacts + excluded.contacts, n_last = n_last + excluded.n_last,
        sum_last = sum_last + excluded.sum_last, n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum;
    INSERT INTO first_counters (poll_id, question_id, region_id, contacts, n_last, sum_last, n_sum, sum_sum)
    SELECT NEW.poll_id, NEW.question_id, NEW.region_id, 1, NEW.last_num IS NOT NULL, coalesce(NEW.last_num, 0), NEW.sum_num IS NOT NULL, coalesce(NEW.sum_num, 0)
    WHERE NEW.counted = 1 AND NEW.response_id IS NOT NULL
    ON CONFLICT (poll_id, question_id, region_id) DO UPDATE SET contacts = contacts + excluded.contacts, n_last = n_last + excluded.n_last,
        sum_last = sum_last + excluded.sum_last, n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum;
END;

-- A contact moved or (de)activated: its rows follow.
CREATE TRIGGER first_answers_contact AFTER UPDATE OF region_id, is_active ON contacts
WHEN coalesce(OLD.region_id, 0) <> coalesce(NEW.region_id, 0) OR OLD.is_active IS NOT NEW.is_active
BEGIN
    UPDATE first_answers SET region_id = coalesce(NEW.region_id, 0), counted = NEW.is_active WHERE contact_id = NEW.id;
END;

-- A response: the contact has responded to the poll (kept if it already had).
CREATE TRIGGER first_answers_response_insert AFTER INSERT ON responses
WHEN EXISTS (SELECT 1 FROM pollruns pr CROSS JOIN indicators i WHERE pr.id = NEW.pollrun_id AND i.baseline_poll_id = pr.poll_id)
BEGIN
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on)
    SELECT NEW.contact_id, pr.poll_id, 0, coalesce(c.region_id, 0), c.is_active, NEW.id, NEW.created_on
    FROM pollruns pr CROSS JOIN contacts c WHERE pr.id = NEW.pollrun_id AND c.id = NEW.contact_id
    ON CONFLICT (contact_id, poll_id, question_id) DO NOTHING;
END;

-- A response going (alone, or with its poll run or contact): the contact's rows that point at it are looked up
-- again among its other responses to the poll (a deleted poll run's own responses no longer join pollruns), and
-- dropped when there is none. Before the row goes, while its answers are still there.
CREATE TRIGGER first_answers_response_delete BEFORE DELETE ON responses
BEGIN
    UPDATE first_answers SET (response_id, submitted_on, last_num, sum_num) = (
        SELECT a.response_id, a.submitted_on, tracpro_num(coalesce(a.last_value, a.value)), tracpro_num(coalesce(a.sum_value, a.value))
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a
        WHERE pr.poll_id = first_answers.poll_id AND r.pollrun_id = pr.id AND r.contact_id = first_answers.contact_id AND r.id <> OLD.id
            AND a.response_id = r.id AND a.question_id = first_answers.question_id
        ORDER BY a.submitted_on, a.response_id LIMIT 1)
    WHERE contact_id = OLD.contact_id AND response_id = OLD.id AND question_id <> 0;
    UPDATE first_answers SET (response_id, submitted_on) = (
        SELECT r.id, r.created_on FROM pollruns pr CROSS JOIN responses r
        WHERE pr.poll_id = first_answers.poll_id AND r.pollrun_id = pr.id AND r.contact_id = first_answers.contact_id AND r.id <> OLD.id
        ORDER BY r.created_on, r.id LIMIT 1)
    WHERE contact_id = OLD.contact_id AND response_id = OLD.id AND question_id = 0;
    DELETE FROM first_answers WHERE contact_id = OLD.contact_id AND response_id IS NULL;
END;

-- A response moved to another contact or poll run: the old contact's rows are looked up again, and the response
-- and its answers count for the new contact.
CREATE TRIGGER first_answers_response_update AFTER UPDATE OF contact_id, pollrun_id ON responses
WHEN OLD.contact_id IS NOT NEW.contact_id OR OLD.pollrun_id IS NOT NEW.pollrun_id
BEGIN
    UPDATE first_answers SET (response_id, submitted_on, last_num, sum_num) = (
        SELECT a.response_id, a.submitted_on, tracpro_num(coalesce(a.last_value, a.value)), tracpro_num(coalesce(a.sum_value, a.value))
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a
        WHERE pr.poll_id = first_answers.poll_id AND r.pollrun_id = pr.id AND r.contact_id = first_answers.contact_id
            AND a.response_id = r.id AND a.question_id = first_answers.question_id
        ORDER BY a.submitted_on, a.response_id LIMIT 1)
    WHERE contact_id = OLD.contact_id AND response_id = OLD.id AND question_id <> 0;
    UPDATE first_answers SET (response_id, submitted_on) = (
        SELECT r.id, r.created_on FROM pollruns pr CROSS JOIN responses r
        WHERE pr.poll_id = first_answers.poll_id AND r.pollrun_id = pr.id AND r.contact_id = first_answers.contact_id
        ORDER BY r.created_on, r.id LIMIT 1)
    WHERE contact_id = OLD.contact_id AND response_id = OLD.id AND question_id = 0;
    DELETE FROM first_answers WHERE contact_id = OLD.contact_id AND response_id IS NULL;
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on)
    SELECT NEW.contact_id, pr.poll_id, 0, coalesce(c.region_id, 0), c.is_active, NEW.id, NEW.created_on
    FROM pollruns pr CROSS JOIN contacts c WHERE pr.id = NEW.pollrun_id AND c.id = NEW.contact_id
        AND EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = pr.poll_id)
    ON CONFLICT (contact_id, poll_id, question_id) DO NOTHING;
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num)
    SELECT NEW.contact_id, pr.poll_id, a.question_id, coalesce(c.region_id, 0), c.is_active, a.response_id, a.submitted_on,
        tracpro_num(coalesce(a.last_value, a.value)), tracpro_num(coalesce(a.sum_value, a.value))
    FROM pollruns pr CROSS JOIN contacts c CROSS JOIN answers a CROSS JOIN questions q
    WHERE pr.id = NEW.pollrun_id AND c.id = NEW.contact_id AND a.response_id = NEW.id AND q.id = a.question_id AND q.question_type = 'N'
        AND EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = pr.poll_id)
    ON CONFLICT (contact_id, poll_id, question_id) DO UPDATE SET response_id = excluded.response_id, submitted_on = excluded.submitted_on,
        last_num = excluded.last_num, sum_num = excluded.sum_num
    WHERE excluded.submitted_on < submitted_on OR (excluded.submitted_on = submitted_on AND excluded.response_id < response_id);
END;

-- An answer to a numeric question: the contact's earliest if it is earlier than the one kept.
CREATE TRIGGER first_answers_answer_insert AFTER INSERT ON answers
WHEN EXISTS (SELECT 1 FROM questions q CROSS JOIN indicators i WHERE q.id = NEW.question_id AND q.question_type = 'N' AND i.baseline_poll_id = q.poll_id)
BEGIN
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num)
    SELECT r.contact_id, pr.poll_id, NEW.question_id, coalesce(c.region_id, 0), c.is_active, NEW.response_id, NEW.submitted_on,
        tracpro_num(coalesce(NEW.last_value, NEW.value)), tracpro_num(coalesce(NEW.sum_value, NEW.value))
    FROM responses r CROSS JOIN pollruns pr CROSS JOIN contacts c WHERE r.id = NEW.response_id AND pr.id = r.pollrun_id AND c.id = r.contact_id
    ON CONFLICT (contact_id, poll_id, question_id) DO UPDATE SET response_id = excluded.response_id, submitted_on = excluded.submitted_on,
        last_num = excluded.last_num, sum_num = excluded.sum_num
    WHERE excluded.submitted_on < submitted_on OR (excluded.submitted_on = submitted_on AND excluded.response_id < response_id);
END;

-- An answer deleted on its own (a deleted response's answers were seen to by the response's trigger) or changed
-- (value, same-day values, time): the contact's earliest is looked up again if it was this one, then the new
-- values count like an inserted answer.
CREATE TRIGGER first_answers_answer_delete AFTER DELETE ON answers
WHEN EXISTS (SELECT 1 FROM questions q CROSS JOIN indicators i WHERE q.id = OLD.question_id AND q.question_type = 'N' AND i.baseline_poll_id = q.poll_id)
BEGIN
    UPDATE first_answers SET (response_id, submitted_on, last_num, sum_num) = (
        SELECT a.response_id, a.submitted_on, tracpro_num(coalesce(a.last_value, a.value)), tracpro_num(coalesce(a.sum_value, a.value))
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a
        WHERE pr.poll_id = first_answers.poll_id AND r.pollrun_id = pr.id AND r.contact_id = first_answers.contact_id
            AND a.response_id = r.id AND a.question_id = first_answers.question_id
        ORDER BY a.submitted_on, a.response_id LIMIT 1)
    WHERE contact_id = (SELECT contact_id FROM responses WHERE id = OLD.response_id) AND question_id = OLD.question_id AND response_id = OLD.response_id;
    DELETE FROM first_answers WHERE contact_id = (SELECT contact_id FROM responses WHERE id = OLD.response_id) AND response_id IS NULL;
END;

CREATE TRIGGER first_answers_answer_update AFTER UPDATE OF response_id, question_id, value, submitted_on, last_value, sum_value ON answers
WHEN (EXISTS (SELECT 1 FROM questions q CROSS JOIN indicators i WHERE q.id = OLD.question_id AND q.question_type = 'N' AND i.baseline_poll_id = q.poll_id)
        OR EXISTS (SELECT 1 FROM questions q CROSS JOIN indicators i WHERE q.id = NEW.question_id AND q.question_type = 'N' AND i.baseline_poll_id = q.poll_id))
    AND (OLD.response_id IS NOT NEW.response_id OR OLD.question_id IS NOT NEW.question_id OR OLD.value IS NOT NEW.value
        OR OLD.submitted_on IS NOT NEW.submitted_on OR OLD.last_value IS NOT NEW.last_value OR OLD.sum_value IS NOT NEW.sum_value)
BEGIN
    UPDATE first_answers SET (response_id, submitted_on, last_num, sum_num) = (
        SELECT a.response_id, a.submitted_on, tracpro_num(coalesce(a.last_value, a.value)), tracpro_num(coalesce(a.sum_value, a.value))
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a
        WHERE pr.poll_id = first_answers.poll_id AND r.pollrun_id = pr.id AND r.contact_id = first_answers.contact_id
            AND a.response_id = r.id AND a.question_id = first_answers.question_id
        ORDER BY a.submitted_on, a.response_id LIMIT 1)
    WHERE contact_id = (SELECT contact_id FROM responses WHERE id = OLD.response_id) AND question_id = OLD.question_id AND response_id = OLD.response_id;
    DELETE FROM first_answers WHERE contact_id = (SELECT contact_id FROM responses WHERE id = OLD.response_id) AND response_id IS NULL;
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num)
    SELECT r.contact_id, pr.poll_id, NEW.question_id, coalesce(c.region_id, 0), c.is_active, NEW.response_id, NEW.submitted_on,
        tracpro_num(coalesce(NEW.last_value, NEW.value)), tracpro_num(coalesce(NEW.sum_value, NEW.value))
    FROM responses r CROSS JOIN pollruns pr CROSS JOIN contacts c CROSS JOIN questions q
    WHERE r.id = NEW.response_id AND pr.id = r.pollrun_id AND c.id = r.contact_id AND q.id = NEW.question_id AND q.question_type = 'N'
        AND EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = pr.poll_id)
    ON CONFLICT (contact_id, poll_id, question_id) DO UPDATE SET response_id = excluded.response_id, submitted_on = excluded.submitted_on,
        last_num = excluded.last_num, sum_num = excluded.sum_num
    WHERE excluded.submitted_on < submitted_on OR (excluded.submitted_on = submitted_on AND excluded.response_id < response_id);
END;

-- A question becoming numeric, or no longer: its rows are written from its answers, or dropped.
CREATE TRIGGER first_answers_question_type AFTER UPDATE OF question_type ON questions
WHEN (OLD.question_type = 'N') IS NOT (NEW.question_type = 'N')
BEGIN
    DELETE FROM first_answers WHERE question_id = NEW.id;
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num)
    SELECT contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num FROM (
        SELECT r.contact_id, pr.poll_id, a.question_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, a.response_id, a.submitted_on,
            tracpro_num(coalesce(a.last_value, a.value)) AS last_num, tracpro_num(coalesce(a.sum_value, a.value)) AS sum_num,
            row_number() OVER (PARTITION BY r.contact_id ORDER BY a.submitted_on, a.response_id) AS n
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a CROSS JOIN contacts c
        WHERE NEW.question_type = 'N' AND EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = NEW.poll_id)
            AND pr.poll_id = NEW.poll_id AND r.pollrun_id = pr.id AND a.response_id = r.id AND a.question_id = NEW.id
            AND c.id = r.contact_id)
    WHERE n = 1;
END;

-- The first indicator with a baseline poll writes the poll's rows from its responses and answers; the last one
-- going (deleted, or given another baseline poll) drops them.
CREATE TRIGGER first_answers_indicator_insert AFTER INSERT ON indicators
WHEN NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = NEW.baseline_poll_id AND id <> NEW.id)
BEGIN
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on)
    SELECT contact_id, poll_id, 0, region_id, counted, response_id, created_on FROM (
        SELECT r.contact_id, pr.poll_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, r.id AS response_id, r.created_on,
            row_number() OVER (PARTITION BY r.contact_id, pr.poll_id ORDER BY r.created_on, r.id) AS n
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c WHERE pr.poll_id = NEW.baseline_poll_id AND r.pollrun_id = pr.id AND c.id = r.contact_id)
    WHERE n = 1;
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num)
    SELECT contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num FROM (
        SELECT r.contact_id, pr.poll_id, a.question_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, a.response_id, a.submitted_on,
            tracpro_num(coalesce(a.last_value, a.value)) AS last_num, tracpro_num(coalesce(a.sum_value, a.value)) AS sum_num,
            row_number() OVER (PARTITION BY r.contact_id, a.question_id ORDER BY a.submitted_on, a.response_id) AS n
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a CROSS JOIN questions q CROSS JOIN contacts c
        WHERE pr.poll_id = NEW.baseline_poll_id AND r.pollrun_id = pr.id AND a.response_id = r.id AND q.id = a.question_id AND q.question_type = 'N'
            AND c.id = r.contact_id)
    WHERE n = 1;
END;

CREATE TRIGGER first_answers_indicator_delete AFTER DELETE ON indicators
WHEN NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = OLD.baseline_poll_id)
BEGIN
    DELETE FROM first_answers WHERE poll_id = OLD.baseline_poll_id;
    DELETE FROM first_counters WHERE poll_id = OLD.baseline_poll_id;
END;

CREATE TRIGGER first_answers_indicator_update AFTER UPDATE OF baseline_poll_id ON indicators
WHEN OLD.baseline_poll_id IS NOT NEW.baseline_poll_id
BEGIN
    DELETE FROM first_answers WHERE poll_id = OLD.baseline_poll_id AND NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = OLD.baseline_poll_id);
    DELETE FROM first_counters WHERE poll_id = OLD.baseline_poll_id AND NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = OLD.baseline_poll_id);
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on)
    SELECT contact_id, poll_id, 0, region_id, counted, response_id, created_on FROM (
        SELECT r.contact_id, pr.poll_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, r.id AS response_id, r.created_on,
            row_number() OVER (PARTITION BY r.contact_id, pr.poll_id ORDER BY r.created_on, r.id) AS n
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c WHERE pr.poll_id = NEW.baseline_poll_id AND NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = NEW.baseline_poll_id AND id <> NEW.id) AND r.pollrun_id = pr.id AND c.id = r.contact_id)
    WHERE n = 1;
    INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num)
    SELECT contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num FROM (
        SELECT r.contact_id, pr.poll_id, a.question_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, a.response_id, a.submitted_on,
            tracpro_num(coalesce(a.last_value, a.value)) AS last_num, tracpro_num(coalesce(a.sum_value, a.value)) AS sum_num,
            row_number() OVER (PARTITION BY r.contact_id, a.question_id ORDER BY a.submitted_on, a.response_id) AS n
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a CROSS JOIN questions q CROSS JOIN contacts c
        WHERE pr.poll_id = NEW.baseline_poll_id AND NOT EXISTS (SELECT 1 FROM indicators WHERE baseline_poll_id = NEW.baseline_poll_id AND id <> NEW.id) AND r.pollrun_id = pr.id AND a.response_id = r.id AND q.id = a.question_id AND q.question_type = 'N'
            AND c.id = r.contact_id)
    WHERE n = 1;
END;

-- The rows of the baseline polls of the indicators already there (tracpro_num is registered on the migrating
-- connection).
INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on)
SELECT contact_id, poll_id, 0, region_id, counted, response_id, created_on FROM (
    SELECT r.contact_id, pr.poll_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, r.id AS response_id, r.created_on,
        row_number() OVER (PARTITION BY r.contact_id, pr.poll_id ORDER BY r.created_on, r.id) AS n
    FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c WHERE pr.poll_id IN (SELECT baseline_poll_id FROM indicators) AND r.pollrun_id = pr.id AND c.id = r.contact_id)
WHERE n = 1;
INSERT INTO first_answers (contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num)
SELECT contact_id, poll_id, question_id, region_id, counted, response_id, submitted_on, last_num, sum_num FROM (
    SELECT r.contact_id, pr.poll_id, a.question_id, coalesce(c.region_id, 0) AS region_id, c.is_active AS counted, a.response_id, a.submitted_on,
        tracpro_num(coalesce(a.last_value, a.value)) AS last_num, tracpro_num(coalesce(a.sum_value, a.value)) AS sum_num,
        row_number() OVER (PARTITION BY r.contact_id, a.question_id ORDER BY a.submitted_on, a.response_id) AS n
    FROM pollruns pr CROSS JOIN responses r CROSS JOIN answers a CROSS JOIN questions q CROSS JOIN contacts c
    WHERE pr.poll_id IN (SELECT baseline_poll_id FROM indicators) AND r.pollrun_id = pr.id AND a.response_id = r.id AND q.id = a.question_id AND q.question_type = 'N'
        AND c.id = r.contact_id)
WHERE n = 1;

-- The superseded responses of poll runs, which SPEC §3.6 counts in an indicator's follow-up on top of the
-- counters (models/indicator.go followUpRaw): found without reading each poll run's active ones. Only inactive
-- responses have an entry (few: a contact's older runs in the same poll run).
CREATE INDEX responses_inactive ON responses (pollrun_id, is_active, contact_id) WHERE is_active = 0;

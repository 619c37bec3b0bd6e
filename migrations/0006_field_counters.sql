-- 0006_field_counters: answers and responses per data field value (issue #4 benchmark: a poll's charts filtered by
-- one contact field for "All panels" read 240,000 rows a question). Per shown field (data_fields.show_on_tracpro)
-- × the contact's value × poll run × question × panel × category: the same figures as answer_counters (answers;
-- count, sum and sum of squares of the numeric last and sum values), and per field value × poll run × panel the
-- responses (question_id 0, category ''). Counted = active responses of active contacts with a non-empty value,
-- under the contact's panel (0 = none). A filter "field contains text" sums the rows whose value contains the text
-- (the same instr(lower(value), lower(text)) test as the raw query), so the figures equal the raw rows'.
-- Kept by triggers in the writing transaction (answers, responses, contacts, contact_fields, data_fields), like
-- 0005. Numbers are parsed by tracpro_num(), the Go models.ParseNumber registered on every connection of the
-- app (models/db.go): a connection without it cannot write answers. `tracpro recount` checks these counters too and
-- --fix rewrites them. Filters on two fields or more read the raw rows.
-- Also here (same round of the benchmark): value_counters, the numbers of the answers for poll-run histograms, and
-- an index for the responses tab (both near the end).
CREATE TABLE field_counters (
    field_id    INTEGER NOT NULL REFERENCES data_fields (id) ON DELETE CASCADE,
    pollrun_id  INTEGER NOT NULL REFERENCES pollruns (id) ON DELETE CASCADE,
    question_id INTEGER NOT NULL,                                  -- 0 = the responses themselves
    region_id   INTEGER NOT NULL,                                  -- the contact's panel (0 = none)
    value       TEXT    NOT NULL,                                  -- the contact's value of the field
    category    TEXT    NOT NULL,
    answers     INTEGER NOT NULL DEFAULT 0,                        -- answers (responses for question 0)
    n_last      INTEGER NOT NULL DEFAULT 0,
    sum_last    REAL    NOT NULL DEFAULT 0,
    sumsq_last  REAL    NOT NULL DEFAULT 0,
    n_sum       INTEGER NOT NULL DEFAULT 0,
    sum_sum     REAL    NOT NULL DEFAULT 0,
    sumsq_sum   REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (field_id, pollrun_id, question_id, region_id, value, category)
) WITHOUT ROWID;

-- The triggers below do nothing (one probe of this index) while no field is shown on TracPro anywhere.
CREATE INDEX data_fields_shown ON data_fields (id) WHERE show_on_tracpro = 1;

-- An answer inserted, deleted or changed (same-day values, category) in an existing response.
CREATE TRIGGER field_counters_answer_insert AFTER INSERT ON answers
WHEN EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT cf.field_id, r.pollrun_id, NEW.question_id, coalesce(c.region_id, 0), cf.value, coalesce(NEW.category, ''), 1, (x.l IS NOT NULL), coalesce(x.l, 0), coalesce(x.l * x.l, 0), (x.s IS NOT NULL), coalesce(x.s, 0), coalesce(x.s * x.s, 0)
    FROM responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        CROSS JOIN (SELECT CASE WHEN NEW.last_value GLOB '*[0-9]*' THEN tracpro_num(NEW.last_value) END AS l,
            CASE WHEN NEW.sum_value GLOB '*[0-9]*' THEN tracpro_num(NEW.sum_value) END AS s) x
    WHERE r.id = NEW.response_id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

CREATE TRIGGER field_counters_answer_delete AFTER DELETE ON answers
WHEN EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT cf.field_id, r.pollrun_id, OLD.question_id, coalesce(c.region_id, 0), cf.value, coalesce(OLD.category, ''), -1, -(x.l IS NOT NULL), -coalesce(x.l, 0), -coalesce(x.l * x.l, 0), -(x.s IS NOT NULL), -coalesce(x.s, 0), -coalesce(x.s * x.s, 0)
    FROM responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        CROSS JOIN (SELECT CASE WHEN OLD.last_value GLOB '*[0-9]*' THEN tracpro_num(OLD.last_value) END AS l,
            CASE WHEN OLD.sum_value GLOB '*[0-9]*' THEN tracpro_num(OLD.sum_value) END AS s) x
    WHERE r.id = OLD.response_id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

CREATE TRIGGER field_counters_answer_update AFTER UPDATE OF response_id, question_id, category, last_value, sum_value ON answers
WHEN (OLD.response_id IS NOT NEW.response_id OR OLD.question_id IS NOT NEW.question_id OR OLD.category IS NOT NEW.category
    OR OLD.last_value IS NOT NEW.last_value OR OLD.sum_value IS NOT NEW.sum_value) AND EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT cf.field_id, r.pollrun_id, OLD.question_id, coalesce(c.region_id, 0), cf.value, coalesce(OLD.category, ''), -1, -(x.l IS NOT NULL), -coalesce(x.l, 0), -coalesce(x.l * x.l, 0), -(x.s IS NOT NULL), -coalesce(x.s, 0), -coalesce(x.s * x.s, 0)
    FROM responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        CROSS JOIN (SELECT CASE WHEN OLD.last_value GLOB '*[0-9]*' THEN tracpro_num(OLD.last_value) END AS l,
            CASE WHEN OLD.sum_value GLOB '*[0-9]*' THEN tracpro_num(OLD.sum_value) END AS s) x
    WHERE r.id = OLD.response_id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT cf.field_id, r.pollrun_id, NEW.question_id, coalesce(c.region_id, 0), cf.value, coalesce(NEW.category, ''), 1, (x.l IS NOT NULL), coalesce(x.l, 0), coalesce(x.l * x.l, 0), (x.s IS NOT NULL), coalesce(x.s, 0), coalesce(x.s * x.s, 0)
    FROM responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        CROSS JOIN (SELECT CASE WHEN NEW.last_value GLOB '*[0-9]*' THEN tracpro_num(NEW.last_value) END AS l,
            CASE WHEN NEW.sum_value GLOB '*[0-9]*' THEN tracpro_num(NEW.sum_value) END AS s) x
    WHERE r.id = NEW.response_id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

-- A response counted in (answers come after it) or out: before the row goes, while its answers are still there
-- (their own delete trigger then finds no response). Only while its poll run exists (a deleted poll run's
-- counters go with it).
CREATE TRIGGER field_counters_response_insert AFTER INSERT ON responses WHEN NEW.is_active = 1 AND EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT cf.field_id, NEW.pollrun_id, 0, coalesce(c.region_id, 0), cf.value, '', 1, 0, 0, 0, 0, 0, 0
    FROM contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
    WHERE NEW.is_active = 1 AND c.id = NEW.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

CREATE TRIGGER field_counters_response_delete BEFORE DELETE ON responses WHEN OLD.is_active = 1 AND EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, OLD.pollrun_id, 0, coalesce(c.region_id, 0), cf.value, '', -1, 0, 0, 0, 0, 0, 0
        FROM contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        WHERE OLD.is_active = 1 AND c.id = OLD.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
            AND EXISTS (SELECT 1 FROM pollruns WHERE id = OLD.pollrun_id)
        UNION ALL
        SELECT cf.field_id, OLD.pollrun_id, a.question_id, coalesce(c.region_id, 0), cf.value, coalesce(a.category, ''), -count(*),
            -count(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        -count(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df CROSS JOIN answers a
        WHERE OLD.is_active = 1 AND c.id = OLD.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
            AND EXISTS (SELECT 1 FROM pollruns WHERE id = OLD.pollrun_id) AND a.response_id = OLD.id
        GROUP BY cf.field_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

CREATE TRIGGER field_counters_response_update AFTER UPDATE OF pollrun_id, contact_id, is_active ON responses
WHEN (OLD.pollrun_id IS NOT NEW.pollrun_id OR OLD.contact_id IS NOT NEW.contact_id OR OLD.is_active IS NOT NEW.is_active)
    AND EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, OLD.pollrun_id, 0, coalesce(c.region_id, 0), cf.value, '', -1, 0, 0, 0, 0, 0, 0
        FROM contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        WHERE OLD.is_active = 1 AND c.id = OLD.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
            AND EXISTS (SELECT 1 FROM pollruns WHERE id = OLD.pollrun_id)
        UNION ALL
        SELECT cf.field_id, OLD.pollrun_id, a.question_id, coalesce(c.region_id, 0), cf.value, coalesce(a.category, ''), -count(*),
            -count(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        -count(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df CROSS JOIN answers a
        WHERE OLD.is_active = 1 AND c.id = OLD.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
            AND EXISTS (SELECT 1 FROM pollruns WHERE id = OLD.pollrun_id) AND a.response_id = OLD.id
        GROUP BY cf.field_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, NEW.pollrun_id, 0, coalesce(c.region_id, 0), cf.value, '', 1, 0, 0, 0, 0, 0, 0
        FROM contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        WHERE NEW.is_active = 1 AND c.id = NEW.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
            AND EXISTS (SELECT 1 FROM pollruns WHERE id = NEW.pollrun_id)
        UNION ALL
        SELECT cf.field_id, NEW.pollrun_id, a.question_id, coalesce(c.region_id, 0), cf.value, coalesce(a.category, ''), count(*),
            count(tracpro_num(a.last_value)), total(tracpro_num(a.last_value)), total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        count(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df CROSS JOIN answers a
        WHERE NEW.is_active = 1 AND c.id = NEW.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
            AND EXISTS (SELECT 1 FROM pollruns WHERE id = NEW.pollrun_id) AND a.response_id = NEW.id
        GROUP BY cf.field_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

-- A contact deactivated, re-activated or moved to another panel moves its active responses and their answers
-- (found poll run by poll run through responses_pollrun).
CREATE TRIGGER field_counters_contact_update AFTER UPDATE OF is_active, region_id ON contacts
WHEN (OLD.is_active IS NOT NEW.is_active OR (NEW.is_active = 1 AND coalesce(OLD.region_id, 0) <> coalesce(NEW.region_id, 0)))
    AND EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, rs.pollrun_id, 0, coalesce(OLD.region_id, 0), cf.value, '', -count(*), 0, 0, 0, 0, 0, 0
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs
        WHERE OLD.is_active = 1 AND cf.contact_id = NEW.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = NEW.org_id AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.id AND rs.is_active = 1
        GROUP BY cf.field_id, rs.pollrun_id
        UNION ALL
        SELECT cf.field_id, rs.pollrun_id, a.question_id, coalesce(OLD.region_id, 0), cf.value, coalesce(a.category, ''), -count(*),
            -count(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        -count(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs CROSS JOIN answers a
        WHERE OLD.is_active = 1 AND cf.contact_id = NEW.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = NEW.org_id AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.id AND rs.is_active = 1
            AND a.response_id = rs.id
        GROUP BY cf.field_id, rs.pollrun_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, rs.pollrun_id, 0, coalesce(NEW.region_id, 0), cf.value, '', count(*), 0, 0, 0, 0, 0, 0
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs
        WHERE NEW.is_active = 1 AND cf.contact_id = NEW.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = NEW.org_id AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.id AND rs.is_active = 1
        GROUP BY cf.field_id, rs.pollrun_id
        UNION ALL
        SELECT cf.field_id, rs.pollrun_id, a.question_id, coalesce(NEW.region_id, 0), cf.value, coalesce(a.category, ''), count(*),
            count(tracpro_num(a.last_value)), total(tracpro_num(a.last_value)), total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        count(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs CROSS JOIN answers a
        WHERE NEW.is_active = 1 AND cf.contact_id = NEW.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = NEW.org_id AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.id AND rs.is_active = 1
            AND a.response_id = rs.id
        GROUP BY cf.field_id, rs.pollrun_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

-- A contact's field value set, changed or cleared moves its active responses and answers between values.
CREATE TRIGGER field_counters_field_insert AFTER INSERT ON contact_fields
WHEN EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, rs.pollrun_id, 0, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = NEW.contact_id), cf.value, '', count(*), 0, 0, 0, 0, 0, 0
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs
        WHERE (SELECT is_active FROM contacts WHERE id = NEW.contact_id) = 1 AND cf.contact_id = NEW.contact_id AND cf.field_id = NEW.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = NEW.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.contact_id AND rs.is_active = 1
        GROUP BY cf.field_id, rs.pollrun_id
        UNION ALL
        SELECT cf.field_id, rs.pollrun_id, a.question_id, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = NEW.contact_id), cf.value, coalesce(a.category, ''), count(*),
            count(tracpro_num(a.last_value)), total(tracpro_num(a.last_value)), total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        count(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs CROSS JOIN answers a
        WHERE (SELECT is_active FROM contacts WHERE id = NEW.contact_id) = 1 AND cf.contact_id = NEW.contact_id AND cf.field_id = NEW.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = NEW.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.contact_id AND rs.is_active = 1
            AND a.response_id = rs.id
        GROUP BY cf.field_id, rs.pollrun_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

CREATE TRIGGER field_counters_field_delete BEFORE DELETE ON contact_fields
WHEN EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, rs.pollrun_id, 0, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = OLD.contact_id), cf.value, '', -count(*), 0, 0, 0, 0, 0, 0
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs
        WHERE (SELECT is_active FROM contacts WHERE id = OLD.contact_id) = 1 AND cf.contact_id = OLD.contact_id AND cf.field_id = OLD.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = OLD.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = OLD.contact_id AND rs.is_active = 1
        GROUP BY cf.field_id, rs.pollrun_id
        UNION ALL
        SELECT cf.field_id, rs.pollrun_id, a.question_id, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = OLD.contact_id), cf.value, coalesce(a.category, ''), -count(*),
            -count(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        -count(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs CROSS JOIN answers a
        WHERE (SELECT is_active FROM contacts WHERE id = OLD.contact_id) = 1 AND cf.contact_id = OLD.contact_id AND cf.field_id = OLD.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = OLD.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = OLD.contact_id AND rs.is_active = 1
            AND a.response_id = rs.id
        GROUP BY cf.field_id, rs.pollrun_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

CREATE TRIGGER field_counters_field_update_before BEFORE UPDATE OF contact_id, field_id, value ON contact_fields
WHEN (OLD.contact_id IS NOT NEW.contact_id OR OLD.field_id IS NOT NEW.field_id OR OLD.value IS NOT NEW.value)
    AND EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, rs.pollrun_id, 0, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = OLD.contact_id), cf.value, '', -count(*), 0, 0, 0, 0, 0, 0
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs
        WHERE (SELECT is_active FROM contacts WHERE id = OLD.contact_id) = 1 AND cf.contact_id = OLD.contact_id AND cf.field_id = OLD.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = OLD.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = OLD.contact_id AND rs.is_active = 1
        GROUP BY cf.field_id, rs.pollrun_id
        UNION ALL
        SELECT cf.field_id, rs.pollrun_id, a.question_id, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = OLD.contact_id), cf.value, coalesce(a.category, ''), -count(*),
            -count(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value)), -total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        -count(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value)), -total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs CROSS JOIN answers a
        WHERE (SELECT is_active FROM contacts WHERE id = OLD.contact_id) = 1 AND cf.contact_id = OLD.contact_id AND cf.field_id = OLD.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = OLD.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = OLD.contact_id AND rs.is_active = 1
            AND a.response_id = rs.id
        GROUP BY cf.field_id, rs.pollrun_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

CREATE TRIGGER field_counters_field_update_after AFTER UPDATE OF contact_id, field_id, value ON contact_fields
WHEN (OLD.contact_id IS NOT NEW.contact_id OR OLD.field_id IS NOT NEW.field_id OR OLD.value IS NOT NEW.value)
    AND EXISTS (SELECT 1 FROM data_fields WHERE show_on_tracpro = 1)
BEGIN
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, rs.pollrun_id, 0, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = NEW.contact_id), cf.value, '', count(*), 0, 0, 0, 0, 0, 0
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs
        WHERE (SELECT is_active FROM contacts WHERE id = NEW.contact_id) = 1 AND cf.contact_id = NEW.contact_id AND cf.field_id = NEW.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = NEW.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.contact_id AND rs.is_active = 1
        GROUP BY cf.field_id, rs.pollrun_id
        UNION ALL
        SELECT cf.field_id, rs.pollrun_id, a.question_id, (SELECT coalesce(region_id, 0) FROM contacts WHERE id = NEW.contact_id), cf.value, coalesce(a.category, ''), count(*),
            count(tracpro_num(a.last_value)), total(tracpro_num(a.last_value)), total(tracpro_num(a.last_value) * tracpro_num(a.last_value)),
        count(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value)), total(tracpro_num(a.sum_value) * tracpro_num(a.sum_value))
        FROM contact_fields cf CROSS JOIN data_fields df CROSS JOIN pollruns pr CROSS JOIN responses rs CROSS JOIN answers a
        WHERE (SELECT is_active FROM contacts WHERE id = NEW.contact_id) = 1 AND cf.contact_id = NEW.contact_id AND cf.field_id = NEW.field_id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1 AND pr.org_id = (SELECT org_id FROM contacts WHERE id = NEW.contact_id) AND rs.pollrun_id = pr.id AND rs.contact_id = NEW.contact_id AND rs.is_active = 1
            AND a.response_id = rs.id
        GROUP BY cf.field_id, rs.pollrun_id, a.question_id, a.category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

-- A field shown on TracPro gets its counters; a field hidden loses them.
CREATE TRIGGER field_counters_shown AFTER UPDATE OF show_on_tracpro ON data_fields
WHEN OLD.show_on_tracpro IS NOT NEW.show_on_tracpro
BEGIN
    DELETE FROM field_counters WHERE field_id = NEW.id;
    INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
    SELECT * FROM (
        SELECT cf.field_id, r.pollrun_id, 0, coalesce(c.region_id, 0), cf.value, '', count(*), 0, 0, 0, 0, 0, 0
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
        WHERE NEW.show_on_tracpro = 1 AND pr.org_id = NEW.org_id AND cf.field_id = NEW.id AND r.pollrun_id = pr.id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
        GROUP BY cf.field_id, r.pollrun_id, c.region_id, cf.value
        UNION ALL
        SELECT field_id, pollrun_id, question_id, region_id, value, category, sum(n),
            sum(n * (l IS NOT NULL)), total(n * l), total(n * l * l), sum(n * (s IS NOT NULL)), total(n * s), total(n * s * s)
        FROM (SELECT cf.field_id, r.pollrun_id, a.question_id, coalesce(c.region_id, 0) AS region_id, cf.value, coalesce(a.category, '') AS category,
                tracpro_num(a.last_value) AS l, tracpro_num(a.sum_value) AS s, count(*) AS n
            FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df CROSS JOIN answers a
            WHERE NEW.show_on_tracpro = 1 AND pr.org_id = NEW.org_id AND cf.field_id = NEW.id AND r.pollrun_id = pr.id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
                AND a.response_id = r.id
            GROUP BY cf.field_id, r.pollrun_id, c.region_id, cf.value, a.question_id, a.category, a.last_value, a.sum_value)
        GROUP BY field_id, pollrun_id, question_id, region_id, value, category
    ) WHERE true
    ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
            n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
            n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;
END;

-- The responses tab lists a poll run's responses newest first, 50 a page: this index reads the page in order
-- instead of sorting the poll run's 20,000 responses (issue #4 benchmark; its total comes from response_counters).
CREATE INDEX responses_pollrun_updated ON responses (pollrun_id, updated_on);

-- Numbers per poll run × question × panel: how many counted answers have each numeric value as their last value
-- (same_day_sum 0), and how many more have it as their same-day sum than as their last value (1; the sum
-- setting adds both, and an answer whose sum is its last value needs no row there) — the histogram of a poll
-- run's summary without reading its answers. Counted like answer_counters (active responses of active contacts,
-- under the contact's panel, numbers as models.ParseNumber reads them) and kept with them, in Go, by the same
-- deltas (models/counters.go); recount checks and fixes them with answer_counters.
CREATE TABLE value_counters (
    pollrun_id   INTEGER NOT NULL REFERENCES pollruns (id) ON DELETE CASCADE,
    question_id  INTEGER NOT NULL,
    region_id    INTEGER NOT NULL,
    same_day_sum INTEGER NOT NULL,                                 -- 0 = last values, 1 = sums minus last values
    number       REAL    NOT NULL,
    answers      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pollrun_id, question_id, same_day_sum, region_id, number)
) WITHOUT ROWID;

-- The counters of the data already there.
INSERT INTO field_counters (field_id, pollrun_id, question_id, region_id, value, category, answers, n_last, sum_last, sumsq_last, n_sum, sum_sum, sumsq_sum)
SELECT * FROM (
    SELECT cf.field_id, r.pollrun_id, 0, coalesce(c.region_id, 0), cf.value, '', count(*), 0, 0, 0, 0, 0, 0
    FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df
    WHERE 1 = 1 AND r.pollrun_id = pr.id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
    GROUP BY cf.field_id, r.pollrun_id, c.region_id, cf.value
    UNION ALL
    SELECT field_id, pollrun_id, question_id, region_id, value, category, sum(n),
        sum(n * (l IS NOT NULL)), total(n * l), total(n * l * l), sum(n * (s IS NOT NULL)), total(n * s), total(n * s * s)
    FROM (SELECT cf.field_id, r.pollrun_id, a.question_id, coalesce(c.region_id, 0) AS region_id, cf.value, coalesce(a.category, '') AS category,
            tracpro_num(a.last_value) AS l, tracpro_num(a.sum_value) AS s, count(*) AS n
        FROM pollruns pr CROSS JOIN responses r CROSS JOIN contacts c CROSS JOIN contact_fields cf CROSS JOIN data_fields df CROSS JOIN answers a
        WHERE 1 = 1 AND r.pollrun_id = pr.id AND r.is_active = 1 AND c.id = r.contact_id AND c.is_active = 1 AND cf.contact_id = c.id AND cf.value <> '' AND df.id = cf.field_id AND df.show_on_tracpro = 1
            AND a.response_id = r.id
        GROUP BY cf.field_id, r.pollrun_id, c.region_id, cf.value, a.question_id, a.category, a.last_value, a.sum_value)
    GROUP BY field_id, pollrun_id, question_id, region_id, value, category
) WHERE true
ON CONFLICT (field_id, pollrun_id, question_id, region_id, value, category) DO UPDATE SET answers = answers + excluded.answers,
        n_last = n_last + excluded.n_last, sum_last = sum_last + excluded.sum_last, sumsq_last = sumsq_last + excluded.sumsq_last,
        n_sum = n_sum + excluded.n_sum, sum_sum = sum_sum + excluded.sum_sum, sumsq_sum = sumsq_sum + excluded.sumsq_sum;

INSERT INTO value_counters (pollrun_id, question_id, region_id, same_day_sum, number, answers)
SELECT pollrun_id, question_id, region_id, kind, number, sum(n) FROM (
    WITH v AS (
        SELECT r.pollrun_id, a.question_id, coalesce(c.region_id, 0) AS region_id,
            CASE WHEN a.last_value GLOB '*[0-9]*' THEN tracpro_num(a.last_value) END AS l,
            CASE WHEN a.sum_value GLOB '*[0-9]*' THEN tracpro_num(a.sum_value) END AS s, count(*) AS n
        FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN answers a ON a.response_id = r.id
        WHERE r.is_active = 1 AND c.is_active = 1
        GROUP BY r.pollrun_id, a.question_id, c.region_id, a.last_value, a.sum_value)
    SELECT pollrun_id, question_id, region_id, 0 AS kind, l AS number, n FROM v WHERE l IS NOT NULL
    UNION ALL SELECT pollrun_id, question_id, region_id, 1, s, n FROM v WHERE s IS NOT NULL AND l IS NOT s
    UNION ALL SELECT pollrun_id, question_id, region_id, 1, l, -n FROM v WHERE l IS NOT NULL AND l IS NOT s
)
GROUP BY pollrun_id, question_id, region_id, kind, number;

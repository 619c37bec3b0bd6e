-- 0005_cohort_counters: responses per poll run × cohort × panel by status, for participation by cohort and
-- the home page's most active cohorts and panels without reading the raw rows (issue #4 benchmark). cohort_id 0
-- counts the contacts in at least one cohort (any cohort, active or not), so totals count a contact in several
-- cohorts once; cohort_id -1 counts every contact (the same figures as response_counters, but kept by the same
-- triggers as the cohorts, so the home page's lists agree with each other whatever wrote the responses). Counted = active responses of active contacts, under the contact's panel (0 = none), like
-- response_counters. Unlike the counters of 0003 (maintained in Go by models/counters.go) these are kept by
-- triggers, because they change with three tables (responses, contacts, contact_cohorts) written in several
-- places; `tracpro recount` checks them with the others and `--fix` rewrites them. A database upgraded with
-- data in it starts with empty cohort counters: run `tracpro recount --fix` once.
CREATE TABLE cohort_counters (
    pollrun_id INTEGER NOT NULL REFERENCES pollruns (id) ON DELETE CASCADE,
    cohort_id  INTEGER NOT NULL,                                   -- 0 = in at least one cohort, -1 = all
    region_id  INTEGER NOT NULL,                                   -- the contact's panel (0 = none)
    empty      INTEGER NOT NULL DEFAULT 0,
    partial    INTEGER NOT NULL DEFAULT 0,
    complete   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pollrun_id, cohort_id, region_id)
) WITHOUT ROWID;

-- A response counted in or out (the contact's state and cohorts as they are now).
CREATE TRIGGER cohort_counters_response_insert AFTER INSERT ON responses WHEN NEW.is_active = 1
BEGIN
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT NEW.pollrun_id, k.cohort_id, coalesce(c.region_id, 0), (NEW.status = 'E'), (NEW.status = 'P'), (NEW.status NOT IN ('E', 'P'))
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.contact_id
        UNION ALL SELECT 0 WHERE EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = NEW.contact_id)
        UNION ALL SELECT -1) k
    WHERE c.id = NEW.contact_id AND c.is_active = 1
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
END;

CREATE TRIGGER cohort_counters_response_delete AFTER DELETE ON responses WHEN OLD.is_active = 1
BEGIN
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT OLD.pollrun_id, k.cohort_id, coalesce(c.region_id, 0), -(OLD.status = 'E'), -(OLD.status = 'P'), -(OLD.status NOT IN ('E', 'P'))
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = OLD.contact_id
        UNION ALL SELECT 0 WHERE EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = OLD.contact_id)
        UNION ALL SELECT -1) k
    WHERE c.id = OLD.contact_id AND c.is_active = 1
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
END;

CREATE TRIGGER cohort_counters_response_update AFTER UPDATE OF pollrun_id, contact_id, is_active, status ON responses
WHEN OLD.pollrun_id IS NOT NEW.pollrun_id OR OLD.contact_id IS NOT NEW.contact_id OR OLD.is_active IS NOT NEW.is_active
    OR OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT OLD.pollrun_id, k.cohort_id, coalesce(c.region_id, 0), -(OLD.status = 'E'), -(OLD.status = 'P'), -(OLD.status NOT IN ('E', 'P'))
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = OLD.contact_id
        UNION ALL SELECT 0 WHERE EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = OLD.contact_id)
        UNION ALL SELECT -1) k
    WHERE c.id = OLD.contact_id AND c.is_active = 1 AND OLD.is_active = 1
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT NEW.pollrun_id, k.cohort_id, coalesce(c.region_id, 0), (NEW.status = 'E'), (NEW.status = 'P'), (NEW.status NOT IN ('E', 'P'))
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.contact_id
        UNION ALL SELECT 0 WHERE EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = NEW.contact_id)
        UNION ALL SELECT -1) k
    WHERE c.id = NEW.contact_id AND c.is_active = 1 AND NEW.is_active = 1
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
END;

-- A contact deactivated, re-activated or moved to another panel moves its active responses (found poll run by
-- poll run through responses_pollrun, as models/counters.go does).
CREATE TRIGGER cohort_counters_contact_update AFTER UPDATE OF is_active, region_id ON contacts
WHEN OLD.is_active IS NOT NEW.is_active OR (NEW.is_active = 1 AND coalesce(OLD.region_id, 0) <> coalesce(NEW.region_id, 0))
BEGIN
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT r.pollrun_id, k.cohort_id, coalesce(OLD.region_id, 0), -sum(r.status = 'E'), -sum(r.status = 'P'), -sum(r.status NOT IN ('E', 'P'))
    FROM pollruns pr CROSS JOIN responses r CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.id UNION ALL SELECT 0 WHERE EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = NEW.id)
        UNION ALL SELECT -1) k
    WHERE OLD.is_active = 1 AND pr.org_id = NEW.org_id AND r.pollrun_id = pr.id AND r.contact_id = NEW.id AND r.is_active = 1
    GROUP BY r.pollrun_id, k.cohort_id
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT r.pollrun_id, k.cohort_id, coalesce(NEW.region_id, 0), sum(r.status = 'E'), sum(r.status = 'P'), sum(r.status NOT IN ('E', 'P'))
    FROM pollruns pr CROSS JOIN responses r CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.id UNION ALL SELECT 0 WHERE EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = NEW.id)
        UNION ALL SELECT -1) k
    WHERE NEW.is_active = 1 AND pr.org_id = NEW.org_id AND r.pollrun_id = pr.id AND r.contact_id = NEW.id AND r.is_active = 1
    GROUP BY r.pollrun_id, k.cohort_id
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
END;

-- A contact joins or leaves a cohort: its active responses move in or out of that cohort, and of cohort 0 when
-- it is its first or its last.
CREATE TRIGGER cohort_counters_cohort_insert AFTER INSERT ON contact_cohorts
BEGIN
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT r.pollrun_id, k.cohort_id, coalesce(c.region_id, 0), sum(r.status = 'E'), sum(r.status = 'P'), sum(r.status NOT IN ('E', 'P'))
    FROM contacts c CROSS JOIN pollruns pr CROSS JOIN responses r CROSS JOIN (SELECT NEW.cohort_id AS cohort_id UNION ALL SELECT 0 WHERE (SELECT count(*) FROM contact_cohorts WHERE contact_id = NEW.contact_id) = 1) k
    WHERE c.id = NEW.contact_id AND c.is_active = 1 AND pr.org_id = c.org_id AND r.pollrun_id = pr.id AND r.contact_id = c.id AND r.is_active = 1
    GROUP BY r.pollrun_id, k.cohort_id
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
END;

CREATE TRIGGER cohort_counters_cohort_delete AFTER DELETE ON contact_cohorts
BEGIN
    INSERT INTO cohort_counters (pollrun_id, cohort_id, region_id, empty, partial, complete)
    SELECT r.pollrun_id, k.cohort_id, coalesce(c.region_id, 0), -sum(r.status = 'E'), -sum(r.status = 'P'), -sum(r.status NOT IN ('E', 'P'))
    FROM contacts c CROSS JOIN pollruns pr CROSS JOIN responses r CROSS JOIN (SELECT OLD.cohort_id AS cohort_id UNION ALL SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM contact_cohorts WHERE contact_id = OLD.contact_id)) k
    WHERE c.id = OLD.contact_id AND c.is_active = 1 AND pr.org_id = c.org_id AND r.pollrun_id = pr.id AND r.contact_id = c.id AND r.is_active = 1
    GROUP BY r.pollrun_id, k.cohort_id
    ON CONFLICT (pollrun_id, cohort_id, region_id) DO UPDATE SET empty = empty + excluded.empty,
        partial = partial + excluded.partial, complete = complete + excluded.complete;
END;

-- 0019_activity_counters: the home page's most active panels and cohorts count the responses *updated* in the last
-- 30 days (SPEC §3.7), whatever day their poll run was conducted: a run started 31 days ago and answered 5 days
-- ago counts. Counted = active, non-empty responses of active contacts, per UTC day of the response's updated_on
-- (updated_on / 86400000), per cohort of the contact (cohort -1 = every contact) × the contact's panel (0 = none),
-- and whether the poll run is spoofed (shown only when the org shows spoofed data). The home page sums the days of
-- its window (about 30 × panels × (cohorts + 1) rows) instead of reading 30 days of responses. Kept by triggers in
-- the writing transaction, like cohort_counters (0005): a response inserted, deleted or changed (poll run,
-- contact, activity, status, updated_on); a contact deactivated, re-activated or moved (its active responses found
-- poll run by poll run through responses_pollrun); a contact joining or leaving a cohort; a poll run made spoofed
-- or real. `tracpro recount`
-- checks them and --fix rewrites them; this migration fills them from the rows already there.
CREATE TABLE activity_counters (
    org_id    INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    day       INTEGER NOT NULL,                                    -- UTC day of updated_on (ms / 86400000)
    cohort_id INTEGER NOT NULL,                                    -- -1 = every contact
    region_id INTEGER NOT NULL,                                    -- the contact's panel (0 = none)
    spoofed   INTEGER NOT NULL,                                    -- the poll run is spoofed
    responses INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, day, cohort_id, region_id, spoofed)
) WITHOUT ROWID;

CREATE TRIGGER activity_counters_response_insert AFTER INSERT ON responses WHEN NEW.is_active = 1 AND NEW.status <> 'E'
BEGIN
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT NEW.org_id, NEW.updated_on / 86400000, k.cohort_id, coalesce(c.region_id, 0),
        coalesce((SELECT pollrun_type = 's' FROM pollruns WHERE id = NEW.pollrun_id), 0), 1
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.contact_id UNION ALL SELECT -1) k
    WHERE c.id = NEW.contact_id AND c.is_active = 1
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
END;

CREATE TRIGGER activity_counters_response_delete AFTER DELETE ON responses WHEN OLD.is_active = 1 AND OLD.status <> 'E'
BEGIN
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT OLD.org_id, OLD.updated_on / 86400000, k.cohort_id, coalesce(c.region_id, 0),
        coalesce((SELECT pollrun_type = 's' FROM pollruns WHERE id = OLD.pollrun_id), 0), -1
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = OLD.contact_id UNION ALL SELECT -1) k
    WHERE c.id = OLD.contact_id AND c.is_active = 1
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
END;

CREATE TRIGGER activity_counters_response_update AFTER UPDATE OF pollrun_id, contact_id, is_active, status, updated_on ON responses
WHEN (OLD.is_active = 1 AND OLD.status <> 'E') OR (NEW.is_active = 1 AND NEW.status <> 'E')
BEGIN
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT OLD.org_id, OLD.updated_on / 86400000, k.cohort_id, coalesce(c.region_id, 0),
        coalesce((SELECT pollrun_type = 's' FROM pollruns WHERE id = OLD.pollrun_id), 0), -1
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = OLD.contact_id UNION ALL SELECT -1) k
    WHERE c.id = OLD.contact_id AND c.is_active = 1 AND OLD.is_active = 1 AND OLD.status <> 'E'
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT NEW.org_id, NEW.updated_on / 86400000, k.cohort_id, coalesce(c.region_id, 0),
        coalesce((SELECT pollrun_type = 's' FROM pollruns WHERE id = NEW.pollrun_id), 0), 1
    FROM contacts c CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.contact_id UNION ALL SELECT -1) k
    WHERE c.id = NEW.contact_id AND c.is_active = 1 AND NEW.is_active = 1 AND NEW.status <> 'E'
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
END;

CREATE TRIGGER activity_counters_contact_update AFTER UPDATE OF is_active, region_id ON contacts
WHEN OLD.is_active IS NOT NEW.is_active OR (NEW.is_active = 1 AND coalesce(OLD.region_id, 0) <> coalesce(NEW.region_id, 0))
BEGIN
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT NEW.org_id, r.updated_on / 86400000, k.cohort_id, coalesce(OLD.region_id, 0), pr.pollrun_type = 's', -count(*)
    FROM pollruns pr CROSS JOIN responses r CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.id UNION ALL SELECT -1) k
    WHERE OLD.is_active = 1 AND pr.org_id = NEW.org_id AND r.pollrun_id = pr.id AND r.contact_id = NEW.id AND r.is_active = 1 AND r.status <> 'E'
    GROUP BY 2, 3, 5
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT NEW.org_id, r.updated_on / 86400000, k.cohort_id, coalesce(NEW.region_id, 0), pr.pollrun_type = 's', count(*)
    FROM pollruns pr CROSS JOIN responses r CROSS JOIN (SELECT cohort_id FROM contact_cohorts WHERE contact_id = NEW.id UNION ALL SELECT -1) k
    WHERE NEW.is_active = 1 AND pr.org_id = NEW.org_id AND r.pollrun_id = pr.id AND r.contact_id = NEW.id AND r.is_active = 1 AND r.status <> 'E'
    GROUP BY 2, 3, 5
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
END;

CREATE TRIGGER activity_counters_cohort_insert AFTER INSERT ON contact_cohorts
BEGIN
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT c.org_id, r.updated_on / 86400000, NEW.cohort_id, coalesce(c.region_id, 0), pr.pollrun_type = 's', count(*)
    FROM contacts c CROSS JOIN pollruns pr CROSS JOIN responses r
    WHERE c.id = NEW.contact_id AND c.is_active = 1 AND pr.org_id = c.org_id AND r.pollrun_id = pr.id AND r.contact_id = c.id
        AND r.is_active = 1 AND r.status <> 'E'
    GROUP BY 2, 5
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
END;

CREATE TRIGGER activity_counters_cohort_delete AFTER DELETE ON contact_cohorts
BEGIN
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT c.org_id, r.updated_on / 86400000, OLD.cohort_id, coalesce(c.region_id, 0), pr.pollrun_type = 's', -count(*)
    FROM contacts c CROSS JOIN pollruns pr CROSS JOIN responses r
    WHERE c.id = OLD.contact_id AND c.is_active = 1 AND pr.org_id = c.org_id AND r.pollrun_id = pr.id AND r.contact_id = c.id
        AND r.is_active = 1 AND r.status <> 'E'
    GROUP BY 2, 5
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
END;

-- A poll run made spoofed or real (no code path does it, but the counters stay exact whatever writes).
CREATE TRIGGER activity_counters_pollrun_type AFTER UPDATE OF pollrun_type ON pollruns
WHEN (OLD.pollrun_type = 's') IS NOT (NEW.pollrun_type = 's')
BEGIN
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT NEW.org_id, r.updated_on / 86400000, -1, coalesce(c.region_id, 0), s.spoofed, s.sign * count(*)
    FROM responses r JOIN contacts c ON c.id = r.contact_id
        CROSS JOIN (SELECT OLD.pollrun_type = 's' AS spoofed, -1 AS sign UNION ALL SELECT NEW.pollrun_type = 's', 1) s
    WHERE r.pollrun_id = NEW.id AND r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1
    GROUP BY 2, 4, 5
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
    INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
    SELECT NEW.org_id, r.updated_on / 86400000, cc.cohort_id, coalesce(c.region_id, 0), s.spoofed, s.sign * count(*)
    FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN contact_cohorts cc ON cc.contact_id = r.contact_id
        CROSS JOIN (SELECT OLD.pollrun_type = 's' AS spoofed, -1 AS sign UNION ALL SELECT NEW.pollrun_type = 's', 1) s
    WHERE r.pollrun_id = NEW.id AND r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1
    GROUP BY 2, 3, 4, 5
    ON CONFLICT (org_id, day, cohort_id, region_id, spoofed) DO UPDATE SET responses = responses + excluded.responses;
END;

-- The rows already there.
INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
SELECT r.org_id, r.updated_on / 86400000, -1, coalesce(c.region_id, 0), pr.pollrun_type = 's', count(*)
FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN pollruns pr ON pr.id = r.pollrun_id
WHERE r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1
GROUP BY 1, 2, 4, 5;
INSERT INTO activity_counters (org_id, day, cohort_id, region_id, spoofed, responses)
SELECT r.org_id, r.updated_on / 86400000, cc.cohort_id, coalesce(c.region_id, 0), pr.pollrun_type = 's', count(*)
FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN pollruns pr ON pr.id = r.pollrun_id
    JOIN contact_cohorts cc ON cc.contact_id = r.contact_id
WHERE r.is_active = 1 AND r.status <> 'E' AND c.is_active = 1
GROUP BY 1, 2, 3, 4, 5;

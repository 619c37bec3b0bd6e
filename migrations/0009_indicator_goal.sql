-- 0009_indicator_goal: an indicator's optional goal (SPEC §2.4: a goal replaces the baseline value; its
-- response rate is then not applicable), and a partial index to find an org's spoofed poll runs (SPEC §3.6
-- "Clear all spoof data").
ALTER TABLE indicators ADD COLUMN goal REAL;
CREATE INDEX indicators_org_end ON indicators (org_id, end_date);
CREATE INDEX pollruns_spoofed ON pollruns (org_id) WHERE pollrun_type = 's';

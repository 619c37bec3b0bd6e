-- 0017_sync_skips: why a pull skipped items (issue 11.3). Per pull, the skipped records by reason, as a JSON object
-- (e.g. {"not_in_tracked_panel": 12, "no_supported_urn": 2}; reasons in jobs/skips.go), shown by `tracpro sync`
-- and on "My organization" beside the total in `skipped`.
ALTER TABLE sync_runs ADD COLUMN skips TEXT NOT NULL DEFAULT '{}';
-- The newest pull of each resource that skipped records, found without reading the others.
CREATE INDEX sync_runs_skipped ON sync_runs (org_id, resource, id) WHERE skipped > 0;

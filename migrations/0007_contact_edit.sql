-- 0007_contact_edit: contacts created in TracPro carry a temporary UUID until
-- their create push reaches RapidPro (local_only = 1); the outbox worker then
-- stores RapidPro's UUID and clears the flag.
ALTER TABLE contacts ADD COLUMN local_only INTEGER NOT NULL DEFAULT 0;

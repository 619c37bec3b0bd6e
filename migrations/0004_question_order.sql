-- 0004_question_order: an order an administrator chose survives flow syncs
-- (like type_set for the question type).
ALTER TABLE questions ADD COLUMN order_set INTEGER NOT NULL DEFAULT 0;

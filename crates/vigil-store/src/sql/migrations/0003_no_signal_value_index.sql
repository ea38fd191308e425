-- Lookups by signal go to the in-memory indexes, never to this B-tree: it
-- only slowed imports, and PostgreSQL cannot index values as long as a
-- video's vPDQ signal (one frame hash per frame).
DROP INDEX content_signal_by_value;

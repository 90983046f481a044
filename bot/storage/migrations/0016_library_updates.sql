-- Portable SQL (SQLite and PostgreSQL run it as it is: BIGINT for Discord ids).
-- Saved-paper updates: a member hears once when a paper in their library gets a new arXiv version
-- or gains a code link, in the same grouped DM (and batch) as their follow alerts.

-- The newest arXiv version seen (arXiv feeds name it; NULL: none seen, which counts as v1).
ALTER TABLE papers ADD COLUMN arxiv_version INTEGER;

-- One row per (member, paper, change): the primary key is the exactly-once ledger, so a re-ingest
-- of the same version, or a code link seen again, never tells the member twice. Delivered through
-- alert_batches like alerts: pending -> sending (in a batch) -> sent.
CREATE TABLE library_updates (
    user_id    BIGINT NOT NULL REFERENCES members (user_id) ON DELETE CASCADE,
    paper_pk   BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    change     TEXT NOT NULL,                    -- 'v3': new arXiv version 3; 'code': a code link appeared
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'dropped')),
    batch_id   BIGINT REFERENCES alert_batches (id),
    message_id BIGINT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_pk, change)
);
CREATE INDEX library_updates_by_state ON library_updates (state, user_id);
CREATE INDEX library_updates_by_batch ON library_updates (batch_id);

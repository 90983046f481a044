-- The missed-day notices of one admin (or, DMs closed, of one channel) go out grouped: one
-- message (or as few as Discord's limits need) listing every digest and day not posted, instead of
-- one message per day (a week offline with 10 digests was 70 DMs). Delivered exactly once like an
-- alert DM: the batch is opened and its messages frozen in one transaction that takes its notices
-- (a notice is in at most one open batch), leased to one process and renewed before each part,
-- each part sent with a nonce of (batch, part) and recorded with the notices it told; a resume
-- reads the destination for the batch's marker first. Batch rows are never deleted: ids never repeat.
CREATE TABLE notice_batches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    target      TEXT NOT NULL,                -- dm (the admin) | channel (DMs closed, nobody known)
    target_id   INTEGER NOT NULL,             -- the admin's user id, or the digest's channel id
    guild_id    INTEGER NOT NULL,             -- the channel's server (0 for a DM)
    state       TEXT NOT NULL,                -- sending | sent (delivered, handed back or void)
    plan        TEXT NOT NULL DEFAULT '[]',   -- the frozen messages (JSON); each embed names its notices
    parts_sent  TEXT NOT NULL DEFAULT '{}',   -- JSON {part: message id}
    created_at  TEXT NOT NULL,
    owner       TEXT,
    lease_until TEXT,
    tries       INTEGER NOT NULL DEFAULT 0,   -- times taken for sending (more than one: read back first)
    attempts    INTEGER NOT NULL DEFAULT 0,   -- ambiguous failures (5xx, timeout)
    retry_at    TEXT NOT NULL
);

CREATE INDEX notice_batches_open ON notice_batches (state, retry_at);

ALTER TABLE digest_notices ADD COLUMN batch_id INTEGER REFERENCES notice_batches (id);

CREATE INDEX digest_notices_by_batch ON digest_notices (batch_id);

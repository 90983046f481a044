-- Weekly picks DMs delivered exactly once, as alert DMs are: the week's DM is opened (its message
-- frozen) in the same transaction that claims the week (library_settings.last_week), leased to one
-- process, sent with a deterministic nonce and closed once recorded. A failure leaves it open to a
-- later, backed-off retry (bounded by attempts); a resume first reads the member's DMs for the
-- week's marker. Closed DMs (any 403) close it as 'unreachable': no retry that week.

CREATE TABLE weekly_picks_sends (
    user_id      INTEGER NOT NULL,
    week         TEXT NOT NULL,               -- ISO week (2026-W31)
    state        TEXT NOT NULL,               -- sending | sent | unreachable | gave_up
    plan         TEXT NOT NULL,               -- the frozen DM (messages_to_data JSON)
    created_at   TEXT NOT NULL,               -- the claim: a read-back looks at DMs after it
    owner        TEXT,                        -- process instance id holding the lease
    lease_until  TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,  -- failed sends so far
    retry_at     TEXT NOT NULL,               -- not tried again before this (backoff)
    message_id   INTEGER,                     -- the DM that delivered it
    PRIMARY KEY (user_id, week)
);

CREATE INDEX weekly_picks_sends_open ON weekly_picks_sends (state, retry_at);

-- Per-server digest settings, the exactly-once post ledger, and what each source fetch brought.

CREATE TABLE digest_configs (
    guild_id      INTEGER PRIMARY KEY,
    channel_id    INTEGER NOT NULL,
    post_time     TEXT NOT NULL,                -- HH:MM, the server's local time
    timezone      TEXT NOT NULL,                -- IANA name
    max_papers    INTEGER NOT NULL CHECK (max_papers BETWEEN 1 AND 50),
    weekdays_only INTEGER NOT NULL DEFAULT 0,
    thread        INTEGER NOT NULL DEFAULT 0,
    source        TEXT NOT NULL DEFAULT 'hf-api',
    paused        INTEGER NOT NULL DEFAULT 0,
    pause_reason  TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- One row per server and local day: claimed before the first message is sent, each sent part's
-- message id recorded as it goes, confirmed at the end. A restart resumes a claimed row instead
-- of starting again, so a day is never posted twice and never silently skipped.
CREATE TABLE digest_posts (
    guild_id    INTEGER NOT NULL,
    post_day    TEXT NOT NULL,                  -- the server's local date the post is for
    list_date   TEXT,                           -- the daily list it shows (NULL: a note only)
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'posted', 'skipped', 'failed')),
    parts       INTEGER NOT NULL DEFAULT 0,
    message_ids TEXT NOT NULL DEFAULT '{}',     -- JSON {part: message id}
    error       TEXT,
    claimed_at  TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (guild_id, post_day)
) WITHOUT ROWID;

CREATE TABLE source_fetches (
    id         INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,
    list_date  TEXT,
    fetched_at TEXT NOT NULL,
    ok         INTEGER NOT NULL,
    papers     INTEGER NOT NULL DEFAULT 0,
    error      TEXT
);
CREATE INDEX source_fetches_latest ON source_fetches (source, fetched_at);

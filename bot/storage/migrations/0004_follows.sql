-- Members' keyword follows, the durable alert queue (also the no-paper-twice ledger), and DM batches.

CREATE TABLE members (
    user_id           INTEGER PRIMARY KEY,
    mode              TEXT NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'daily')),
    daily_time        TEXT NOT NULL DEFAULT '09:00',
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    paused_until      TEXT,                      -- ISO instant; 'forever' for an open-ended pause
    unreachable_since TEXT,                      -- DMs closed (Discord 50007): no sending until they return
    created_at        TEXT NOT NULL
);

-- Servers a member used /follow in: alerts stop once the member shares none with the bot.
CREATE TABLE member_guilds (
    user_id  INTEGER NOT NULL REFERENCES members (user_id) ON DELETE CASCADE,
    guild_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, guild_id)
) WITHOUT ROWID;

CREATE TABLE follows (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES members (user_id) ON DELETE CASCADE,
    keyword    TEXT NOT NULL,                    -- as the member typed it
    canonical  TEXT NOT NULL,                    -- normalised query: equal for equivalent keywords
    created_at TEXT NOT NULL,
    UNIQUE (user_id, canonical)
);

-- One row per (member, paper): written with the ingest that matched it, so nothing is lost
-- between match and send, and the primary key means no paper reaches a member twice.
CREATE TABLE alerts (
    user_id    INTEGER NOT NULL REFERENCES members (user_id) ON DELETE CASCADE,
    paper_pk   INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    keywords   TEXT NOT NULL,                    -- JSON array of the member's keywords that matched
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'dropped')),
    batch_id   INTEGER REFERENCES alert_batches (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_pk)
) WITHOUT ROWID;
CREATE INDEX alerts_by_state ON alerts (state, user_id);

-- A DM (possibly several messages) delivering some alerts; its messages carry "alerts <id>" so a
-- restarted bot can tell whether a batch that was being sent reached the member.
CREATE TABLE alert_batches (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
    local_day   TEXT,                            -- for daily mode: the member's day it belongs to
    message_ids TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX alert_batches_by_user ON alert_batches (user_id, state);

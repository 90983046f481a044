-- "Picks for you": which papers are new (inserted in the last days: created_at, indexed), and who
-- wants a weekly DM of picks, with the week last sent (claimed before sending: at most once a week).

CREATE INDEX papers_by_created ON papers (created_at);

CREATE TABLE library_settings (
    user_id       BIGINT PRIMARY KEY,
    weekly_picks  BIGINT NOT NULL DEFAULT 0,
    last_week     TEXT                          -- ISO week (2026-W31) of the last weekly picks DM
);

-- Votes in Discord: a server's own 👍 on digest entries, one per member per paper (a second vote
-- takes it back), ranked by /papers top scope:server. Counted per server: servers never see each
-- other's votes.
CREATE TABLE votes (
    guild_id BIGINT NOT NULL,
    paper_pk BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL,
    voted_at TEXT NOT NULL,                      -- ISO instant, UTC
    PRIMARY KEY (guild_id, paper_pk, user_id)
);
CREATE INDEX votes_by_user ON votes (user_id);  -- /privacy forget

-- Servers that turned the vote menu off (/digest setup votes:false); absent: on.
CREATE TABLE vote_settings (
    guild_id BIGINT PRIMARY KEY,
    enabled  INTEGER NOT NULL CHECK (enabled IN (0, 1))
);

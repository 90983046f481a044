-- What each digest post covers (issue: the whole day's list, every listed paper once per channel).

-- complete: the complete days since the last covered day; so-far: up to today's list as it stands.
ALTER TABLE digest_configs ADD COLUMN list_mode TEXT NOT NULL DEFAULT 'complete'
    CHECK (list_mode IN ('complete', 'so-far'));

-- One row per post that carries papers, written in the claim's transaction (whose plan is frozen in
-- digest_posts.plan): the source days it covers, so the next post starts after them.
CREATE TABLE digest_coverage (
    guild_id   BIGINT NOT NULL,
    post_day   TEXT NOT NULL,
    first_day  TEXT NOT NULL,                  -- the source's (UTC) days covered, inclusive
    last_day   TEXT NOT NULL,
    mode       TEXT NOT NULL,
    papers     BIGINT NOT NULL,
    PRIMARY KEY (guild_id, post_day)
);

-- Every paper a post carries, per channel: a listed paper reaches a channel once across posts.
CREATE TABLE digest_posted_papers (
    channel_id BIGINT NOT NULL,
    paper_pk   BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    guild_id   BIGINT NOT NULL,
    post_day   TEXT NOT NULL,
    position   BIGINT NOT NULL,               -- its rank in that post
    PRIMARY KEY (channel_id, paper_pk)
);
CREATE INDEX digest_posted_papers_by_post ON digest_posted_papers (guild_id, post_day);

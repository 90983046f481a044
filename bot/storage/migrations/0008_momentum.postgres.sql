-- Momentum: a paper's community counts each time a list holding it was fetched. Compact on
-- purpose (a row is a few bytes of integers): five years of lists, each paper re-fetched daily for
-- a month, is about 2.25 million rows.
CREATE TABLE paper_signals (
    paper_pk BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    taken_at BIGINT NOT NULL,                   -- unix seconds (UTC) of the fetch
    upvotes  BIGINT NOT NULL,
    comments BIGINT,                            -- NULL: the source did not say
    stars    BIGINT,
    PRIMARY KEY (paper_pk, taken_at)
);

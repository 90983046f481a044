-- Members' libraries: saved papers with read marks, tags and short notes. A member's own data,
-- not a server's: keyed by user only, so it works in DMs and follows them across servers.

CREATE TABLE library (
    user_id  BIGINT NOT NULL,
    paper_pk BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    saved_at TEXT NOT NULL,
    read_at  TEXT,                              -- NULL: unread
    tags     TEXT NOT NULL DEFAULT '[]',        -- JSON array of folded tags
    note     TEXT,
    PRIMARY KEY (user_id, paper_pk)
);
CREATE INDEX library_by_saved ON library (user_id, saved_at, paper_pk);

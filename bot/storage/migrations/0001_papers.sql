-- Papers, the daily lists they appeared on, and the full-text index over them.

CREATE TABLE papers (
    pk            INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,      -- arXiv id without version, else "t-" + hash of the title key
    arxiv_id      TEXT UNIQUE,
    title_key     TEXT NOT NULL,             -- folded title: the dedup key for papers without an arXiv id
    title         TEXT NOT NULL,
    abstract      TEXT NOT NULL,
    authors       TEXT NOT NULL DEFAULT '[]',  -- JSON array of names
    published     TEXT,                      -- ISO date
    first_listed  TEXT,                      -- ISO date of the earliest daily list it was on
    hf_url        TEXT,
    code_url      TEXT,
    project_url   TEXT,
    thumbnail_url TEXT,
    organization  TEXT,
    upvotes       INTEGER,
    ai_summary    TEXT,
    ai_keywords   TEXT NOT NULL DEFAULT '[]',  -- JSON array
    source        TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX papers_by_title_key ON papers (title_key);

-- Which paper was on which source's daily list on which date, and where.
CREATE TABLE listings (
    source    TEXT NOT NULL,
    list_date TEXT NOT NULL,
    paper_pk  INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    rank      INTEGER NOT NULL,
    PRIMARY KEY (source, list_date, paper_pk)
) WITHOUT ROWID;
CREATE INDEX listings_by_date ON listings (list_date, source, rank);
CREATE INDEX listings_by_paper ON listings (paper_pk);

-- External-content index: the text lives once, in papers. The paper repository keeps it in
-- step in bulk (one statement per batch instead of a trigger per row).
CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title, abstract, authors,
    content = 'papers', content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE papers_fts_terms USING fts5vocab (papers_fts, 'row');

-- Words of titles and how many titles hold them: the vocabulary for typo correction and
-- autocomplete, small enough to keep in memory even at a million papers.
CREATE TABLE title_terms (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL CHECK (docs >= 0)
) WITHOUT ROWID;

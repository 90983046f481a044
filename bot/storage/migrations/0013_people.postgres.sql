-- Who a listed paper is by, as Hugging Face knows it: each author slot (with the HF user who
-- claimed it, if any) and the organisation. Author and organisation follows match against these,
-- and /follow author|org autocomplete from them.
CREATE TABLE paper_people (
    paper_pk BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('author', 'org')),
    position BIGINT NOT NULL,                   -- author order (0 for the organisation)
    name     TEXT NOT NULL,                      -- as written
    folded   TEXT NOT NULL,                      -- case and accents folded (autocomplete)
    family   TEXT NOT NULL,                      -- folded last word (autocomplete by family name)
    hf_id    TEXT,                               -- HF user who claimed the slot / HF organisation id
    PRIMARY KEY (paper_pk, kind, position)
);
CREATE INDEX paper_people_by_name ON paper_people (kind, folded);
CREATE INDEX paper_people_by_family ON paper_people (kind, family);

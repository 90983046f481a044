-- A foreign key costs PostgreSQL a `SELECT 1 FROM papers WHERE pk = $1 FOR KEY SHARE` per inserted
-- row, run through SPI: the ingest writes about 4.5 author rows and one listing a paper, and these
-- checks were 15-18 us of the server's 150 us a paper (docs/performance.md, "Sixth session:
-- PostgreSQL ingest"). Nothing in paperbot deletes a paper, and the ingest writes author rows and
-- listings only for the pks it has just inserted or read in the same transaction, so the check
-- guarded no write the bot makes. What the keys did for a paper deleted by hand (its listings and
-- author rows go with it) a statement trigger now does, in one statement per delete.
ALTER TABLE paper_people DROP CONSTRAINT paper_people_paper_pk_fkey;
ALTER TABLE listings DROP CONSTRAINT listings_paper_pk_fkey;

CREATE FUNCTION paperbot_paper_rows_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM paper_people WHERE paper_pk IN (SELECT pk FROM deleted_papers);
    DELETE FROM listings WHERE paper_pk IN (SELECT pk FROM deleted_papers);
    RETURN NULL;
END $$;

CREATE TRIGGER papers_rows_deleted AFTER DELETE ON papers
REFERENCING OLD TABLE AS deleted_papers FOR EACH STATEMENT EXECUTE FUNCTION paperbot_paper_rows_deleted();

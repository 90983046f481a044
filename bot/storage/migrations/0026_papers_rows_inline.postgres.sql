-- A paper's row (about 3 kB: the abstract and the search vector) is past the 2 kB at which
-- PostgreSQL starts toasting a row: on every insert it tried to compress the abstract, moved it
-- out of line, then tried to compress the search vector (a vector rarely shrinks by the quarter
-- pglz asks for, so that work was thrown away). That was about 30 us of server CPU per ingested
-- paper, a fifth of the server's share (docs/performance.md, "Fifth session: PostgreSQL ingest").
-- Rows up to 8,160 bytes (what a page holds) now stay whole and uncompressed; a longer one is
-- still compressed and moved out of line as before. Searches read the vector from the heap page
-- either way (migration 0019) and no longer decompress one. Rows written before keep their form.
ALTER TABLE papers SET (toast_tuple_target = 8160);

-- Ranking reads every candidate's search vector. Left as EXTENDED (the default), a paper's vector
-- (title, abstract and authors with positions, a few kilobytes) was moved out of line into TOAST,
-- and ts_rank_cd over a 10,000-match window paid a TOAST index lookup per candidate (2.9 s at
-- 100k papers). MAIN keeps it compressed in the row: the abstract is moved out of line first, so
-- the scan reads the vector from the heap page it already holds.
ALTER TABLE papers ALTER COLUMN search SET STORAGE MAIN;
-- Storage settings apply to values written from now on: rewrite the vectors already stored
-- (concatenating the empty vector builds a fresh value for the toaster to place).
UPDATE papers SET search = search || ''::tsvector;

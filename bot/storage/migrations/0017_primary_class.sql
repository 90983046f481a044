-- A paper's primary arXiv category (cs.LG, hep-th), when a source names it (arXiv's Atom API:
-- arxiv:primary_category): exported as BibTeX primaryClass and an RIS keyword.
ALTER TABLE papers ADD COLUMN primary_class TEXT;

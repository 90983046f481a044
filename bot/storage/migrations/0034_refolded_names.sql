-- Author and organisation names fold as search folds them now (bot.domain.people.fold_name uses
-- bot.domain.text.fold): letters with no decomposition (Ł ł, Ø ø, Đ đ, Ħ ħ, ı, Œ œ, Æ æ) fold to the
-- letters people type, so `/follow author Lukasz` offers and matches Łukasz. Stored folded names
-- are folded again: paper_people and people_names (autocomplete looks names up by them) and person follows' keys
-- (a member's second follow of the same person is refused by them). Only names beyond ASCII can
-- change. A member who followed one person under two spellings that now fold alike keeps the
-- first follow. PostgreSQL's step is Python (bot.storage.refold.refold_names), which runs these
-- same functions.
UPDATE paper_people
SET folded = paperbot_fold_name(name), family = paperbot_family_key(name)
WHERE length(CAST(name AS BLOB)) <> length(name) AND folded <> paperbot_fold_name(name);
UPDATE people_names
SET folded = paperbot_fold_name(name), family = paperbot_family_key(name)
WHERE length(CAST(name AS BLOB)) <> length(name) AND folded <> paperbot_fold_name(name);

DELETE FROM follows
WHERE (canonical LIKE 'author:%' OR canonical LIKE 'org:%')
  AND EXISTS (
      SELECT 1 FROM follows AS kept
      WHERE kept.user_id = follows.user_id AND kept.id < follows.id
        AND paperbot_person_key(kept.canonical, kept.keyword) = paperbot_person_key(follows.canonical, follows.keyword)
  );
UPDATE follows
SET canonical = paperbot_person_key(canonical, keyword)
WHERE (canonical LIKE 'author:%' OR canonical LIKE 'org:%')
  AND length(CAST(keyword AS BLOB)) <> length(keyword)
  AND canonical <> paperbot_person_key(canonical, keyword);

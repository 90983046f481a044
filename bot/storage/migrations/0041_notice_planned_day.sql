-- A missed-day notice keeps the day its batch's frozen messages name it by (`planned_day`): a zone
-- change re-dates `post_day` (the ledger's key moves with the new calendar), and a part recorded
-- afterwards (by its sender, or by a resume that found it in the DMs) must still mark the notices
-- it told. Looked up by the re-dated day, a notice its part told stayed untold, and when the DMs
-- then refused a later part it was said again in the channel. Set when a batch takes a notice;
-- notices already in a batch take their current day.
ALTER TABLE digest_notices ADD COLUMN planned_day TEXT;

UPDATE digest_notices SET planned_day = post_day WHERE batch_id IS NOT NULL;

-- Leases and frozen plans: exactly once across restarts, partial failures and several processes.
--
-- A digest claim and an alert batch are owned by one process (owner: its instance id) until
-- lease_until, which the owner renews while sending; another process takes over only an expired
-- lease, by a conditional UPDATE (the same statement maps to FOR UPDATE SKIP LOCKED on PostgreSQL).
-- plan: the parts as planned at claim time (JSON); a resume sends exactly the remaining parts of it.

ALTER TABLE digest_posts ADD COLUMN owner TEXT;
ALTER TABLE digest_posts ADD COLUMN lease_until TEXT;       -- ISO instant, UTC
ALTER TABLE digest_posts ADD COLUMN plan TEXT;

ALTER TABLE alert_batches ADD COLUMN owner TEXT;
ALTER TABLE alert_batches ADD COLUMN lease_until TEXT;
ALTER TABLE alert_batches ADD COLUMN plan TEXT;
ALTER TABLE alert_batches ADD COLUMN parts_sent TEXT NOT NULL DEFAULT '{}';  -- JSON {part: message id}

-- Which DM message delivered each alert: after a partial failure only the others are sent again.
ALTER TABLE alerts ADD COLUMN message_id BIGINT;

CREATE INDEX alert_batches_by_lease ON alert_batches (state, lease_until);

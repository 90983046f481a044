-- The bot-wide source schedule runs in one process at a time: that process holds a lease it renews.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,               -- e.g. 'sources'
    owner      TEXT NOT NULL,                  -- process instance id
    expires_at TEXT NOT NULL                   -- ISO instant (UTC); free to take over after it
);

-- "Was this day's list fetched since ...?" (a digest about to post asks it).
CREATE INDEX source_fetches_by_list ON source_fetches (source, list_date, fetched_at);

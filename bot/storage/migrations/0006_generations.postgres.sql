-- A counter per kind of data, bumped by every transaction that changes it, from any process (the
-- bot, the CLI). A running bot compares it with what it last loaded and refreshes its in-memory
-- views (title vocabulary, follow index) without a restart. One cheap row read per check.
CREATE TABLE generations (
    name  TEXT PRIMARY KEY,                     -- papers | follows
    value BIGINT NOT NULL DEFAULT 0
);
INSERT INTO generations (name, value) VALUES ('papers', 0), ('follows', 0);

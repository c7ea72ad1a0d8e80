-- Compact messages: a message names its queue by the queue's number (qkey)
-- instead of its account and queue ids as text, and its id is no longer
-- stored or indexed: it is made from seq and a random id_tail (storage/ids,
-- message_id), so that finding a message by id is a lookup of its seq. The
-- message indexes are keyed by qkey. A queued message costs about half the
-- bytes it did (and far less with 32-character account and queue ids), and
-- each push, lease and ack dirties fewer index pages.
--
-- seq is never reused (AUTOINCREMENT): an id made from it names one
-- message for the life of the database, even when the same --seed gives
-- the same random tails again after a restart.
--
-- Messages stored before this migration keep their ids in legacy_id
-- (NULL for every later message), found through a partial index.
--
-- The queues' backlog_count and backlog_bytes are no longer kept by
-- triggers: the store changes them in the same statement sequence as the
-- messages (storage/delivery.cpp, adjust_backlog), once per push rather
-- than once per row. A trigger made every insert and delete a statement
-- that SQLite journals page by page (a statement journal), which cost more
-- than the insert itself.

ALTER TABLE queues ADD COLUMN qkey INTEGER;

UPDATE queues SET qkey = rowid;

CREATE UNIQUE INDEX queues_by_key ON queues (qkey);

CREATE TABLE messages_compact (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,  -- push order, never reused
  qkey          INTEGER NOT NULL REFERENCES queues (qkey) ON DELETE CASCADE,
  id_tail       INTEGER NOT NULL,      -- the random half of the message's id
  legacy_id     TEXT,                  -- the id of a message stored before this migration
  content_type  TEXT    NOT NULL CHECK (content_type IN ('text', 'json')),
  body          TEXT    NOT NULL,      -- text as sent, or compact JSON
  size_bytes    INTEGER NOT NULL,
  timestamp_ms  INTEGER NOT NULL,      -- push time
  delay_seconds INTEGER NOT NULL,      -- the delay that applied
  visible_at_ms INTEGER NOT NULL,      -- not delivered before this time
  attempts      INTEGER NOT NULL DEFAULT 0,  -- deliveries so far
  lease_id      TEXT,                  -- the current lease's nonce, NULL when none
  lease_history TEXT    NOT NULL DEFAULT '',  -- every lease's nonce, oldest first ('*': unknown)
  watch         INTEGER                -- 1: becomes ready at visible_at_ms, 2: lease ends then
);

INSERT INTO messages_compact (seq, qkey, id_tail, legacy_id, content_type, body, size_bytes,
                              timestamp_ms, delay_seconds, visible_at_ms, attempts, lease_id,
                              lease_history, watch)
SELECT m.seq, q.qkey, 0, m.id, m.content_type, m.body, m.size_bytes, m.timestamp_ms,
       m.delay_seconds, m.visible_at_ms, m.attempts, m.lease_id, m.lease_history, m.watch
  FROM messages m JOIN queues q ON q.account_id = m.account_id AND q.queue_id = m.queue_id;

-- Dropping the old table (and its triggers) fires none of them: the queues'
-- counts stay as they are.
DROP TABLE messages;

ALTER TABLE messages_compact RENAME TO messages;

CREATE INDEX messages_by_age ON messages (qkey, timestamp_ms);

CREATE INDEX messages_ready ON messages (qkey, visible_at_ms);  -- then seq (the rowid)

CREATE INDEX messages_watch ON messages (visible_at_ms) WHERE watch IS NOT NULL;

CREATE UNIQUE INDEX messages_by_legacy_id ON messages (legacy_id) WHERE legacy_id IS NOT NULL;

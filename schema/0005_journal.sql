-- The journal: every state change of every message, in the order it
-- happened (GET /_flareq/events). Bounded by --journal-size: the oldest
-- rows go first. Kept across restarts, resets and snapshot restores, so an
-- event's id never names another event.
CREATE TABLE events (
  id            INTEGER PRIMARY KEY,
  at_ms         INTEGER NOT NULL,        -- clock time (for time-based changes: when due)
  type          TEXT    NOT NULL,        -- pushed, ready, leased, acked, ...
  account_id    TEXT    NOT NULL DEFAULT '',
  queue_id      TEXT    NOT NULL DEFAULT '',
  message_id    TEXT    NOT NULL DEFAULT '',
  lease_id      TEXT,
  attempt       INTEGER,
  delay_seconds INTEGER,
  until_ms      INTEGER,                 -- visible again at (pushed, retried), lease end (leased)
  to_queue_id   TEXT,                    -- dead_lettered: the dead-letter queue
  count         INTEGER,                 -- purged, queue_deleted, reset: how many messages
  name          TEXT                     -- snapshot_restored: the snapshot
);

-- A change that becomes due with time, not with a request: 1 when a delay
-- ends at visible_at_ms (the message becomes ready), 2 when a lease ends
-- there. The sweeper journals it once due and clears it.
ALTER TABLE messages ADD COLUMN watch INTEGER;

CREATE INDEX messages_watch ON messages (visible_at_ms) WHERE watch IS NOT NULL;

UPDATE messages SET watch = CASE WHEN lease_id IS NOT NULL THEN 2 ELSE 1 END
 WHERE visible_at_ms > timestamp_ms;

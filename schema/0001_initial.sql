-- Queues and their messages.
--
-- Every queue belongs to an account: (account_id, queue_id) is its key.
-- backlog_count and backlog_bytes are kept by the triggers below in the same
-- transaction as the message rows, so metrics never scan the backlog; the
-- oldest timestamp comes from the messages_by_age index.

CREATE TABLE queues (
  account_id               TEXT    NOT NULL,
  queue_id                 TEXT    NOT NULL,
  queue_name               TEXT    NOT NULL,
  created_us               INTEGER NOT NULL,  -- microseconds since the epoch
  modified_us              INTEGER NOT NULL,
  delivery_delay           INTEGER NOT NULL DEFAULT 0,       -- seconds
  delivery_paused          INTEGER NOT NULL DEFAULT 0,       -- 0 or 1
  message_retention_period INTEGER NOT NULL DEFAULT 345600,  -- seconds
  backlog_count            INTEGER NOT NULL DEFAULT 0,
  backlog_bytes            INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, queue_id),
  UNIQUE (account_id, queue_name)
);

CREATE TABLE messages (
  seq           INTEGER PRIMARY KEY,   -- push order
  id            TEXT    NOT NULL UNIQUE,  -- 32 lowercase hex characters
  account_id    TEXT    NOT NULL,
  queue_id      TEXT    NOT NULL,
  content_type  TEXT    NOT NULL CHECK (content_type IN ('text', 'json')),
  body          TEXT    NOT NULL,      -- text as sent, or compact JSON
  size_bytes    INTEGER NOT NULL,
  timestamp_ms  INTEGER NOT NULL,      -- push time
  delay_seconds INTEGER NOT NULL,      -- the delay that applied
  visible_at_ms INTEGER NOT NULL,      -- not delivered before this time
  attempts      INTEGER NOT NULL DEFAULT 0,  -- deliveries so far
  FOREIGN KEY (account_id, queue_id) REFERENCES queues (account_id, queue_id)
    ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX messages_by_age ON messages (account_id, queue_id, timestamp_ms);

CREATE TRIGGER messages_counted_in AFTER INSERT ON messages BEGIN
  UPDATE queues
     SET backlog_count = backlog_count + 1, backlog_bytes = backlog_bytes + NEW.size_bytes
   WHERE account_id = NEW.account_id AND queue_id = NEW.queue_id;
END;

CREATE TRIGGER messages_counted_out AFTER DELETE ON messages BEGIN
  UPDATE queues
     SET backlog_count = backlog_count - 1, backlog_bytes = backlog_bytes - OLD.size_bytes
   WHERE account_id = OLD.account_id AND queue_id = OLD.queue_id;
END;

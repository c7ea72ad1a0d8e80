-- Delivery: leases, consumers, purge status.
--
-- A leased message is hidden by moving visible_at_ms to the lease's end;
-- lease_id names the current lease (NULL when none). attempts counts
-- deliveries. ready = visible_at_ms <= now.

ALTER TABLE messages ADD COLUMN lease_id TEXT;

CREATE INDEX messages_ready ON messages (account_id, queue_id, visible_at_ms, seq);

ALTER TABLE queues ADD COLUMN purge_started_us INTEGER;  -- NULL: never purged

-- At most one consumer per queue.
CREATE TABLE consumers (
  account_id            TEXT    NOT NULL,
  queue_id              TEXT    NOT NULL,
  consumer_id           TEXT    NOT NULL,
  type                  TEXT    NOT NULL CHECK (type IN ('worker', 'http_pull')),
  script_name           TEXT    NOT NULL DEFAULT '',
  dead_letter_queue     TEXT    NOT NULL DEFAULT '',  -- a queue name, or ''
  batch_size            INTEGER,
  max_concurrency       INTEGER,
  max_retries           INTEGER,
  max_wait_time_ms      INTEGER,
  retry_delay           INTEGER,
  visibility_timeout_ms INTEGER,
  created_us            INTEGER NOT NULL,
  PRIMARY KEY (account_id, queue_id),
  UNIQUE (account_id, consumer_id),
  FOREIGN KEY (account_id, queue_id) REFERENCES queues (account_id, queue_id)
    ON DELETE CASCADE ON UPDATE CASCADE
);

-- A message moved to a dead-letter queue leaves one backlog and joins another.
CREATE TRIGGER messages_moved AFTER UPDATE OF queue_id ON messages
WHEN OLD.queue_id IS NOT NEW.queue_id BEGIN
  UPDATE queues
     SET backlog_count = backlog_count - 1, backlog_bytes = backlog_bytes - OLD.size_bytes
   WHERE account_id = OLD.account_id AND queue_id = OLD.queue_id;
  UPDATE queues
     SET backlog_count = backlog_count + 1, backlog_bytes = backlog_bytes + NEW.size_bytes
   WHERE account_id = NEW.account_id AND queue_id = NEW.queue_id;
END;

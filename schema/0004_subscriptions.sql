-- Event subscriptions, and the declared queues deleted in this run.
--
-- A subscription sends another product's events to a queue; flareq stores
-- them as Cloudflare does but produces no events. source and events are
-- kept as the JSON the API returns (storage does not read them). They go
-- with their destination queue.

CREATE TABLE subscriptions (
  account_id      TEXT    NOT NULL,
  subscription_id TEXT    NOT NULL,  -- 32 lowercase hex characters
  name            TEXT    NOT NULL,
  enabled         INTEGER NOT NULL,  -- 0 or 1
  source          TEXT    NOT NULL,  -- JSON object: {"type": ..., its fields}
  events          TEXT    NOT NULL,  -- JSON array of strings
  queue_id        TEXT    NOT NULL,  -- the destination
  created_us      INTEGER NOT NULL,
  modified_us     INTEGER NOT NULL,
  PRIMARY KEY (account_id, subscription_id),
  FOREIGN KEY (account_id, queue_id) REFERENCES queues (account_id, queue_id)
    ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX subscriptions_by_queue ON subscriptions (account_id, queue_id);

-- Queues declared at start-up (--queue) and deleted through the API: they
-- stay deleted until flareq starts again, which empties this table.
CREATE TABLE deleted_declared (
  account_id TEXT NOT NULL,
  queue_id   TEXT NOT NULL,
  PRIMARY KEY (account_id, queue_id)
);

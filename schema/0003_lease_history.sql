-- Lease history: every lease a message was given, so that an ack by any of
-- them is recognised (Cloudflare accepts late acks) while a lease id that
-- was never issued is not.
--
-- lease_history holds the nonces of the message's leases, 32 hex characters
-- each, oldest first; lease_id stays the current one (NULL when none). A
-- move to a dead-letter queue starts the history again. A message delivered
-- before this migration has an unknown history, marked "*": any well-formed
-- lease id of it is taken as one it was given, as before.

ALTER TABLE messages ADD COLUMN lease_history TEXT NOT NULL DEFAULT '';

UPDATE messages SET lease_history = '*' WHERE attempts > 0;

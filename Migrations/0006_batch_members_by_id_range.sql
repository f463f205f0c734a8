-- EventSpool queue, version 6: a batch knows its members by id range, and a new batch's events
-- are written once, when its outcome is known.
--
-- Until version 5 each event row was rewritten twice after its insert: when its batch was
-- claimed (state 'inflight', batch_id) and when the batch got its 2xx (state 'sent'). Each
-- rewrite moved the event between partial indexes too (`events_pending`, `events_batch`,
-- `events_finished`). For a batch of 100 that was about 25 pages of the log per batch.
--
-- Now:
-- - `batches.first_event_id` and `last_event_id` bound the ids of a batch's members; every member
--   is in that range. A batch's members are the events of the range whose `batch_id` is the
--   batch's id, so `events_batch` is no longer needed.
-- - A batch cut from new events (`members_marked` = 0) is claimed by writing its `batches` row
--   alone. Until its outcome, its events still read `state = 'pending'` and `batch_id IS NULL`:
--   they are its members because they lie in its range (the claim took every pending event
--   without a batch from the first id to the last). `event_count` and `event_bytes` say how many
--   and how large. A 2xx then writes each event once: 'sent', with its batch_id. Any other
--   outcome, an expired lease, and a requeue of dead letters first write the members as before
--   ('inflight', batch_id) and set `members_marked` to 1.
-- - `totals` counts events by the state of their rows, so the events of a batch not yet marked
--   are under 'pending' there; `stats()`, `eventspool stats` and the views below count them as
--   in flight.
-- - Sent and dead events are pruned through their batches (`batches_finished`), so
--   `events_finished` is no longer needed either. `events_dead` keeps the dead letters quick
--   to list.
--
-- With sqlite3: the events of a batch are
--   SELECT e.* FROM batches b JOIN events e ON e.id BETWEEN b.first_event_id AND b.last_event_id
--   WHERE b.id = ? AND (e.batch_id = b.id OR (b.members_marked = 0 AND e.batch_id IS NULL AND e.state = 'pending'))

ALTER TABLE batches ADD COLUMN first_event_id INTEGER;
ALTER TABLE batches ADD COLUMN last_event_id INTEGER;
ALTER TABLE batches ADD COLUMN event_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN members_marked INTEGER NOT NULL DEFAULT 1 CHECK (members_marked IN (0, 1));

-- Every batch of an older file has its members marked; their ranges come from the rows (while
-- `events_batch` still exists to find them).
UPDATE batches SET
    first_event_id = (SELECT min(id) FROM events WHERE events.batch_id = batches.id),
    last_event_id = (SELECT max(id) FROM events WHERE events.batch_id = batches.id),
    event_bytes = (SELECT coalesce(sum(bytes), 0) FROM events WHERE events.batch_id = batches.id);

DROP INDEX events_batch;
DROP INDEX events_finished;
CREATE INDEX events_dead ON events (id) WHERE state = 'dead';
CREATE INDEX batches_finished ON batches (state, finished_at);

-- The views of version 2 that show pending events and counts, counting the events of batches
-- not yet marked as in flight.
DROP VIEW pending_events;
DROP VIEW queue_summary;

CREATE VIEW pending_events AS
SELECT e.id,
       e.uuid,
       e.kind,
       e.user_id,
       c.revision,
       c.url,
       e.batch_id,
       e.attempts,
       e.bytes,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.enqueued_at / 1000.0, 'unixepoch') AS enqueued,
       round((julianday('now') - julianday(e.enqueued_at / 1000.0, 'unixepoch')) * 86400.0, 1) AS age_seconds,
       CASE WHEN e.next_attempt_at > 0
            THEN strftime('%Y-%m-%dT%H:%M:%fZ', e.next_attempt_at / 1000.0, 'unixepoch') END AS next_attempt,
       e.last_status,
       e.last_error
FROM events e JOIN contexts c ON c.id = e.context_id
WHERE e.state = 'pending'
  AND NOT (e.batch_id IS NULL AND EXISTS (
      SELECT 1 FROM batches b
      WHERE b.state = 'inflight' AND b.members_marked = 0 AND e.id BETWEEN b.first_event_id AND b.last_event_id));

CREATE VIEW queue_summary AS
SELECT (SELECT events FROM totals WHERE state = 'pending')
         - (SELECT coalesce(sum(event_count), 0) FROM batches WHERE state = 'inflight' AND members_marked = 0) AS pending,
       (SELECT events FROM totals WHERE state = 'inflight')
         + (SELECT coalesce(sum(event_count), 0) FROM batches WHERE state = 'inflight' AND members_marked = 0) AS inflight,
       (SELECT events FROM totals WHERE state = 'sent')     AS sent,
       (SELECT events FROM totals WHERE state = 'dead')     AS dead,
       (SELECT bytes FROM totals WHERE state = 'pending')
         - (SELECT coalesce(sum(event_bytes), 0) FROM batches WHERE state = 'inflight' AND members_marked = 0) AS pending_bytes,
       (SELECT age_seconds FROM pending_events ORDER BY id LIMIT 1) AS oldest_pending_age_seconds,
       (SELECT value FROM counters WHERE name = 'batches_sent')   AS batches_sent,
       (SELECT value FROM counters WHERE name = 'retries')        AS retries,
       (SELECT value FROM counters WHERE name = 'dead_lettered')  AS dead_lettered,
       (SELECT value FROM counters WHERE name = 'dropped_oldest') AS dropped_oldest,
       (SELECT value FROM counters WHERE name = 'rejected_full')  AS rejected_full;

-- EventSpool queue, version 2: views for people using the sqlite3 command-line tool.
-- Times are shown as ISO 8601 UTC text; ages in seconds.

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
WHERE e.state = 'pending';

CREATE VIEW inflight_batches AS
SELECT b.id,
       c.url,
       c.revision,
       b.event_count,
       b.bytes,
       b.attempts,
       b.lease_owner,
       strftime('%Y-%m-%dT%H:%M:%fZ', b.lease_expires_at / 1000.0, 'unixepoch') AS lease_expires,
       b.lease_expires_at < CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS lease_expired,
       b.last_status,
       b.last_error
FROM batches b JOIN contexts c ON c.id = b.context_id
WHERE b.state = 'inflight';

CREATE VIEW dead_letters AS
SELECT e.id,
       e.uuid,
       e.kind,
       e.user_id,
       c.revision,
       c.url,
       e.batch_id,
       e.attempts,
       e.last_status,
       e.last_error,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.finished_at / 1000.0, 'unixepoch') AS died,
       e.visitor_json
FROM events e JOIN contexts c ON c.id = e.context_id
WHERE e.state = 'dead';

CREATE VIEW queue_summary AS
SELECT (SELECT events FROM totals WHERE state = 'pending')  AS pending,
       (SELECT events FROM totals WHERE state = 'inflight') AS inflight,
       (SELECT events FROM totals WHERE state = 'sent')     AS sent,
       (SELECT events FROM totals WHERE state = 'dead')     AS dead,
       (SELECT bytes FROM totals WHERE state IN ('pending')) AS pending_bytes,
       (SELECT round((julianday('now') - julianday(enqueued_at / 1000.0, 'unixepoch')) * 86400.0, 1)
          FROM events WHERE state = 'pending' ORDER BY id LIMIT 1) AS oldest_pending_age_seconds,
       (SELECT value FROM counters WHERE name = 'batches_sent')   AS batches_sent,
       (SELECT value FROM counters WHERE name = 'retries')        AS retries,
       (SELECT value FROM counters WHERE name = 'dead_lettered')  AS dead_lettered,
       (SELECT value FROM counters WHERE name = 'dropped_oldest') AS dropped_oldest,
       (SELECT value FROM counters WHERE name = 'rejected_full')  AS rejected_full;

-- EventSpool queue, version 1: the whole schema.
--
-- Every accepted event is a row of `events`. A worker cuts runs of waiting events into
-- `batches`, one request each, and from that moment each event points at its batch
-- (`events.batch_id`): the batch's row says what is happening to all of its events. So an
-- event's state is
--   pending   batch_id IS NULL (not in a batch yet), or its batch waits for a retry ('retry')
--   inflight  its batch is being sent ('inflight')
--   sent      its batch got a 2xx ('sent')
--   dead      its batch was dead-lettered ('dead')
--
-- Times are integers, milliseconds since the Unix epoch (UTC); the views below show them as
-- ISO 8601 text. JSON columns hold UTF-8 JSON text.

-- The context of an event (spec §3): stored once, referenced by every event and batch of it.
-- Events are batched only with events of the same context; `url` is where its batches go.
CREATE TABLE contexts (
    id             INTEGER PRIMARY KEY,
    account_id     TEXT    NOT NULL,
    project_id     TEXT    NOT NULL,
    revision       TEXT    NOT NULL,
    region         TEXT    NOT NULL CHECK (region IN ('US', 'EU')),
    anonymize_ip   INTEGER NOT NULL CHECK (anonymize_ip IN (0, 1)),
    client_name    TEXT    NOT NULL,
    client_version TEXT    NOT NULL,
    url            TEXT    NOT NULL,
    UNIQUE (account_id, project_id, revision, region, anonymize_ip, client_name, client_version)
);

-- A request: a run of consecutive waiting events of one context, cut by spec §5. A batch keeps
-- its events, so a resend (after a retryable failure or a crash) carries the same events in the
-- same order, byte for byte.
--   inflight  a worker is sending it; lease_owner holds it until lease_expires_at, and renews
--             the lease while the request is out
--   retry     waits for next_attempt_at (after a failure, an expired lease, or a split)
--   sent      a 2xx was received (last_status)
--   dead      its events are dead letters: last_status and last_error say why
--   split     refused whole (413, or 400 for several events): its events moved to two new
--             batches, its first half and its second half; it keeps no events
-- (The CHECK constraints of the two tables written for every event compare with `=` rather
-- than `IN (...)`, which SQLite checks by building a temporary b-tree for every row written.)
CREATE TABLE batches (
    id               INTEGER PRIMARY KEY,
    context_id       INTEGER NOT NULL REFERENCES contexts (id),
    state            TEXT    NOT NULL
                     CHECK (state = 'inflight' OR state = 'retry' OR state = 'sent' OR state = 'dead' OR state = 'split'),
    event_count      INTEGER NOT NULL,              -- its events
    event_bytes      INTEGER NOT NULL,              -- the sum of their `bytes`
    body_bytes       INTEGER NOT NULL,              -- the size of the request body
    attempts         INTEGER NOT NULL DEFAULT 0,    -- times claimed to be sent
    created_at       INTEGER NOT NULL,
    lease_owner      TEXT,                          -- host/pid/process start/queue instance
    lease_expires_at INTEGER,
    next_attempt_at  INTEGER,
    last_status      INTEGER,                       -- HTTP status of the last attempt
    last_error       TEXT,                          -- why the last attempt failed, or why it is dead
    finished_at      INTEGER                        -- when it was sent, dead-lettered or split
);

-- Batches by state: the in-flight ones (leases), those waiting for a retry, and finished ones
-- by age (pruning).
CREATE INDEX batches_state ON batches (state, finished_at);

-- One row per accepted user event, in enqueue order (id). `uuid` is unique: the same event is
-- never queued twice (spec §3). Its visitor JSON is in `event_bodies`.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind = 'impression' OR kind = 'conversion'),
    user_id     TEXT    NOT NULL,
    context_id  INTEGER NOT NULL REFERENCES contexts (id),
    bytes       INTEGER NOT NULL,                   -- the size of its visitor JSON
    event_time  INTEGER NOT NULL,                   -- the event's own timestamp
    enqueued_at INTEGER NOT NULL,
    batch_id    INTEGER REFERENCES batches (id)     -- NULL until a worker puts it in a batch
);

-- Events by batch. The events not in a batch yet (batch_id NULL) come first, in enqueue order:
-- that is where a worker cuts the next batch. Then each batch's events, in order.
CREATE INDEX events_batch ON events (batch_id);

-- The serialized visitor JSON of each event, exactly as it will be sent, under the event's id.
-- Written once with its event and deleted with it; kept apart from `events` so that putting an
-- event in a batch rewrites a short row.
CREATE TABLE event_bodies (
    event_id     INTEGER PRIMARY KEY,
    visitor_json TEXT NOT NULL
);

-- Events and visitor bytes by state (the states at the top), so that `stats` and the queue's
-- bounds cost one read instead of a scan of a large backlog. EventQueue keeps it in the same
-- transaction as every change it makes; a row inserted or changed by hand is not counted here.
CREATE TABLE totals (
    state  TEXT PRIMARY KEY,
    events INTEGER NOT NULL,
    bytes  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO totals (state, events, bytes) VALUES ('pending', 0, 0), ('inflight', 0, 0), ('sent', 0, 0), ('dead', 0, 0);

-- Counters of what happened, never decremented, kept across purges:
--   batches_sent, events_sent, retries, splits, dead_lettered, leases_recovered,
--   dropped_oldest (overflow policy dropOldest), rejected_full (a bound refused an event),
--   pruned_sent (retention), purged, requeued
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES
    ('batches_sent', 0), ('events_sent', 0), ('retries', 0), ('splits', 0), ('dead_lettered', 0),
    ('leases_recovered', 0), ('dropped_oldest', 0), ('rejected_full', 0), ('pruned_sent', 0),
    ('purged', 0), ('requeued', 0);

-- The Optimizely client's user profiles (sticky bucketing, decisions.md §7): one row per user and
-- experiment, the variation the user was bucketed into, so that a user keeps their variation
-- across restarts, like the events. SQLiteUserProfileService reads a user's rows before a
-- decision and writes the decision's new rows after it; nothing else reads or writes this table.
CREATE TABLE user_profiles (
    user_id       TEXT    NOT NULL,
    experiment_id TEXT    NOT NULL,
    variation_id  TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,   -- when the row was last written
    PRIMARY KEY (user_id, experiment_id)
) WITHOUT ROWID;

-- Views for people using the sqlite3 command-line tool: times as ISO 8601 UTC text, ages in
-- seconds.

-- Events waiting to be sent: those not in a batch yet, then those whose batch waits for its
-- retry (each half reads through an index).
CREATE VIEW pending_events AS
SELECT e.id,
       e.uuid,
       e.kind,
       e.user_id,
       c.revision,
       c.url,
       NULL AS batch_id,
       0 AS attempts,
       e.bytes,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.enqueued_at / 1000.0, 'unixepoch') AS enqueued,
       round((julianday('now') - julianday(e.enqueued_at / 1000.0, 'unixepoch')) * 86400.0, 1) AS age_seconds,
       NULL AS next_attempt,
       NULL AS last_status,
       NULL AS last_error
FROM events e JOIN contexts c ON c.id = e.context_id
WHERE e.batch_id IS NULL
UNION ALL
SELECT e.id,
       e.uuid,
       e.kind,
       e.user_id,
       c.revision,
       c.url,
       e.batch_id,
       b.attempts,
       e.bytes,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.enqueued_at / 1000.0, 'unixepoch'),
       round((julianday('now') - julianday(e.enqueued_at / 1000.0, 'unixepoch')) * 86400.0, 1),
       strftime('%Y-%m-%dT%H:%M:%fZ', b.next_attempt_at / 1000.0, 'unixepoch'),
       b.last_status,
       b.last_error
FROM batches b
JOIN events e ON e.batch_id = b.id
JOIN contexts c ON c.id = e.context_id
WHERE b.state = 'retry';

-- Batches being sent, with their lease.
CREATE VIEW inflight_batches AS
SELECT b.id,
       c.url,
       c.revision,
       b.event_count,
       b.body_bytes,
       b.attempts,
       b.lease_owner,
       strftime('%Y-%m-%dT%H:%M:%fZ', b.lease_expires_at / 1000.0, 'unixepoch') AS lease_expires,
       b.lease_expires_at < CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS lease_expired,
       b.last_status,
       b.last_error
FROM batches b JOIN contexts c ON c.id = b.context_id
WHERE b.state = 'inflight';

-- Dead-lettered events, with the server's answer and the visitor JSON that was refused.
CREATE VIEW dead_letters AS
SELECT e.id,
       e.uuid,
       e.kind,
       e.user_id,
       c.revision,
       c.url,
       e.batch_id,
       b.attempts,
       b.last_status,
       b.last_error,
       strftime('%Y-%m-%dT%H:%M:%fZ', b.finished_at / 1000.0, 'unixepoch') AS died,
       body.visitor_json
FROM batches b
JOIN events e ON e.batch_id = b.id
JOIN contexts c ON c.id = e.context_id
JOIN event_bodies body ON body.event_id = e.id
WHERE b.state = 'dead';

-- One row: events by state, the oldest waiting event's age, and the counters.
CREATE VIEW queue_summary AS
SELECT (SELECT events FROM totals WHERE state = 'pending')  AS pending,
       (SELECT events FROM totals WHERE state = 'inflight') AS inflight,
       (SELECT events FROM totals WHERE state = 'sent')     AS sent,
       (SELECT events FROM totals WHERE state = 'dead')     AS dead,
       (SELECT bytes FROM totals WHERE state = 'pending')   AS pending_bytes,
       (SELECT round((julianday('now') - julianday(min(enqueued_at) / 1000.0, 'unixepoch')) * 86400.0, 1)
          FROM (SELECT (SELECT enqueued_at FROM events WHERE batch_id IS NULL ORDER BY id LIMIT 1) AS enqueued_at
                UNION ALL
                SELECT min(e.enqueued_at) FROM batches b JOIN events e ON e.batch_id = b.id WHERE b.state = 'retry'))
                                                                   AS oldest_pending_age_seconds,
       (SELECT value FROM counters WHERE name = 'batches_sent')   AS batches_sent,
       (SELECT value FROM counters WHERE name = 'retries')        AS retries,
       (SELECT value FROM counters WHERE name = 'dead_lettered')  AS dead_lettered,
       (SELECT value FROM counters WHERE name = 'dropped_oldest') AS dropped_oldest,
       (SELECT value FROM counters WHERE name = 'rejected_full')  AS rejected_full;

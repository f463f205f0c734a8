-- EventSpool queue, version 1: the tables.
-- Times are integers in milliseconds since the Unix epoch (UTC); the views of migration 2 show
-- them as ISO 8601 text. JSON columns hold UTF-8 JSON text.

-- The context of an event (spec §3): stored once, referenced by every event and batch of it.
-- Events are batched only with events of the same context.
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

-- A request: a run of events of one context. A claimed batch keeps its members, so a resend
-- (after a retryable failure or a crash) has the same events in the same order, byte for byte.
--   inflight  claimed by a worker, lease until lease_expires_at
--   retry     waiting for next_attempt_at after a failure or an expired lease
--   sent      a 2xx was received
--   dead      its events were dead-lettered
--   split     replaced by two smaller batches after a 413 or a 400
CREATE TABLE batches (
    id               INTEGER PRIMARY KEY,
    context_id       INTEGER NOT NULL REFERENCES contexts (id),
    state            TEXT    NOT NULL CHECK (state IN ('inflight', 'retry', 'sent', 'dead', 'split')),
    event_count      INTEGER NOT NULL,
    bytes            INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER,
    last_error       TEXT,
    finished_at      INTEGER
);

-- One row per accepted user event, in enqueue order (id).
--   pending   waiting to be sent; with a batch_id, it waits for that batch's retry
--   inflight  its batch is being sent
--   sent      its batch got a 2xx
--   dead      dead-lettered: last_status and last_error say why
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('impression', 'conversion')),
    user_id         TEXT    NOT NULL,
    context_id      INTEGER NOT NULL REFERENCES contexts (id),
    visitor_json    TEXT    NOT NULL,
    bytes           INTEGER NOT NULL,
    event_time      INTEGER NOT NULL,
    enqueued_at     INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'inflight', 'sent', 'dead')),
    batch_id        INTEGER REFERENCES batches (id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    finished_at     INTEGER
);

-- The claim path reads pending events oldest first; this index holds only those.
CREATE INDEX events_pending ON events (id) WHERE state = 'pending';
CREATE INDEX events_batch ON events (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX events_finished ON events (state, finished_at) WHERE state IN ('sent', 'dead');
CREATE INDEX batches_inflight ON batches (lease_expires_at) WHERE state = 'inflight';

-- Counts and bytes by state, kept by triggers so that stats and the queue bounds cost one
-- read instead of a scan of a large backlog.
CREATE TABLE totals (
    state  TEXT PRIMARY KEY,
    events INTEGER NOT NULL,
    bytes  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO totals (state, events, bytes) VALUES ('pending', 0, 0), ('inflight', 0, 0), ('sent', 0, 0), ('dead', 0, 0);

CREATE TRIGGER events_totals_insert AFTER INSERT ON events BEGIN
    UPDATE totals SET events = events + 1, bytes = bytes + NEW.bytes WHERE state = NEW.state;
END;
CREATE TRIGGER events_totals_delete AFTER DELETE ON events BEGIN
    UPDATE totals SET events = events - 1, bytes = bytes - OLD.bytes WHERE state = OLD.state;
END;
CREATE TRIGGER events_totals_update AFTER UPDATE OF state ON events WHEN OLD.state <> NEW.state BEGIN
    UPDATE totals SET events = events - 1, bytes = bytes - OLD.bytes WHERE state = OLD.state;
    UPDATE totals SET events = events + 1, bytes = bytes + NEW.bytes WHERE state = NEW.state;
END;

-- Monotonic counters of what happened (never decremented, kept across purges):
--   batches_sent, events_sent, retries, splits, dead_lettered, leases_recovered,
--   dropped_oldest (overflow policy dropOldest), rejected_full (overflow policy rejectNew),
--   pruned_sent (retention), purged, requeued
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES
    ('batches_sent', 0), ('events_sent', 0), ('retries', 0), ('splits', 0), ('dead_lettered', 0),
    ('leases_recovered', 0), ('dropped_oldest', 0), ('rejected_full', 0), ('pruned_sent', 0),
    ('purged', 0), ('requeued', 0);

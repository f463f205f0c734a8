-- EventSpool queue, version 8: the CHECK constraints of `events` and `batches` without IN lists.
--
-- SQLite checks `x IN ('a', 'b', ...)` in a CHECK constraint by building a temporary b-tree of
-- the list, again for every row a statement writes, and EventQueue writes an event with one
-- statement each time (its insert; its 2xx). Measured once on the project's machine (Python's
-- sqlite3 module, the same schema and statements): about a third of an insert's time and a
-- quarter of a 2xx's update; end to end, the benchmark went from 90,000-100,000 to
-- 115,000-124,000 events/s. `x = 'a' OR x = 'b' ...` accepts and refuses exactly the same
-- values, without that cost.
--
-- SQLite cannot change a constraint in place, so both tables are rebuilt with their rows and ids,
-- as in version 4. `legacy_alter_table` keeps the RENAME from checking the views, which refer to
-- the tables by name and see the same columns afterwards. (`contexts` keeps its IN lists: it
-- takes one row per context, not per event.)

PRAGMA legacy_alter_table = ON;

CREATE TABLE events_v8 (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT    NOT NULL,
    uuid_key        INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind = 'impression' OR kind = 'conversion'),
    user_id         TEXT    NOT NULL,
    context_id      INTEGER NOT NULL REFERENCES contexts (id),
    bytes           INTEGER NOT NULL,
    event_time      INTEGER NOT NULL,
    enqueued_at     INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state = 'pending' OR state = 'inflight' OR state = 'sent' OR state = 'dead'),
    batch_id        INTEGER REFERENCES batches (id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    finished_at     INTEGER
);

INSERT INTO events_v8 (id, uuid, uuid_key, kind, user_id, context_id, bytes, event_time, enqueued_at,
                       state, batch_id, attempts, next_attempt_at, last_status, last_error, finished_at)
SELECT id, uuid, uuid_key, kind, user_id, context_id, bytes, event_time, enqueued_at,
       state, batch_id, attempts, next_attempt_at, last_status, last_error, finished_at
FROM events;

-- Drops the old table's indexes with it.
DROP TABLE events;
ALTER TABLE events_v8 RENAME TO events;
CREATE INDEX events_pending ON events (id) WHERE state = 'pending';
CREATE INDEX events_dead ON events (id) WHERE state = 'dead';

CREATE TABLE batches_v8 (
    id               INTEGER PRIMARY KEY,
    context_id       INTEGER NOT NULL REFERENCES contexts (id),
    state            TEXT    NOT NULL
                     CHECK (state = 'inflight' OR state = 'retry' OR state = 'sent' OR state = 'dead' OR state = 'split'),
    event_count      INTEGER NOT NULL,
    bytes            INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER,
    last_error       TEXT,
    finished_at      INTEGER,
    first_event_id   INTEGER,
    last_event_id    INTEGER,
    event_bytes      INTEGER NOT NULL DEFAULT 0,
    members_marked   INTEGER NOT NULL DEFAULT 1 CHECK (members_marked = 0 OR members_marked = 1)
);

INSERT INTO batches_v8 (id, context_id, state, event_count, bytes, attempts, created_at, lease_owner, lease_expires_at,
                        next_attempt_at, last_status, last_error, finished_at, first_event_id, last_event_id,
                        event_bytes, members_marked)
SELECT id, context_id, state, event_count, bytes, attempts, created_at, lease_owner, lease_expires_at,
       next_attempt_at, last_status, last_error, finished_at, first_event_id, last_event_id,
       event_bytes, members_marked
FROM batches;

DROP TABLE batches;
ALTER TABLE batches_v8 RENAME TO batches;
CREATE INDEX batches_inflight ON batches (lease_expires_at) WHERE state = 'inflight';
CREATE INDEX batches_finished ON batches (state, finished_at);

PRAGMA legacy_alter_table = OFF;

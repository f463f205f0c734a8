-- EventSpool queue, version 4: a cheaper duplicate guard, the visitor JSON apart from the rows
-- that change, and every change of an event's state counted by EventQueue itself.
--
-- The duplicate guard (spec §3) was a UNIQUE index on the 36-character uuid text. Random uuids
-- land all over that index, so each group of appends rewrote most of its pages, and the WAL and
-- the checkpoints that follow it grew with them. `uuid_key` is a 64-bit FNV-1a hash of the uuid's
-- UTF-8 bytes (the function `eventspool_uuid_key`, which EventSpool defines on its connections);
-- its index is less than half the size. EventQueue looks the key up before each insert and
-- compares the uuid text of any row it finds, so two different uuids that share a key are both
-- kept, and a uuid is still never queued twice. To find an event by uuid with sqlite3, use
-- `WHERE uuid = '…'` as before (a scan: the index is on the key).
--
-- An event's row is rewritten twice after its insert (claimed, then sent). With the visitor JSON
-- (about 500 bytes) in it, each of those rewrites dirtied six times the pages; the JSON, written
-- once and never changed, now lives in `event_bodies`, one row per event under the same id.
--
-- The row triggers of version 1 that kept `totals` on UPDATE and DELETE fired two statements per
-- event; EventQueue now counts each statement's rows by state and updates `totals` once.
-- (An event changed by hand with sqlite3 is therefore not counted in `totals`.)
--
-- SQLite cannot drop a UNIQUE column constraint, so the table is rebuilt with its rows and ids.
-- `legacy_alter_table` keeps the RENAME from checking the views of version 2 while `events` is
-- briefly missing; they refer to the table by name. `dead_letters`, which shows the visitor
-- JSON, is made again over both tables.

DROP VIEW dead_letters;

PRAGMA legacy_alter_table = ON;

CREATE TABLE events_v4 (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT    NOT NULL,
    uuid_key        INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('impression', 'conversion')),
    user_id         TEXT    NOT NULL,
    context_id      INTEGER NOT NULL REFERENCES contexts (id),
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

INSERT INTO events_v4 (id, uuid, uuid_key, kind, user_id, context_id, bytes, event_time, enqueued_at,
                       state, batch_id, attempts, next_attempt_at, last_status, last_error, finished_at)
SELECT id, uuid, eventspool_uuid_key(uuid), kind, user_id, context_id, bytes, event_time, enqueued_at,
       state, batch_id, attempts, next_attempt_at, last_status, last_error, finished_at
FROM events;

-- The serialized visitor JSON of each event, exactly as it will be sent (`bytes` in `events` is
-- its length in bytes). Written with its event, deleted with it.
CREATE TABLE event_bodies (
    event_id     INTEGER PRIMARY KEY,
    visitor_json TEXT NOT NULL
);
INSERT INTO event_bodies (event_id, visitor_json) SELECT id, visitor_json FROM events;

-- Drops the old table's indexes and its two remaining triggers with it.
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;

PRAGMA legacy_alter_table = OFF;

CREATE INDEX events_uuid_key ON events (uuid_key);
CREATE INDEX events_pending ON events (id) WHERE state = 'pending';
CREATE INDEX events_batch ON events (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX events_finished ON events (state, finished_at) WHERE state IN ('sent', 'dead');

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
       b.visitor_json
FROM events e
JOIN contexts c ON c.id = e.context_id
JOIN event_bodies b ON b.event_id = e.id
WHERE e.state = 'dead';

-- Recount, so a file upgraded from an older version starts exact.
UPDATE totals SET
    events = (SELECT count(*) FROM events WHERE events.state = totals.state),
    bytes = (SELECT coalesce(sum(bytes), 0) FROM events WHERE events.state = totals.state);

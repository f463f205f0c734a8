-- EventSpool queue, version 5: the duplicate guard (spec §3) in two small-write tables.
--
-- Version 4 kept an index on `events.uuid_key`. Its keys are random, so each group of appends
-- rewrote a page of that index for nearly every event, and the larger the queue, the more pages:
-- with 100,000 events queued, the index wrote about as much to the log as the events themselves.
--
-- The guard now has two parts, both keyed by (uuid_key, event_id):
-- - `recent_uuid_keys` takes the keys of new events. It stays small (EventQueue moves it into
--   the other table once it holds about 16,000 keys), so a group of appends touches few pages.
-- - `uuid_keys` holds the rest. It is written once per move, in key order.
-- An event is queued when either table has its key and the event with that id has its uuid.
-- EventQueue writes both tables with `events` and deletes an event's key with the event; to find
-- an event by uuid with sqlite3, use `WHERE uuid = '…'` on `events` as before (a scan).

CREATE TABLE uuid_keys (
    uuid_key INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (uuid_key, event_id)
) WITHOUT ROWID;

CREATE TABLE recent_uuid_keys (
    uuid_key INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (uuid_key, event_id)
) WITHOUT ROWID;

INSERT INTO uuid_keys (uuid_key, event_id) SELECT uuid_key, id FROM events ORDER BY uuid_key, id;

DROP INDEX events_uuid_key;

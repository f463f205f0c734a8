-- EventSpool queue, version 7: the newest keys of the duplicate guard (spec §3) are read from the
-- events themselves.
--
-- Version 5 wrote each new event's key to `recent_uuid_keys` and moved that table into
-- `uuid_keys` every 16,000 keys or so. Its keys are random, so each group of appends still
-- rewrote most of its pages: in a one-off measurement (the append benchmark with the guard taken
-- out), the guard took about a quarter of the time of an append.
--
-- Now `uuid_keys` holds the keys of the events with ids up to `uuid_keys_mark.moved_through`,
-- and the keys of newer events are in no table but their own rows (`events.uuid_key`). Each
-- EventQueue that appends reads those rows once and keeps their keys in memory, adding the keys
-- of the events it inserts and reading any that other connections insert (ids above the newest
-- it knows). A key found there is only a candidate: the event's row is read to compare the uuid.
-- Once it knows about 65,000 newer keys, the queue moves them into `uuid_keys`, in key order,
-- and raises the mark to the newest id.
--
-- Every event with an id at or below the mark has its key in `uuid_keys`. Deleting events lowers
-- the mark to the newest id left, so that a new event, which gets an id above every id left,
-- is always above it. The counter `events_deleted` (events deleted for any reason) tells a queue
-- that another connection deleted events, whose ids a newer event may then reuse: it reads the
-- newer keys afresh.

INSERT INTO uuid_keys (uuid_key, event_id) SELECT uuid_key, event_id FROM recent_uuid_keys ORDER BY uuid_key, event_id;
DROP TABLE recent_uuid_keys;

CREATE TABLE uuid_keys_mark (
    moved_through INTEGER NOT NULL
);
INSERT INTO uuid_keys_mark (moved_through) SELECT coalesce(max(id), 0) FROM events;

INSERT INTO counters (name, value) VALUES ('events_deleted', 0);

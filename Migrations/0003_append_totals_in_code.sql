-- EventSpool queue, version 3: appends count themselves.
-- The row trigger that added each inserted event to `totals` cost about a fifth of an append's
-- time. EventQueue now adds a whole group's count and bytes to `totals` with one UPDATE, in the
-- same transaction as the inserts. State changes and deletes are still counted by the triggers of
-- version 1. (An event inserted by hand with sqlite3 is therefore not counted in `totals`.)
DROP TRIGGER events_totals_insert;

-- Recount, so a file upgraded from version 2 starts exact.
UPDATE totals SET
    events = (SELECT count(*) FROM events WHERE events.state = totals.state),
    bytes = (SELECT coalesce(sum(bytes), 0) FROM events WHERE events.state = totals.state);

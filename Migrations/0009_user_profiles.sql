-- EventSpool queue, version 9: the user profiles of the Optimizely client's sticky bucketing.
--
-- One row per user and experiment: the variation the user was bucketed into (decisions.md §7),
-- so a user keeps their variation across restarts, like the events. SQLiteUserProfileService
-- reads a user's rows before a decision and writes the decision's new rows after it; nothing
-- else in the queue reads or writes this table.

CREATE TABLE user_profiles (
    user_id       TEXT    NOT NULL,
    experiment_id TEXT    NOT NULL,
    variation_id  TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,   -- when the row was last written, in ms since the Unix epoch
    PRIMARY KEY (user_id, experiment_id)
) WITHOUT ROWID;

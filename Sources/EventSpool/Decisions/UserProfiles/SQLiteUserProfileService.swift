/// A user profile service in the event queue's SQLite file (table `user_profiles`): sticky
/// bucketing that survives a restart, like the events do.
///
/// ```swift
/// let processor = try BatchEventProcessor(queuePath: "events.sqlite")
/// let profiles = try SQLiteUserProfileService(path: "events.sqlite")
/// let client = try OptimizelyClient(datafile: datafile, eventProcessor: processor, userProfileService: profiles)
/// ```
///
/// It opens its own connection to the file (creating and migrating it as ``EventQueue`` does)
/// and serialises its calls behind a lock, so it may be used from any thread and beside any
/// number of queues and processes on the same file. A save writes every entry of the profile
/// (insert or update) in one transaction and never deletes one: two processes deciding for the
/// same user at once both keep their entries. Inspect it with
/// `sqlite3 events.sqlite 'SELECT * FROM user_profiles'`.
public final class SQLiteUserProfileService: UserProfileService {
    private let connection: LockedValue<SQLiteConnection>
    private let path: String
    private let clock: any EventClock

    /// Opens (or creates) the queue file at `path` for its user profiles.
    ///
    /// - Throws: ``QueueError`` as ``EventQueue/init(path:configuration:)`` does.
    public init(path: String, configuration: QueueConfiguration = QueueConfiguration()) throws(QueueError) {
        self.path = path
        self.clock = configuration.clock
        connection = LockedValue(try QueueFile.open(path: path, configuration: configuration))
    }

    /// The stored profile of `userId`, or `nil` when none of its experiments is stored.
    public func lookup(userId: String) throws -> UserProfile? {
        let rows = try run { connection throws(SQLiteError) in
            try connection.query("SELECT experiment_id, variation_id FROM user_profiles WHERE user_id = ?", [.text(userId)]) {
                ($0.text(0), $0.text(1))
            }
        }
        guard !rows.isEmpty else { return nil }
        return UserProfile(userId: userId, experimentBucketMap: Dictionary(rows, uniquingKeysWith: { _, last in last }))
    }

    /// Writes every entry of `profile`, durably, in one transaction.
    public func save(_ profile: UserProfile) throws {
        let now = clock.nowMillis()
        try run { connection throws in
            try connection.transaction(immediate: true) { () throws(SQLiteError) in
                for (experimentId, variationId) in profile.experimentBucketMap {
                    try connection.run("""
                        INSERT INTO user_profiles (user_id, experiment_id, variation_id, updated_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (user_id, experiment_id) DO UPDATE SET variation_id = excluded.variation_id, updated_at = excluded.updated_at
                        WHERE variation_id IS NOT excluded.variation_id
                        """, [.text(profile.userId), .text(experimentId), .text(variationId), .integer(now)])
                }
            }
        }
    }

    /// Closes the connection; later calls fail.
    public func close() {
        connection.withLock { $0.close() }
    }

    /// Runs `body` on the connection, an SQLite failure becoming a ``QueueError``.
    private func run<T>(_ body: (SQLiteConnection) throws -> T) throws(QueueError) -> T {
        do {
            return try connection.withLock { try body($0) }
        } catch let error as SQLiteError {
            throw QueueFile.classify(error, path: path)
        } catch let error as QueueError {
            throw error
        } catch {
            throw .sqlite(SQLiteError(extendedCode: 1, message: "\(error)"))
        }
    }
}

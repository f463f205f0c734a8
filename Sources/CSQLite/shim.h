#include <sqlite3.h>

/// `sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)`: `sqlite3_config` is variadic, which Swift
/// cannot call. Only effective before SQLite initializes (the process's first connection).
static inline int eventspool_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

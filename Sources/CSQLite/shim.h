#include <sqlite3.h>

/// Turns off SQLite's memory statistics for the whole process (`SQLITE_CONFIG_MEMSTATUS`),
/// which otherwise take a global mutex on every allocation and free. `sqlite3_config` is
/// variadic, which Swift cannot call. It only takes effect before SQLite initializes (the
/// process's first connection); later it returns `SQLITE_MISUSE` and changes nothing.
static inline int eventspool_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

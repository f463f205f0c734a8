#ifndef EVENTSPOOL_VFS_H
#define EVENTSPOOL_VFS_H

/// The name of EventSpool's VFS: SQLite's default VFS, except that the writes to a
/// write-ahead log are gathered in memory and written once per commit (see the .c file).
#define EVENTSPOOL_VFS_NAME "eventspool"

/// Registers the VFS (not as the default) on first call; later calls do nothing.
/// Returns an SQLite result code.
int eventspool_vfs_register(void);

#endif

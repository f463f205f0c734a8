// EventSpool's VFS: SQLite's default VFS, with the writes to each write-ahead log gathered in
// memory and written together, in pieces of 64 KB.
//
// SQLite appends a commit to the log one frame at a time, and each frame with two writes (its
// 24-byte header, then the page): a group of 1,000 events is some 360 `pwrite` calls, and their
// fixed cost was about two thirds of the time spent writing the log (measured once on the
// project's machine with a small C program: 63 ms for 100 such commits, 23 ms in 64 KB pieces). Here the writes that continue one another are kept in a
// buffer and written together:
//
// - when the page of a commit frame (a frame header whose "database size" field is not zero)
//   has been added: the commit is complete, and SQLite publishes it in the shared-memory index
//   only after its frames are written, with no further call on the log file in between;
// - before any other operation on the log file (read, sync, truncate, size, file control,
//   close), so SQLite never sees the file without its own writes;
// - when a write does not continue the buffer (SQLite rewrites a frame in place), and when the
//   buffer reaches BUFFER_LIMIT.
//
// A commit header that does not continue a non-empty buffer is written through with its page:
// that is how SQLite rewrites headers when it recomputes checksums (each after a read of the
// frame), and a commit that starts a buffer gains nothing from it.
//
// Nothing is held across a commit, so what a commit has written is in the file (the kernel's
// page cache) when COMMIT returns, exactly as without this VFS: a process killed at any point
// loses no committed transaction. Frames of a transaction still in progress may sit in the
// buffer, as they may sit in SQLite's own page cache; a crash loses them with the transaction.
// Every other file (the database, its shared memory, temporary files) is the default VFS's own.

#include "eventspool_vfs.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define WAL_FRAME_HEADER_SIZE 24
#define BUFFER_LIMIT (16 * 1024 * 1024)
#define WRITE_LIMIT (64 * 1024)
#define KEEP_LIMIT (1024 * 1024)

typedef struct BufferedLog {
    sqlite3_file base;          // pMethods is &buffered_log_methods
    sqlite3_file *log;          // the default VFS's file, stored right after this struct
    unsigned char *pending;     // bytes to write at offset `start`
    sqlite3_int64 start;
    int length;
    int capacity;
    int flushAfterNextWrite;    // the last write was the header of a commit frame, buffered
    int writeThroughNextWrite;  // the last write was the header of a commit frame, written through
} BufferedLog;

static sqlite3_vfs *default_vfs;
static sqlite3_vfs eventspool_vfs;
static sqlite3_io_methods buffered_log_methods;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_result = SQLITE_OK;

/// Writes the buffer in pieces of WRITE_LIMIT bytes: the default VFS writes less than 128 KB in
/// one call (it masks larger sizes with 0x1ffff, and reports what it did not write as a full
/// disk). A buffer larger than KEEP_LIMIT (grown by an unusually large transaction) is freed once
/// written, so that it does not stay allocated for the life of the connection.
static int flush(BufferedLog *file) {
    int length = file->length;
    file->length = 0;
    int rc = SQLITE_OK;
    for (int done = 0; done < length && rc == SQLITE_OK; done += WRITE_LIMIT) {
        int piece = length - done < WRITE_LIMIT ? length - done : WRITE_LIMIT;
        rc = file->log->pMethods->xWrite(file->log, file->pending + done, piece, file->start + done);
    }
    if (file->capacity > KEEP_LIMIT) {
        free(file->pending);
        file->pending = NULL;
        file->capacity = 0;
    }
    return rc;
}

static int write_through(BufferedLog *file, const void *data, int amount, sqlite3_int64 offset) {
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->log->pMethods->xWrite(file->log, data, amount, offset);
}

static int is_commit_frame_header(const void *data, int amount) {
    if (amount != WAL_FRAME_HEADER_SIZE) return 0;
    const unsigned char *bytes = data;
    return (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
}

/// Adds a write to the buffer, which must be empty or end where the write begins.
static int append(BufferedLog *file, const void *data, int amount, sqlite3_int64 offset) {
    if ((sqlite3_int64)file->length + amount > BUFFER_LIMIT || amount > WRITE_LIMIT) {
        int rc = flush(file);
        if (rc != SQLITE_OK) return rc;
        if (amount > WRITE_LIMIT) return file->log->pMethods->xWrite(file->log, data, amount, offset);
    }
    if (file->length + amount > file->capacity) {
        int capacity = file->capacity > 0 ? file->capacity : 256 * 1024;
        while (capacity < file->length + amount) capacity *= 2;
        unsigned char *grown = realloc(file->pending, (size_t)capacity);
        // Without memory for the buffer, what is there and this write go to the file directly.
        if (grown == NULL) return write_through(file, data, amount, offset);
        file->pending = grown;
        file->capacity = capacity;
    }
    if (file->length == 0) file->start = offset;
    memcpy(file->pending + file->length, data, (size_t)amount);
    file->length += amount;
    return SQLITE_OK;
}

static int buffered_write(sqlite3_file *base, const void *data, int amount, sqlite3_int64 offset) {
    BufferedLog *file = (BufferedLog *)base;
    int continues = file->length > 0 && offset == file->start + file->length;

    if (file->writeThroughNextWrite) {
        // The page of a commit frame whose header was written through.
        file->writeThroughNextWrite = 0;
        return write_through(file, data, amount, offset);
    }
    if (file->flushAfterNextWrite) {
        // The page of a commit frame whose header is buffered: the commit is complete.
        file->flushAfterNextWrite = 0;
        if (!continues) return write_through(file, data, amount, offset);
        int rc = append(file, data, amount, offset);
        if (rc != SQLITE_OK) return rc;
        return flush(file);
    }
    if (is_commit_frame_header(data, amount)) {
        if (!continues) {
            file->writeThroughNextWrite = 1;
            return write_through(file, data, amount, offset);
        }
        file->flushAfterNextWrite = 1;
        return append(file, data, amount, offset);
    }
    if (file->length > 0 && !continues) {
        int rc = flush(file);
        if (rc != SQLITE_OK) return rc;
    }
    return append(file, data, amount, offset);
}

static int buffered_close(sqlite3_file *base) {
    BufferedLog *file = (BufferedLog *)base;
    int flushed = flush(file);
    int rc = file->log->pMethods->xClose(file->log);
    free(file->pending);
    file->pending = NULL;
    file->capacity = 0;
    return rc != SQLITE_OK ? rc : flushed;
}

static int buffered_read(sqlite3_file *base, void *data, int amount, sqlite3_int64 offset) {
    BufferedLog *file = (BufferedLog *)base;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->log->pMethods->xRead(file->log, data, amount, offset);
}

static int buffered_truncate(sqlite3_file *base, sqlite3_int64 size) {
    BufferedLog *file = (BufferedLog *)base;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->log->pMethods->xTruncate(file->log, size);
}

static int buffered_sync(sqlite3_file *base, int flags) {
    BufferedLog *file = (BufferedLog *)base;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->log->pMethods->xSync(file->log, flags);
}

static int buffered_file_size(sqlite3_file *base, sqlite3_int64 *size) {
    BufferedLog *file = (BufferedLog *)base;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->log->pMethods->xFileSize(file->log, size);
}

static int buffered_lock(sqlite3_file *base, int level) {
    BufferedLog *file = (BufferedLog *)base;
    return file->log->pMethods->xLock(file->log, level);
}

static int buffered_unlock(sqlite3_file *base, int level) {
    BufferedLog *file = (BufferedLog *)base;
    return file->log->pMethods->xUnlock(file->log, level);
}

static int buffered_check_reserved_lock(sqlite3_file *base, int *reserved) {
    BufferedLog *file = (BufferedLog *)base;
    return file->log->pMethods->xCheckReservedLock(file->log, reserved);
}

static int buffered_file_control(sqlite3_file *base, int op, void *argument) {
    BufferedLog *file = (BufferedLog *)base;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->log->pMethods->xFileControl(file->log, op, argument);
}

static int buffered_sector_size(sqlite3_file *base) {
    BufferedLog *file = (BufferedLog *)base;
    return file->log->pMethods->xSectorSize(file->log);
}

static int buffered_device_characteristics(sqlite3_file *base) {
    BufferedLog *file = (BufferedLog *)base;
    return file->log->pMethods->xDeviceCharacteristics(file->log);
}

// SQLite never calls the shared-memory and memory-mapping methods on a log file; they are
// passed on all the same, when the default file has them (version 2 and 3 methods).

static int buffered_shm_map(sqlite3_file *base, int page, int size, int extend, void volatile **mapped) {
    BufferedLog *file = (BufferedLog *)base;
    if (file->log->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
    return file->log->pMethods->xShmMap(file->log, page, size, extend, mapped);
}

static int buffered_shm_lock(sqlite3_file *base, int offset, int count, int flags) {
    BufferedLog *file = (BufferedLog *)base;
    if (file->log->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
    return file->log->pMethods->xShmLock(file->log, offset, count, flags);
}

static void buffered_shm_barrier(sqlite3_file *base) {
    BufferedLog *file = (BufferedLog *)base;
    if (file->log->pMethods->iVersion >= 2) file->log->pMethods->xShmBarrier(file->log);
}

static int buffered_shm_unmap(sqlite3_file *base, int delete) {
    BufferedLog *file = (BufferedLog *)base;
    if (file->log->pMethods->iVersion < 2) return SQLITE_OK;
    return file->log->pMethods->xShmUnmap(file->log, delete);
}

static int buffered_fetch(sqlite3_file *base, sqlite3_int64 offset, int amount, void **pointer) {
    BufferedLog *file = (BufferedLog *)base;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    if (file->log->pMethods->iVersion < 3) {
        *pointer = NULL;  // no mapping: SQLite reads instead
        return SQLITE_OK;
    }
    return file->log->pMethods->xFetch(file->log, offset, amount, pointer);
}

static int buffered_unfetch(sqlite3_file *base, sqlite3_int64 offset, void *pointer) {
    BufferedLog *file = (BufferedLog *)base;
    if (file->log->pMethods->iVersion < 3) return SQLITE_OK;
    return file->log->pMethods->xUnfetch(file->log, offset, pointer);
}

static int eventspool_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *base, int flags, int *outFlags) {
    (void)vfs;
    if ((flags & SQLITE_OPEN_WAL) == 0) {
        // Not a log: the default VFS's file, in place.
        return default_vfs->xOpen(default_vfs, name, base, flags, outFlags);
    }
    BufferedLog *file = (BufferedLog *)base;
    memset(file, 0, sizeof(BufferedLog));
    file->log = (sqlite3_file *)(file + 1);
    int rc = default_vfs->xOpen(default_vfs, name, file->log, flags, outFlags);
    if (rc != SQLITE_OK || file->log->pMethods == NULL) {
        // SQLite calls xClose only when pMethods is set: leave it unset.
        file->base.pMethods = NULL;
        return rc;
    }
    file->base.pMethods = &buffered_log_methods;
    return SQLITE_OK;
}

static void register_vfs(void) {
    default_vfs = sqlite3_vfs_find(NULL);
    if (default_vfs == NULL) {
        register_result = SQLITE_ERROR;
        return;
    }
    buffered_log_methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = buffered_close,
        .xRead = buffered_read,
        .xWrite = buffered_write,
        .xTruncate = buffered_truncate,
        .xSync = buffered_sync,
        .xFileSize = buffered_file_size,
        .xLock = buffered_lock,
        .xUnlock = buffered_unlock,
        .xCheckReservedLock = buffered_check_reserved_lock,
        .xFileControl = buffered_file_control,
        .xSectorSize = buffered_sector_size,
        .xDeviceCharacteristics = buffered_device_characteristics,
        .xShmMap = buffered_shm_map,
        .xShmLock = buffered_shm_lock,
        .xShmBarrier = buffered_shm_barrier,
        .xShmUnmap = buffered_shm_unmap,
        .xFetch = buffered_fetch,
        .xUnfetch = buffered_unfetch,
    };
    eventspool_vfs = *default_vfs;
    eventspool_vfs.zName = EVENTSPOOL_VFS_NAME;
    eventspool_vfs.szOsFile = default_vfs->szOsFile + (int)sizeof(BufferedLog);
    eventspool_vfs.pNext = NULL;
    eventspool_vfs.xOpen = eventspool_open;
    register_result = sqlite3_vfs_register(&eventspool_vfs, 0);
}

int eventspool_vfs_register(void) {
    pthread_once(&register_once, register_vfs);
    return register_result;
}

// The event store's layouts side by side, without Postgres or the pipeline:
// the same synthetic change events appended to a fresh SQLite file (WAL,
// synchronous=FULL like the store) as one row per event (the layout up to
// schema 5) or as blocks of consecutive events per row, raw or compressed
// with zstd or LZ4, then read back in order. Built and run by bench/store-micro.
//
// A block is a frame: u32 count, then per event {u64 commit LSN, u32 ordinal,
// u32 end offset of its body}, then the bodies back to back, so one event is
// found from the index without parsing the others. Compressed blocks compress
// the whole frame.

#include <lz4.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

enum codec { RAW, ZSTD, LZ4 };

typedef struct {
    uint64_t lsn;
    uint32_t ordinal;
    uint32_t length;
    char *body;
} event_t;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static void check(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void exec(sqlite3 *db, const char *sql) { check(sqlite3_exec(db, sql, 0, 0, 0), db, sql); }

// Events shaped like bench/snapshot's rows ('r') or bench/stream's changes
// (c/u/d with REPLICA IDENTITY FULL): the envelope of DESIGN section 5.
static event_t *make_events(int n, int stream) {
    event_t *events = calloc(n, sizeof *events);
    char buffer[2048];
    uint64_t lsn = 0x16B3748;
    unsigned seed = 12345;
    for (int i = 0; i < n; i++) {
        int g = i + 1;
        char md5[33];
        for (int k = 0; k < 32; k++) md5[k] = "0123456789abcdef"[(seed = seed * 1103515245 + 12345) >> 28];
        md5[32] = 0;
        if (stream && i % 1000 == 0) lsn += 180000;
        int ordinal = stream ? i % 1000 : i;
        const char *op = stream ? (i % 10 < 5 ? "c" : i % 10 < 8 ? "u" : "d") : "r";
        char row[600];
        snprintf(row, sizeof row,
            "{\"id\":%d,\"qty\":%d,\"label\":\"row %d %s\",\"amount\":\"%d.%02d\","
            "\"created_at\":\"2026-12-0%dT%02d:%02d:%02d.%06dZ\",\"payload\":{\"g\":%d,\"tags\":[\"x\",\"y\"]}}",
            g, g % 1000, g, md5, g + g / 4, (g % 4) * 25, 1 + g % 7, g % 24, g % 60, (g / 60) % 60,
            (int)(seed % 1000000), g);
        int len = snprintf(buffer, sizeof buffer,
            "{\"id\":\"0/%llX:%d\",\"op\":\"%s\",\"ts_ms\":%lld,\"source\":{\"database\":\"bench\","
            "\"schema\":\"public\",\"table\":\"snap_t\",\"txid\":%d,\"lsn\":\"0/%llX\",\"commit_lsn\":\"0/%llX\","
            "\"commit_ts\":\"2026-12-07T14:%02d:%02d.%06dZ\",\"snapshot\":%s,\"schema_version\":1},"
            "\"key\":{\"id\":%d},\"before\":%s,\"after\":%s}",
            (unsigned long long)lsn, ordinal, op, 1765116000000LL + i / 50, 751 + i / 1000,
            (unsigned long long)(lsn - 1000 + ordinal * 120), (unsigned long long)lsn, (i / 60000) % 60,
            (i / 1000) % 60, (int)(seed % 1000000), stream ? "false" : "true", g,
            op[0] == 'u' || op[0] == 'd' ? row : "null", op[0] == 'd' ? "null" : row);
        events[i].lsn = lsn;
        events[i].ordinal = ordinal;
        events[i].length = len;
        events[i].body = malloc(len);
        memcpy(events[i].body, buffer, len);
    }
    return events;
}

static sqlite3 *open_store(const char *path) {
    unlink(path);
    char wal[512];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    sqlite3 *db;
    check(sqlite3_open(path, &db), db, "open");
    exec(db,
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;"
        "PRAGMA wal_autocheckpoint=4096;"
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, commit_lsn INTEGER NOT NULL, ordinal INTEGER NOT NULL,"
        " body BLOB NOT NULL);"
        "CREATE TABLE event_blocks (last_seq INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL,"
        " codec INTEGER NOT NULL, raw_bytes INTEGER NOT NULL, frame BLOB NOT NULL);"
        "CREATE TABLE checkpoint (id INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL);");
    return db;
}

static long long file_bytes(const char *path) {
    struct stat s;
    return stat(path, &s) == 0 ? (long long)s.st_size : 0;
}

typedef struct {
    unsigned char *data;
    size_t length, capacity;
} buffer_t;

static void put(buffer_t *b, const void *bytes, size_t n) {
    if (b->length + n > b->capacity) {
        b->capacity = (b->length + n) * 2;
        b->data = realloc(b->data, b->capacity);
    }
    memcpy(b->data + b->length, bytes, n);
    b->length += n;
}

// Writes one block of events [first, end) and returns the stored size.
static void write_block(sqlite3_stmt *insert, event_t *events, int first, int end, long long first_seq,
    enum codec codec, buffer_t *frame, buffer_t *packed) {
    frame->length = 0;
    uint32_t count = end - first;
    put(frame, &count, 4);
    uint32_t offset = 0;
    for (int i = first; i < end; i++) {
        offset += events[i].length;
        put(frame, &events[i].lsn, 8);
        put(frame, &events[i].ordinal, 4);
        put(frame, &offset, 4);
    }
    for (int i = first; i < end; i++) put(frame, events[i].body, events[i].length);
    const void *stored = frame->data;
    size_t stored_length = frame->length;
    if (codec != RAW) {
        size_t bound = codec == ZSTD ? ZSTD_compressBound(frame->length) : (size_t)LZ4_compressBound(frame->length);
        if (packed->capacity < bound) {
            packed->capacity = bound;
            packed->data = realloc(packed->data, bound);
        }
        stored_length = codec == ZSTD
            ? ZSTD_compress(packed->data, bound, frame->data, frame->length, 1)
            : (size_t)LZ4_compress_default((const char *)frame->data, (char *)packed->data, frame->length, bound);
        stored = packed->data;
    }
    sqlite3_bind_int64(insert, 1, first_seq + count - 1);
    sqlite3_bind_int64(insert, 2, first_seq);
    sqlite3_bind_int(insert, 3, codec);
    sqlite3_bind_int64(insert, 4, frame->length);
    sqlite3_bind_blob(insert, 5, stored, stored_length, SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
}

// Appends every event in groups of `group` events (one SQLite transaction
// each, with the checkpoint row), in blocks of at most `block_bytes` raw bytes
// (0: one row per event).
static void run(const char *label, const char *path, event_t *events, int n, int group, int block_bytes,
    enum codec codec) {
    sqlite3 *db = open_store(path);
    sqlite3_stmt *row, *block, *checkpoint;
    sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?1, ?2, ?3, ?4)", -1, &row, 0);
    sqlite3_prepare_v2(db, "INSERT INTO event_blocks VALUES (?1, ?2, ?3, ?4, ?5)", -1, &block, 0);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO checkpoint VALUES (1, ?1)", -1, &checkpoint, 0);
    buffer_t frame = {0}, packed = {0};
    long long json_bytes = 0;
    double wall = now_s(), cpu = cpu_s();
    for (int start = 0; start < n; start += group) {
        int end = start + group < n ? start + group : n;
        exec(db, "BEGIN IMMEDIATE");
        if (block_bytes == 0) {
            for (int i = start; i < end; i++) {
                sqlite3_bind_int64(row, 1, i + 1);
                sqlite3_bind_int64(row, 2, events[i].lsn);
                sqlite3_bind_int64(row, 3, events[i].ordinal);
                sqlite3_bind_blob(row, 4, events[i].body, events[i].length, SQLITE_STATIC);
                check(sqlite3_step(row), db, "insert");
                sqlite3_reset(row);
            }
        } else {
            int first = start, bytes = 0;
            for (int i = start; i < end; i++) {
                bytes += events[i].length + 16;
                if (bytes >= block_bytes || i == end - 1) {
                    write_block(block, events, first, i + 1, first + 1, codec, &frame, &packed);
                    first = i + 1;
                    bytes = 0;
                }
            }
        }
        sqlite3_bind_int64(checkpoint, 1, end);
        sqlite3_step(checkpoint);
        sqlite3_reset(checkpoint);
        exec(db, "COMMIT");
    }
    double write_wall = now_s() - wall, write_cpu = cpu_s() - cpu;
    for (int i = 0; i < n; i++) json_bytes += events[i].length + 1;
    exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");

    // Read everything back in order, as a consumer catching up does, and
    // touch each body so the decode is not skipped.
    unsigned long long sum = 0;
    long long seen = 0;
    wall = now_s();
    cpu = cpu_s();
    sqlite3_stmt *read;
    if (block_bytes == 0) {
        sqlite3_prepare_v2(db, "SELECT seq, commit_lsn, ordinal, body FROM events WHERE seq > ?1 ORDER BY seq", -1,
            &read, 0);
        sqlite3_bind_int64(read, 1, 0);
        while (sqlite3_step(read) == SQLITE_ROW) {
            const unsigned char *body = sqlite3_column_blob(read, 3);
            sum += body[sqlite3_column_bytes(read, 3) / 2];
            seen++;
        }
    } else {
        sqlite3_prepare_v2(db, "SELECT first_seq, codec, raw_bytes, frame FROM event_blocks WHERE last_seq > ?1"
            " ORDER BY last_seq", -1, &read, 0);
        sqlite3_bind_int64(read, 1, 0);
        buffer_t plain = {0};
        while (sqlite3_step(read) == SQLITE_ROW) {
            const unsigned char *stored = sqlite3_column_blob(read, 3);
            int stored_length = sqlite3_column_bytes(read, 3);
            size_t raw = sqlite3_column_int64(read, 2);
            const unsigned char *data = stored;
            if (sqlite3_column_int(read, 1) != RAW) {
                if (plain.capacity < raw) {
                    plain.capacity = raw;
                    plain.data = realloc(plain.data, raw);
                }
                if (sqlite3_column_int(read, 1) == ZSTD)
                    ZSTD_decompress(plain.data, raw, stored, stored_length);
                else
                    LZ4_decompress_safe((const char *)stored, (char *)plain.data, stored_length, raw);
                data = plain.data;
            }
            uint32_t count;
            memcpy(&count, data, 4);
            const unsigned char *bodies = data + 4 + 16 * count;
            uint32_t begin = 0;
            for (uint32_t k = 0; k < count; k++) {
                uint32_t end;
                memcpy(&end, data + 4 + 16 * k + 12, 4);
                sum += bodies[begin + (end - begin) / 2];
                begin = end;
                seen++;
            }
        }
    }
    sqlite3_finalize(read);
    double read_wall = now_s() - wall, read_cpu = cpu_s() - cpu;
    if (seen != n) {
        fprintf(stderr, "%s: read %lld events, wrote %d\n", label, seen, n);
        exit(1);
    }
    sqlite3_finalize(row);
    sqlite3_finalize(block);
    sqlite3_finalize(checkpoint);
    sqlite3_close(db);
    long long size = file_bytes(path);
    printf("%-22s write %8.0f ev/s (cpu %5.2f us/ev)  read %9.0f ev/s (cpu %5.2f us/ev)  size %6.1f MB = %.3fx JSON"
           "  (sum %llu)\n",
        label, n / write_wall, write_cpu * 1e6 / n, n / read_wall, read_cpu * 1e6 / n, size / 1e6,
        (double)size / json_bytes, sum % 10);
    fflush(stdout);
    free(frame.data);
    free(packed.data);
    unlink(path);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 300000;
    int group = argc > 2 ? atoi(argv[2]) : 10000;
    int stream = argc > 3 && strcmp(argv[3], "stream") == 0;
    const char *dir = argc > 4 ? argv[4] : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/store-micro-%d.sqlite", dir, (int)getpid());
    event_t *events = make_events(n, stream);
    long long json = 0;
    for (int i = 0; i < n; i++) json += events[i].length + 1;
    printf("%d %s events, %.0f B each on average, groups of %d events\n", n, stream ? "stream (c/u/d)" : "snapshot (r)",
        (double)json / n, group);
    run("row per event", path, events, n, group, 0, RAW);
    int sizes[] = {16384, 65536, 262144};
    const char *names[] = {"raw", "zstd-1", "lz4"};
    for (int s = 0; s < 3; s++)
        for (int c = 0; c < 3; c++) {
            char label[64];
            snprintf(label, sizeof label, "block %3dK %s", sizes[s] / 1024, names[c]);
            run(label, path, events, n, group, sizes[s], (enum codec)c);
        }
    return 0;
}

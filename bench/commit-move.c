// What Stream Commit costs per event for the two ways of staging a streamed
// transaction's events as encoded blocks (issue 18), without SQLite (both
// write the same blocks): the 64 KiB LZ4 blocks of bench/store-micro's stream
// events, each event with its commit-only bytes (id prefix, ts_ms, commit_lsn
// and commit_ts) cut out.
//   move:    the commit copies each compressed block behind a header holding
//            the missing bytes once; readers splice them back in (the extra
//            read cost is measured too: expand against a plain decompress);
//   rebuild: the commit decompresses each block, splices the bytes into every
//            event and compresses it again (a placeholder patched in place
//            cannot work: commit_lsn's text has no fixed width).
// Prints CPU µs per event for each. Built and run by bench/commit-move.

#define main store_micro_main
#include "store-micro.c"
#undef main

typedef struct { int start, gap1, gap2; } cut_t;

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 300000;
    event_t *events = make_events(n, 1);
    // Templates: drop `{"id":"…:N`, the ts_ms digits and `","commit_lsn":"…","commit_ts":"…"`.
    buffer_t frames[4096];
    int counts[4096], blocks = 0;
    memset(frames, 0, sizeof frames);
    buffer_t frame = {0}, index = {0};
    int count = 0;
    for (int i = 0; i <= n; i++) {
        if (i == n || frame.length + index.length >= 65536) {
            put(&frame, index.data, index.length);
            frames[blocks] = frame;
            counts[blocks++] = count;
            memset(&frame, 0, sizeof frame);
            index.length = 0;
            count = 0;
            if (i == n) break;
        }
        char *body = events[i].body;
        char *op = strstr(body, "\",\"op\":");
        char *ts = strstr(body, "\"ts_ms\":") + 8;
        char *source = strstr(ts, ",\"source\"");
        char *commit = strstr(body, "\",\"commit_lsn\":");
        char *snapshot = strstr(commit, "\",\"snapshot\"");
        size_t before = frame.length;
        put(&frame, op, ts - op);
        uint32_t gap1 = frame.length - before;
        put(&frame, source, commit - source);
        uint32_t gap2 = frame.length - before;
        put(&frame, snapshot, body + events[i].length - snapshot);
        uint32_t entry[4] = {0, gap1 | gap2 << 16, 0, (uint32_t)frame.length};
        put(&index, entry, sizeof entry);
        count++;
    }
    const char *prefix = "{\"id\":\"0/16B3748:", *fill1 = "1765116000000",
               *fill2 = "\",\"commit_lsn\":\"0/16B3748\",\"commit_ts\":\"2026-12-07T14:00:00.123456Z\"";
    size_t lp = strlen(prefix), l1 = strlen(fill1), l2 = strlen(fill2);
    buffer_t packed[4096];
    int packed_len[4096];
    for (int b = 0; b < blocks; b++) {
        int bound = LZ4_compressBound(frames[b].length);
        packed[b].data = malloc(bound);
        packed_len[b] = LZ4_compress_default((char *)frames[b].data, (char *)packed[b].data, frames[b].length, bound);
    }
    unsigned char *raw = malloc(1 << 20), *out = malloc(1 << 20), *repacked = malloc(1 << 20), *row = malloc(1 << 20);
    volatile size_t sink = 0;
    double c0 = cpu_s();
    for (int b = 0; b < blocks; b++) {
        memcpy(row, prefix, lp);
        memcpy(row + lp, fill1, l1);
        memcpy(row + lp + l1, fill2, l2);
        memcpy(row + lp + l1 + l2, packed[b].data, packed_len[b]);
        sink += row[packed_len[b] / 2];
    }
    double move = cpu_s() - c0;
    // Expand: decompress, then write each event completed (what readers of a moved block do).
    c0 = cpu_s();
    for (int rebuild = 0; rebuild < 2; rebuild++) {
        if (rebuild) c0 = cpu_s();
        for (int b = 0; b < blocks; b++) {
            LZ4_decompress_safe((char *)packed[b].data, (char *)raw, packed_len[b], frames[b].length);
            uint32_t *entries = (uint32_t *)(raw + frames[b].length - counts[b] * 16);
            size_t at = 0, start = 0;
            for (int e = 0; e < counts[b]; e++) {
                uint32_t gaps = entries[e * 4 + 1], end = entries[e * 4 + 3];
                uint32_t g1 = gaps & 0xFFFF, g2 = gaps >> 16;
                memcpy(out + at, prefix, lp); at += lp;
                at += sprintf((char *)out + at, "%d", e);
                memcpy(out + at, raw + start, g1); at += g1;
                memcpy(out + at, fill1, l1); at += l1;
                memcpy(out + at, raw + start + g1, g2 - g1); at += g2 - g1;
                memcpy(out + at, fill2, l2); at += l2;
                memcpy(out + at, raw + start + g2, end - start - g2); at += end - start - g2;
                start = end;
            }
            if (rebuild) sink += LZ4_compress_default((char *)out, (char *)repacked, at, 1 << 20);
            else sink += at;
        }
        if (!rebuild) {
            double expand = cpu_s() - c0;
            c0 = cpu_s();
            for (int b = 0; b < blocks; b++)
                sink += LZ4_decompress_safe((char *)packed[b].data, (char *)raw, packed_len[b], frames[b].length);
            double plain = cpu_s() - c0;
            printf("%d stream events in %d template blocks of 64 KiB, LZ4\n", n, blocks);
            printf("  commit, move:    %.3f µs/event\n", move * 1e6 / n);
            printf("  read, expand:    %.3f µs/event (plain decompress %.3f)\n", expand * 1e6 / n, plain * 1e6 / n);
        }
    }
    double rebuild = cpu_s() - c0;
    printf("  commit, rebuild: %.3f µs/event\n", rebuild * 1e6 / n);
    return (int)(sink & 0);
}

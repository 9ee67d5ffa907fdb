#!/usr/bin/env python3
"""Probe commits and consumers for bench/consumer-latency (read its header).

    consumer_latency.py probe CONNINFO COUNT RATE OUT
        inserts COUNT probe rows, RATE per second, each its own transaction,
        and writes "id t_ns" per row once its COMMIT has returned.
    consumer_latency.py recvlogical OUT -- COMMAND...
    consumer_latency.py sse OUT URL TOKEN
    consumer_latency.py longpoll OUT URL TOKEN
        a consumer: writes "id t_ns" per probe row the moment the bytes that
        carry it are read (pg_recvlogical's stdout, the SSE stream, a
        long-poll answer). Runs until killed.
    consumer_latency.py fsync DIR RATE OUT
        the floor under any durable store in DIR: appends 4 kB to a file
        there and fsyncs it, RATE times per second, writing "n t_ns" per
        fsync (its duration) until killed.
    consumer_latency.py report COMMITS NAME=FILE... [fsync=FILE]
        joins the commit times with each consumer's read times and prints
        p50/p90/p99/max, and how many probes each consumer missed; with
        fsync=FILE, the disk's fsync times over the same seconds.

Times are CLOCK_MONOTONIC, the same clock in every process of the machine.
Every consumer finds probes the same way, by the marker text `probe-N;` in
the raw bytes it reads, so none pays for parsing the others skip.
"""

import ctypes
import http.client
import json
import re
import signal
import subprocess
import sys
import time
import urllib.parse

MARKER = re.compile(rb"probe-(\d+);")


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Found:
    """Writes each probe id the first time it is seen, with the time it was read."""

    def __init__(self, path):
        self.out = open(path, "w", buffering=1)
        self.seen = set()
        self.tail = b""

    def scan(self, data, at):
        buffer = self.tail + data
        for match in MARKER.finditer(buffer):
            probe = int(match.group(1))
            if probe not in self.seen:
                self.seen.add(probe)
                self.out.write(f"{probe} {at}\n")
        # A marker may be split between two reads.
        self.tail = buffer[-24:]


def probe(conninfo, count, rate, out):
    libpq = ctypes.CDLL("libpq.so.5")
    libpq.PQconnectdb.restype = ctypes.c_void_p
    libpq.PQconnectdb.argtypes = [ctypes.c_char_p]
    libpq.PQstatus.argtypes = [ctypes.c_void_p]
    libpq.PQerrorMessage.restype = ctypes.c_char_p
    libpq.PQerrorMessage.argtypes = [ctypes.c_void_p]
    libpq.PQexec.restype = ctypes.c_void_p
    libpq.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    libpq.PQresultStatus.argtypes = [ctypes.c_void_p]
    libpq.PQclear.argtypes = [ctypes.c_void_p]
    connection = libpq.PQconnectdb(conninfo.encode())
    if libpq.PQstatus(connection) != 0:
        sys.exit(f"probe: cannot connect: {libpq.PQerrorMessage(connection).decode()}")
    PGRES_COMMAND_OK = 1
    interval = 1e9 / rate
    start = now_ns()
    with open(out, "w", buffering=1) as commits:
        for index in range(1, count + 1):
            due = start + int(index * interval)
            while (wait := due - now_ns()) > 0:
                time.sleep(wait / 1e9)
            result = libpq.PQexec(connection, f"INSERT INTO probe (id, note) VALUES ({index}, 'probe-{index};')".encode())
            committed = now_ns()
            status = libpq.PQresultStatus(result)
            libpq.PQclear(result)
            if status != PGRES_COMMAND_OK:
                sys.exit(f"probe: insert {index} failed: {libpq.PQerrorMessage(connection).decode()}")
            commits.write(f"{index} {committed}\n")


def recvlogical(out, command):
    found = Found(out)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, bufsize=0)
    # Stopped with us, not left reconnecting to a server that is gone.
    signal.signal(signal.SIGTERM, lambda *_: (process.terminate(), sys.exit(0)))
    while True:
        data = process.stdout.read1(65536) if hasattr(process.stdout, "read1") else process.stdout.read(65536)
        if not data:
            return
        found.scan(data, now_ns())


def connect(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=120), parts


def sse(out, url, token):
    found = Found(out)
    connection, parts = connect(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    response = connection.getresponse()
    if response.status != 200:
        sys.exit(f"sse: {response.status} {response.read()[:500]!r}")
    while True:
        data = response.read1(65536)
        if not data:
            return
        found.scan(data, now_ns())


def longpoll(out, url, token):
    found = Found(out)
    connection, parts = connect(url)
    after = 0
    while True:
        query = urllib.parse.urlencode({"after": after, "wait": 30, "limit": 1000})
        connection.request("GET", f"{parts.path}?{query}", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read()
        at = now_ns()
        if response.status != 200:
            sys.exit(f"longpoll: {response.status} {body[:500]!r}")
        found.scan(body, at)
        after = json.loads(body)["next_after"]


def fsync_floor(directory, rate, out):
    # A durable store fsyncs before an event is readable, so no consumer of
    # one sees an event sooner than an fsync of this disk takes; measured
    # beside the probes, under the same load.
    import os
    path = os.path.join(directory, "fsync-floor")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    block = b"f" * 4096
    with open(out, "w", buffering=1) as sink:
        n = 0
        while True:
            os.write(fd, block)
            started = now_ns()
            os.fsync(fd)
            n += 1
            sink.write(f"{n} {now_ns() - started}\n")
            time.sleep(1 / rate)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def read_times(path):
    times = {}
    with open(path) as lines:
        for line in lines:
            probe_id, at = line.split()
            times[int(probe_id)] = int(at)
    return times


def report(commits_path, consumers):
    commits = read_times(commits_path)
    print(f"{'consumer':<14} {'probes':>6} {'missed':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    figures = {}
    floor = None
    for spec in consumers:
        name, path = spec.split("=", 1)
        if name == "fsync":
            floor = sorted(d / 1e6 for d in read_times(path).values())
            continue
        reads = read_times(path)
        latencies = [(reads[i] - commits[i]) / 1e6 for i in commits if i in reads]
        missed = sum(1 for i in commits if i not in reads)
        if not latencies:
            print(f"{name:<14} {len(commits):>6} {missed:>6} {'-':>8} {'-':>8} {'-':>8} {'-':>8}")
            continue
        figures[name] = (percentile(latencies, 0.5), percentile(latencies, 0.99))
        print(
            f"{name:<14} {len(commits):>6} {missed:>6} {percentile(latencies, 0.5):>8.2f} "
            f"{percentile(latencies, 0.9):>8.2f} {percentile(latencies, 0.99):>8.2f} {max(latencies):>8.2f}"
        )
    # The reference's own figures are a fraction of a millisecond on a quiet
    # machine, so a ratio to them says little: what popsink adds is the figure.
    reference = figures.get("pg_recvlogical")
    if reference:
        for name, (p50, p99) in figures.items():
            if name != "pg_recvlogical":
                print(f"  {name} adds {p50 - reference[0]:.2f} ms at p50 and {p99 - reference[1]:.2f} ms at p99 "
                      "to pg_recvlogical's")
    if floor:
        print(f"{'disk fsync':<14} {len(floor):>6} {'':>6} {percentile(floor, 0.5):>8.2f} "
              f"{percentile(floor, 0.9):>8.2f} {percentile(floor, 0.99):>8.2f} {max(floor):>8.2f}"
              "  (the floor: popsink's store fsyncs before an event is readable)")


def main(argv):
    mode = argv[1]
    if mode == "probe":
        probe(argv[2], int(argv[3]), float(argv[4]), argv[5])
    elif mode == "recvlogical":
        recvlogical(argv[2], argv[argv.index("--") + 1:])
    elif mode == "sse":
        sse(argv[2], argv[3], argv[4])
    elif mode == "longpoll":
        longpoll(argv[2], argv[3], argv[4])
    elif mode == "fsync":
        fsync_floor(argv[2], float(argv[3]), argv[4])
    elif mode == "report":
        report(argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

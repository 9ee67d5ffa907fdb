#!/usr/bin/env bash
# Starts a throwaway Postgres cluster for the demo and benchmarks:
# initdb into a temporary directory, a free port on 127.0.0.1,
# wal_level=logical; as the postgres OS user when run as root (Postgres
# refuses root). Source it, then call `pg_start` and `pg_stop`.
#
# Sets PG_BIN, PG_ROOT, PG_PORT, PG_PID and PG_CONN (a libpq keyword string).

pg_find_bin() {
    for dir in "${POPSINK_PG_BIN:-}" /usr/lib/postgresql/17/bin /usr/lib/postgresql/16/bin \
        /usr/lib/postgresql/15/bin /usr/lib/postgresql/14/bin; do
        [ -n "$dir" ] && [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
    done
    echo "No Postgres server binaries found; install them with: apt-get install postgresql" >&2
    return 1
}

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
    PG_BIN=$(pg_find_bin) || return 1
    PG_ROOT=$(mktemp -d /tmp/popsink-pg-XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$PG_ROOT"
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    pg_as_owner "$PG_BIN/initdb" -D "$PG_ROOT/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/server.log" -w -s start -o \
        "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_ROOT \
         -c wal_level=logical -c max_wal_senders=20 -c max_replication_slots=20 ${PG_EXTRA_OPTIONS:-}" || {
        cat "$PG_ROOT/server.log" >&2; return 1; }
    PG_PID=$(head -1 "$PG_ROOT/data/postmaster.pid")
    PG_CONN="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
    export PG_BIN PG_ROOT PG_PORT PG_PID PG_CONN
}

# A fast shutdown waits for every walsender to send what is left, so a
# consumer that stopped reading holds it up: after 10 s the server is told to
# quit at once (SIGQUIT, crash-style, fine for a throwaway cluster), then
# killed, so no cluster outlives its script.
pg_stop() {
    [ -n "${PG_PID:-}" ] || return 0
    local signal
    for signal in INT QUIT KILL; do
        kill -"$signal" "$PG_PID" 2>/dev/null || break
        for _ in $(seq 100); do kill -0 "$PG_PID" 2>/dev/null || break 2; sleep 0.1; done
    done
    rm -rf "$PG_ROOT"
    PG_PID=
}

pg_sql() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

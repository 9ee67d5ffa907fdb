#!/usr/bin/env bash
# Re-records the pgoutput fixtures beside this script from a throwaway
# PostgreSQL 15 cluster: for each NAME.sql it runs the SQL (which creates its
# own publication and slot), then writes NAME.hex with one line per message
# returned by pg_logical_slot_peek_binary_changes: "<lsn> <xid> <hex bytes>".
#
# Usage: Tests/PgOutputTests/Fixtures/record.sh   (PG_BIN overrides the binaries)
# As root it runs Postgres as the `postgres` OS user, since Postgres refuses root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d /tmp/pgfix-XXXXXX)

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
    if [ -f "$work/data/postmaster.pid" ]; then
        as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null \
            || kill "$(head -1 "$work/data/postmaster.pid")" || true
    fi
    rm -rf "$work"
}
trap stop EXIT

[ "$(id -u)" = 0 ] && chown postgres "$work"

# A free port on 127.0.0.1: nothing answers a connection to it.
while :; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done

as_pg "$bin/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
# The session settings the replication connection uses (DESIGN section 5),
# so values are printed exactly as the service will receive them.
as_pg tee -a "$work/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
logical_decoding_work_mem = '64kB'
datestyle = 'ISO, YMD'
intervalstyle = 'iso_8601'
timezone = 'UTC'
extra_float_digits = 3
bytea_output = 'hex'
CONF
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null

psql() { as_pg "$bin/psql" -h "$work" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

# record NAME SLOT OPTIONS: run NAME.sql in a database of its own named
# SLOT, then write NAME.hex.
record() {
    local name=$1 slot=$2 options=$3
    psql -c "CREATE DATABASE $slot"
    psql -d "$slot" -f "$here/$name.sql" >/dev/null
    {
        echo "# $name.sql on PostgreSQL $(psql -At -c 'SHOW server_version'), options: $options"
        psql -d "$slot" -At -F ' ' -c "SELECT lsn, xid, encode(data, 'hex')
            FROM pg_logical_slot_peek_binary_changes('$slot', NULL, NULL, $options)"
    } > "$here/$name.hex"
    echo "$name.hex: $(grep -vc '^#' "$here/$name.hex") messages"
}

record protocol-v1 fx_v1 \
    "'proto_version', '1', 'publication_names', 'pub_v1', 'messages', 'true'"
record protocol-v2-streaming fx_v2 \
    "'proto_version', '2', 'publication_names', 'pub_v2', 'messages', 'true', 'streaming', 'on'"
record values fx_values \
    "'proto_version', '1', 'publication_names', 'pub_values'"

#!/usr/bin/env bash
# A local demo of the service: a throwaway Postgres with sample tables and a
# trickle of writes, `popsink-pg serve` on 127.0.0.1, and the demo source and a
# pipeline registered and started through the REST API with curl, as a user
# would. Prints the URLs to look at, then waits; Ctrl-C stops everything.
#
# Environment:
#   POPSINK_BIN        popsink-pg binary (default: release build, built here)
#   POPSINK_DEMO_PORT  port to listen on (default 8080, or a free one if taken)
#   POPSINK_API_TOKEN  when set, serve requires it and the demo sends it
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/throwaway-postgres.sh

if [ -z "${POPSINK_BIN:-}" ]; then
    swift build -c release --product popsink-pg >&2
    POPSINK_BIN=$(swift build -c release --show-bin-path)/popsink-pg
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_taken() { python3 -c 'import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(("127.0.0.1",int(sys.argv[1]))) != 0)' "$1"; }
PORT=${POPSINK_DEMO_PORT:-8080}
if port_taken "$PORT"; then PORT=$(free_port); fi
BASE=http://127.0.0.1:$PORT

work=$(mktemp -d /tmp/popsink-demo-XXXXXX)
writer=
server=
stop_pid() {   # stop_pid PID SIGNAL: signal it, give it 10 s, then KILL
    [ -n "$1" ] || return 0
    kill "-$2" "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    stop_pid "$writer" TERM
    # serve stops its pipelines with a final status update before Postgres goes away.
    stop_pid "$server" TERM
    pg_stop
    rm -rf "$work"
    echo "Stopped: popsink-pg serve, the writer and Postgres." >&2
}
trap cleanup EXIT
trap 'exit 0' INT TERM

pg_start
pg_sql -d postgres <<'SQL'
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text, created_at timestamptz DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers, total numeric(12,2),
                     status text DEFAULT 'new', items jsonb);
ALTER TABLE customers REPLICA IDENTITY FULL;
ALTER TABLE orders REPLICA IDENTITY FULL;
CREATE PUBLICATION popsink FOR TABLE customers, orders;
INSERT INTO customers (name, email) VALUES ('Ada', 'ada@example.com'), ('Grace', 'grace@example.com');
SQL

# A trickle of writes: inserts, updates and deletes, one transaction a second.
(
    while sleep 1; do
        pg_sql -d postgres -c "
            BEGIN;
            INSERT INTO orders (customer_id, total, items)
                VALUES (1 + (random() * 1)::int, round((random() * 100)::numeric, 2), '{\"sku\": \"A-1\", \"qty\": 2}');
            UPDATE orders SET status = 'paid' WHERE id = (SELECT max(id) FROM orders) - 1;
            DELETE FROM orders WHERE id = (SELECT max(id) FROM orders) - 5;
            COMMIT;" >/dev/null 2>&1 || true
    done
) &
writer=$!

"$POPSINK_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$work/data" --public-dir Public >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$BASE/healthz" >/dev/null || { echo "popsink-pg serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

auth=()
[ -n "${POPSINK_API_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $POPSINK_API_TOKEN")
api() {   # api METHOD PATH [JSON]: prints the response body, fails on an HTTP error
    local args=(-sS --fail-with-body -X "$1" "$BASE$2" "${auth[@]}")
    # Without a token the service wants JSON on every request with effects, bodyless too.
    [ "$1" != GET ] && args+=(-H 'Content-Type: application/json')
    [ $# -ge 3 ] && args+=(-d "$3")
    curl "${args[@]}"
}
field() {   # field NAME: one field of the JSON on stdin, strings bare, anything else as JSON
    python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

echo "Registering the demo source and pipeline through the API:" >&2
source_id=$(api POST /v1/sources \
    "{\"name\":\"demo\",\"host\":\"127.0.0.1\",\"port\":$PG_PORT,\"database\":\"postgres\",\"user\":\"postgres\",\"sslmode\":\"disable\"}" \
    | field id)
echo "  POST /v1/sources                   → $source_id" >&2
echo "  POST /v1/sources/$source_id/check → passed: $(api POST "/v1/sources/$source_id/check" | field passed)" >&2
api PUT /v1/pipelines/demo "{\"source_id\":\"$source_id\",\"filters\":{\"include_tables\":[\"public.*\"]}}" >/dev/null
echo "  PUT  /v1/pipelines/demo            (include_tables public.*)" >&2
api POST /v1/pipelines/demo/start >/dev/null
state=
for _ in $(seq 300); do
    state=$(api GET /v1/pipelines/demo/status | field state)
    [ "$state" = streaming ] && break
    sleep 0.1
done
echo "  POST /v1/pipelines/demo/start      → $state" >&2

cat >&2 <<EOF

popsink-pg serve is at $BASE (data in $work/data, log $work/serve.log).
Postgres is at '$PG_CONN'; customers and orders are captured, a transaction a second.

  dashboard  $BASE/
  status     curl -s $BASE/v1/pipelines/demo/status
  events     curl -s '$BASE/v1/pipelines/demo/events?after=0&limit=10'
  long-poll  curl -s '$BASE/v1/pipelines/demo/events?after=0&wait=30'
  SSE        curl -sN $BASE/v1/pipelines/demo/events/stream
  metrics    curl -s $BASE/metrics

EOF
[ -n "${POPSINK_API_TOKEN:-}" ] && echo "Every /v1 route and /metrics need -H 'Authorization: Bearer \$POPSINK_API_TOKEN'." >&2
echo "Ctrl-C stops everything." >&2
wait "$server"

#!/usr/bin/env bash
# A local demo: a throwaway Postgres with sample tables and a trickle of
# writes, and popsink-pg capturing it and printing every change as a JSON
# line. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/throwaway-postgres.sh

swift build -c release --product popsink-pg >&2
binary=$(swift build -c release --show-bin-path)/popsink-pg

data=$(mktemp -d /tmp/popsink-demo-XXXXXX)
writer=
capture=
cleanup() {
    [ -n "$writer" ] && kill "$writer" 2>/dev/null
    # Let popsink-pg send its final status update before Postgres goes away.
    [ -n "$capture" ] && { kill -INT "$capture" 2>/dev/null; wait "$capture" 2>/dev/null || true; }
    pg_stop
    rm -rf "$data"
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
echo "Postgres is at '$PG_CONN'. Capturing customers and orders; Ctrl-C stops." >&2

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

"$binary" run "$PG_CONN" --data-dir "$data" --output - &
capture=$!
wait "$capture" || true

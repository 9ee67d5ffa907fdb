#!/usr/bin/env bash
# Runs schemathesis (property-based API tests from openapi.yaml) against a live
# `popsink-pg serve`, with real resources behind the path parameters.
#
#   scripts/schemathesis.sh                 # as .ci/run does, after `swift test`
#   ST_MAX_EXAMPLES=100 scripts/schemathesis.sh
#
# 1. Starts a throwaway Postgres (scripts/throwaway-postgres.sh) with a demo
#    table `st_items` (REPLICA IDENTITY FULL) and a publication `st`.
# 2. Starts the already-built `popsink-pg serve` (default .build/debug, as
#    `swift test` leaves it) on a free 127.0.0.1 port, a temporary data
#    directory and a bearer token (--token-file).
# 3. Registers through the API a source (used by the pipelines) and a spare one,
#    a running pipeline `st_main` with events in its store, a stopped pipeline
#    `st_idle`, and pipelines `st_doomed_*` for DELETE to remove.
# 4. Runs schemathesis against openapi.yaml and the server, every request with
#    the token; path ids (and `source_id` in bodies) are drawn from those
#    resources most of the time, random otherwise, so both the found and the
#    not-found paths are exercised. `wait` of the events long-poll is kept short;
#    the SSE route is left out (see below).
#    Checks: not_a_server_error, response_schema_conformance,
#    status_code_conformance, content_type_conformance.
# 5. Stops the server and Postgres by pid and removes what it made (trap EXIT).
#
# Exit status: 1 when any response was a 5xx (not_a_server_error) or the run
# itself broke; the other checks' failures are printed as a report and do not
# fail the step unless ST_STRICT=1.
#
# Environment:
#   POPSINK_BIN       popsink-pg binary (default .build/debug/popsink-pg)
#   SCHEMATHESIS      schemathesis executable (default .build/schemathesis-venv/bin/schemathesis,
#                     else `schemathesis` on PATH; .ci/run installs the pinned version)
#   ST_MAX_EXAMPLES   examples per operation and phase (default 25)
#   ST_SEED           hypothesis seed (default: random; printed for reproduction)
#   ST_STRICT=1       also fail on schema, status code and content type mismatches
#   ST_KEEP=DIR       copy the reports and the server log to DIR before cleaning up
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
POPSINK_BIN=${POPSINK_BIN:-$ROOT/.build/debug/popsink-pg}
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-25}
SEED=${ST_SEED:-$((RANDOM * 32768 + RANDOM))}
if [ -z "${SCHEMATHESIS:-}" ]; then
    if [ -x "$ROOT/.build/schemathesis-venv/bin/schemathesis" ]; then
        SCHEMATHESIS=$ROOT/.build/schemathesis-venv/bin/schemathesis
    else
        SCHEMATHESIS=$(command -v schemathesis || true)
    fi
fi
[ -n "$SCHEMATHESIS" ] && [ -x "$SCHEMATHESIS" ] || {
    echo "schemathesis not found (python3 -m venv .build/schemathesis-venv && .build/schemathesis-venv/bin/pip install schemathesis)" >&2
    exit 2; }
[ -x "$POPSINK_BIN" ] || { echo "no popsink-pg binary at $POPSINK_BIN (run swift build first)" >&2; exit 2; }

# shellcheck source=throwaway-postgres.sh
source "$ROOT/scripts/throwaway-postgres.sh"
WORK=$(mktemp -d /tmp/popsink-schemathesis-XXXXXX)
SERVER_PID=
ST_PID=
cleanup() {
    local status=$?
    if [ -n "$ST_PID" ]; then kill -TERM "$ST_PID" 2>/dev/null; wait "$ST_PID" 2>/dev/null || true; fi
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    pg_stop || true
    if [ -n "${ST_KEEP:-}" ]; then
        mkdir -p "$ST_KEEP" && cp -R "$WORK/report" "$WORK/server.log" "$ST_KEEP/" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start
pg_sql -d postgres <<'SQL'
CREATE TABLE st_items (id bigserial PRIMARY KEY, name text NOT NULL, qty integer, price numeric(10,2),
                       tags text[], meta jsonb, created_at timestamptz NOT NULL DEFAULT now());
ALTER TABLE st_items REPLICA IDENTITY FULL;
CREATE PUBLICATION st FOR TABLE st_items;
SQL

TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
printf '%s\n' "$TOKEN" >"$WORK/token"
chmod 600 "$WORK/token"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
mkdir -p "$WORK/data" "$WORK/public"
"$POPSINK_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --token-file "$WORK/token" \
    --public-dir "$WORK/public" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "popsink-pg serve exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "popsink-pg serve did not answer /healthz" >&2; exit 1; }

# api METHOD PATH [JSON]: prints the body; fails on a status other than 2xx.
api() {
    local args=(-sS -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" -w '\n%{http_code}')
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
    local out code
    out=$(curl "${args[@]}")
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    case $code in 2??) printf '%s' "$out" ;; *) echo "$1 $2 -> $code: $out" >&2; return 1 ;; esac
}
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

SRC=$(api POST /v1/sources "{\"name\":\"st\",\"host\":\"127.0.0.1\",\"port\":$PG_PORT,\"database\":\"postgres\",\"user\":\"postgres\",\"password\":\"unused\",\"sslmode\":\"disable\"}" | json_field id)
SPARE=$(api POST /v1/sources "{\"name\":\"spare\",\"host\":\"127.0.0.1\",\"port\":$PG_PORT,\"database\":\"postgres\",\"user\":\"postgres\",\"sslmode\":\"disable\"}" | json_field id)
api PUT /v1/pipelines/st_main "{\"source_id\":\"$SRC\",\"publication\":\"st\",\"desired_state\":\"running\"}" >/dev/null
api PUT /v1/pipelines/st_idle "{\"source_id\":\"$SRC\",\"publication\":\"st\"}" >/dev/null
for i in 1 2 3; do
    api PUT "/v1/pipelines/st_doomed_$i" "{\"source_id\":\"$SRC\",\"publication\":\"st\"}" >/dev/null
done
# Wait for st_main to stream, then give it events to serve.
for _ in $(seq 150); do
    api GET /v1/pipelines/st_main/status | grep -q '"state":"streaming"' && break
    sleep 0.2
done
pg_sql -d postgres -c "INSERT INTO st_items (name, qty, price, tags, meta)
    SELECT 'item ' || g, g, g * 1.5, ARRAY['a', 'b'], jsonb_build_object('g', g) FROM generate_series(1, 50) g;
    UPDATE st_items SET qty = qty + 1 WHERE id <= 10; DELETE FROM st_items WHERE id > 45;"
for _ in $(seq 150); do
    [ "$(api GET '/v1/pipelines/st_main/events?after=0&limit=100' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')" -ge 65 ] && break
    sleep 0.2
done
echo "schemathesis: server $BASE (pid $SERVER_PID), Postgres 127.0.0.1:$PG_PORT, source $SRC (spare $SPARE), pipelines st_main (streaming), st_idle, st_doomed_1..3"

# Path ids (and body source_id) from the real resources most of the time in
# fuzzing; the examples and coverage phases also take them from responses
# (schemathesis's resource pool). DELETE of a pipeline only ever gets a doomed
# one, so st_main lives through the run. `wait` of the long-poll is pinned to
# 1 s (its valid range goes to 60, and a cursor past the end waits that long).
# A 503 is documented (source unreachable) where a source is contacted (a
# backfill's conditions are checked on it): the fuzzer repoints sources at
# hosts that do not exist.
# GET .../events/stream (Server-Sent Events) is left out: the response only ends
# when the client closes it, schemathesis reads up to max-stream-events events,
# and any cursor at or past the end (most generated ones) holds the request
# until the timeout. The integration tests cover SSE.
cat >"$WORK/schemathesis.toml" <<EOF
headers = { Authorization = "Bearer \${ST_TOKEN}" }
request-timeout = 10.0
max-stream-events = 5
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large", "large_base_example"]

[dictionaries]
source_ids = { values = ["$SRC", "$SPARE"] }
pipeline_ids = { values = ["st_main", "st_idle"] }

[[operations]]
include-path-regex = "^/v1/sources/\\\\{id\\\\}"
exclude-method = "DELETE"
parameters = { "path.id" = { dictionary = "source_ids", probability = 0.8 } }

[[operations]]
include-path = "/v1/sources/{id}"
include-method = "DELETE"
parameters = { "path.id" = "$SPARE" }

[[operations]]
include-path-regex = "^/v1/pipelines/\\\\{id\\\\}"
exclude-method = "DELETE"
parameters = { "path.id" = { dictionary = "pipeline_ids", probability = 0.8 }, "body.source_id" = { dictionary = "source_ids", probability = 0.8 }, "query.wait" = 1 }

[[operations]]
include-path = "/v1/pipelines/{id}"
include-method = "DELETE"
parameters = { "path.id" = "st_doomed_1" }

[[operations]]
include-path = "/v1/pipelines"
include-method = "POST"
parameters = { "body.source_id" = { dictionary = "source_ids", probability = 0.8 } }

[[operations]]
include-path-regex = "^/v1/sources/\\\\{id\\\\}/(tables|ddl-capture)\$|^/v1/pipelines/\\\\{id\\\\}(/backfills)?\$|^/readyz\$"
checks = { not_a_server_error = { expected-statuses = ["2XX", "3XX", "4XX", "503"] } }
EOF

mkdir -p "$WORK/report"
set +e
ST_TOKEN=$TOKEN "$SCHEMATHESIS" --config-file "$WORK/schemathesis.toml" --no-color run "$ROOT/openapi.yaml" \
    --url "$BASE" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing --exclude-path /v1/pipelines/{id}/events/stream \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 \
    --continue-on-failure --output-truncate false \
    --report ndjson --report-ndjson-path "$WORK/report/events.ndjson" \
    --report junit --report-junit-path "$WORK/report/junit.xml" \
    >"$WORK/report/output.txt" 2>&1 &
ST_PID=$!
wait "$ST_PID"
ST_STATUS=$?
ST_PID=
set -e

# Summarize: which checks failed where. 5xx (not_a_server_error) fail the step.
python3 - "$WORK/report/output.txt" "$WORK/report/junit.xml" "$ST_STATUS" "$SEED" "${ST_STRICT:-0}" <<'PY'
import re, sys, xml.etree.ElementTree as ET
output_path, junit_path, status, seed, strict = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
out = open(output_path, encoding="utf-8", errors="replace").read()
# Its pytest-style closing line ("== 1 failure ... in 47s ==") is left out:
# CI reads such lines as the verdict of a test run, and this is not one.
tail = "\n".join(line for line in out.rstrip().splitlines()[-12:] if not re.match(r"^=+ .* in [\d.]+s =+$", line))
try:
    root = ET.parse(junit_path).getroot()
except Exception as error:
    print(out[-6000:])
    print(f"schemathesis: no JUnit report ({error}); exit status {status}")
    sys.exit(1)
server_errors, mismatches, errors, total = [], [], [], 0
for case in root.iter("testcase"):
    total += 1
    for failure in case.findall("failure"):
        text = (failure.get("message") or "") + "\n" + (failure.text or "")
        (server_errors if "Server error" in text else mismatches).append((case.get("name"), text.strip()))
    for error in case.findall("error"):
        errors.append((case.get("name"), ((error.get("message") or "") + "\n" + (error.text or "")).strip()))
def show(title, items):
    if not items:
        return
    print(f"--- {title}: {len(items)} operation(s)")
    for name, text in items:
        print(f"  {name}:")
        for line in text.splitlines()[:60]:
            print(f"      {line}")
if not server_errors and "Server error" in out:   # in case the JUnit wording changes
    server_errors.append(("(see schemathesis output)", "\n".join(l for l in out.splitlines() if "Server error" in l)))
show("SERVER ERRORS (5xx)", server_errors)
show("schema / status code / content type mismatches", mismatches)
show("errors (network, timeouts, schema problems)", errors)
print(tail)
print(f"schemathesis summary: {total} operations, {len(server_errors)} with 5xx, {len(mismatches)} with other "
      f"check failures, {len(errors)} with errors (seed {seed}; rerun with ST_SEED={seed})")
fail = bool(server_errors) or bool(errors) or (strict and bool(mismatches))
if status not in (0, 1):
    print(f"schemathesis exited with {status}")
    fail = True
sys.exit(1 if fail else 0)
PY

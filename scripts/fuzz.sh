#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (swiftc -sanitize=fuzzer,address, each
# compiled against the sources of the module it tests, so internal types are in
# reach) and runs each for N seconds.
#
#   scripts/fuzz.sh [seconds] [target...]   (default: 20 s each, every target)
#
# Targets: http-parser, pgoutput, copy-text, json-body. The checked-in seeds
# are in Fuzz/<target>/corpus; what a run adds goes to .build-fuzz/corpus/<target>
# and a crashing input to .build-fuzz/crashes/. Replay one with
# `.build-fuzz/bin/<target> <file>`, then turn it into a regression test in
# the normal suite. Exits non-zero if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(http-parser pgoutput copy-text json-body)

out=.build-fuzz
mkdir -p "$out/modules" "$out/objects" "$out/bin" "$out/crashes"
flags=(-parse-as-library -package-name popsink_pg -sanitize=fuzzer,address -O -g -swift-version 6 -enable-upcoming-feature ExistentialAny
    -I "$out/modules" -I Sources/CHTTPShims -I Sources/COpenSSL)

sources() { find "$@" -name '*.swift' | sort; }

# gold warns once per ASan helper symbol it cannot export; nothing to act on.
quiet() { "$@" 2>&1 | { grep -v "Cannot export local symbol '__asan" || true; }; return "${PIPESTATUS[0]}"; }

# A module the targets import, instrumented too: one object and its .swiftmodule.
module() {
    local name=$1
    shift
    [[ -f "$out/objects/$name.o" && -z "$(find "$@" -newer "$out/objects/$name.o" -name '*.swift' -print -quit)" ]] && return
    echo "fuzz: building module $name"
    quiet swiftc "${flags[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$out/modules/$name.swiftmodule" \
        -c -o "$out/objects/$name.o" $(sources "$@")
}

# A fuzzer executable: the target's entry point compiled in one module with the
# sources it tests, linked with the modules those import.
target() {
    local name=$1 objects=$2 binary=$out/bin/$1
    shift 2
    if [[ -f "$binary" && -z "$(find "Fuzz/$name/FuzzTarget.swift" "$@" $objects -newer "$binary" -print -quit)" ]]; then
        return
    fi
    echo "fuzz: building $name"
    quiet swiftc "${flags[@]}" -module-name "Fuzz_${name//-/_}" -o "$out/bin/$name" \
        "Fuzz/$name/FuzzTarget.swift" $(sources "$@") $objects
}

for name in "${targets[@]}"; do
    case $name in
    http-parser)
        module Blocking Sources/Blocking
        module JSONText Sources/JSONText
        target http-parser "$out/objects/Blocking.o $out/objects/JSONText.o" Sources/HTTPServer ;;
    pgoutput)
        module PostgresWire Sources/PostgresWire
        module JSONText Sources/JSONText
        target pgoutput "$out/objects/PostgresWire.o $out/objects/JSONText.o" Sources/PgOutput ;;
    copy-text)
        module PostgresWire Sources/PostgresWire
        module JSONText Sources/JSONText
        module PgOutput Sources/PgOutput
        target copy-text "$out/objects/PostgresWire.o $out/objects/JSONText.o $out/objects/PgOutput.o" \
            Sources/CDC/Snapshot/CopyTextFields.swift ;;
    json-body)
        module Blocking Sources/Blocking
        module JSONText Sources/JSONText
        module HTTPServer Sources/HTTPServer
        # JSONInput reads table filters: CDC's filter files that need nothing
        # else (the others talk to Postgres or OpenSSL) stand in for CDC.
        module CDC Sources/CDC/Filters/TableFilter.swift Sources/CDC/Filters/TableFilter+Partitions.swift \
            Sources/CDC/Filters/Glob.swift Sources/CDC/Filters/RowCondition.swift Sources/CDC/Filters/RowCondition+JSON.swift
        target json-body "$out/objects/Blocking.o $out/objects/JSONText.o $out/objects/HTTPServer.o $out/objects/CDC.o" \
            Sources/ControlPlane/API/JSONInput.swift Sources/ControlPlane/API/JSONInput+RowCondition.swift \
            Sources/ControlPlane/API/JSONDuplicateKeys.swift Sources/ControlPlane/API/Problem.swift \
            Sources/ControlPlane/API/JSON.swift ;;
    *)
        echo "fuzz: unknown target $name (http-parser, pgoutput, copy-text, json-body)" >&2
        exit 2 ;;
    esac
done

failed=()
for name in "${targets[@]}"; do
    mkdir -p "$out/corpus/$name"
    echo "fuzz: running $name for ${seconds}s"
    # The first corpus folder takes what the run finds; the seeds stay as checked in.
    # Without Swift's own backtracer, which under ASan muddles libFuzzer's crash report.
    if ! SWIFT_BACKTRACE=enable=no "$out/bin/$name" "$out/corpus/$name" "Fuzz/$name/corpus" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$out/crashes/$name-" -print_final_stats=1 \
        >"$out/$name.log" 2>&1; then
        failed+=("$name")
        tail -40 "$out/$name.log"
    fi
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$out/$name.log" | sed "s/^/fuzz: $name /" || true
done
if ((${#failed[@]})); then
    echo "fuzz: crashed: ${failed[*]} (inputs in $out/crashes/)" >&2
    exit 1
fi
echo "fuzz: no crash in ${targets[*]}"

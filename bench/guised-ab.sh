#!/bin/sh
# shellcheck shell=dash source=bench/lib.sh
# Two guised builds against each other on the http-small workload (100-byte
# anonymous GET, impersonation as configured by BENCH_IMP, default auto when
# root): to check what a server change is worth before and after.
#   bench/guised-ab.sh BUILD_A BUILD_B
# The same build twice compares configurations: BENCH_EXTRA_A and
# BENCH_EXTRA_B name files of extra [server] lines for A or B only.
set -eu
[ $# -eq 2 ] || {
    echo "usage: $0 BUILD_A BUILD_B" >&2
    exit 2
}
. "$(dirname "$0")/lib.sh"
bench_init "$1"
GUISED_A=$GUISED
GUISED=$(cd "$2" 2>/dev/null && pwd)/src/server/guised
[ -x "$GUISED" ] || die "$2/src/server/guised not built"
GUISED_B=$GUISED
CONNS=${BENCH_CONNS:-64}
IMP=${BENCH_IMP:-auto}
[ "$IS_ROOT" -eq 1 ] || IMP=off

head -c "${BENCH_SMALL_BYTES:-100}" /dev/urandom >"$WORK/www/bench/small.bin"
chmod 644 "$WORK/www/bench/small.bin"
chmod 755 "$WORK/www" "$WORK/www/bench"
echo "A: $GUISED_A"
echo "B: $GUISED_B"
echo "wrk -t2 -c$CONNS -d${BENCH_DURATION}s GET /bench/small.bin, impersonation = $IMP"

GUISED=$GUISED_A
start_guised A "$BENCH_PORT" "$IMP" anonymous "${BENCH_EXTRA_A:-}"
GUISED=$GUISED_B
start_guised B $((BENCH_PORT + 1)) "$IMP" anonymous "${BENCH_EXTRA_B:-}"
measure_all /bench/small.bin "$CONNS" "$BENCH_DIR/report.lua"
print_table "guised A/B (small GET)" rps "req/s" A -- B

#!/bin/sh
# shellcheck shell=dash source=bench/lib.sh
# Small static files: anonymous GET of a 100-byte file over keep-alive
# connections (wrk -t2 -c64), guised against lighttpd and nginx on loopback,
# every server with the same worker count and the same file.
#   bench/http-small.sh BUILD_DIR
# guised runs twice: as root with impersonation = auto (io_uring
# personalities, the real configuration) and with impersonation = off.
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
CONNS=${BENCH_CONNS:-64}

head -c 100 /dev/urandom >"$WORK/www/bench/small.bin"
chmod 644 "$WORK/www/bench/small.bin"
chmod 755 "$WORK/www" "$WORK/www/bench"

print_versions wrk lighttpd nginx-light libmicrohttpd12 liburing2
echo "wrk -t2 -c$CONNS -d${BENCH_DURATION}s (keep-alive) GET /bench/small.bin (100 bytes)"

guiseds=""
if [ "$IS_ROOT" -eq 1 ]; then
    start_guised guised-imp "$BENCH_PORT" auto
    guiseds="guised-imp"
fi
start_guised guised-noimp $((BENCH_PORT + 1)) off
guiseds="$guiseds guised-noimp"
start_lighttpd lighttpd $((BENCH_PORT + 2))
start_nginx nginx $((BENCH_PORT + 3))

measure_all /bench/small.bin "$CONNS" "$BENCH_DIR/report.lua"
# shellcheck disable=SC2086
print_table "http-small (100-byte GET)" rps "req/s" $guiseds -- lighttpd nginx

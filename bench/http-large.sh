#!/bin/sh
# shellcheck shell=dash source=bench/lib.sh
# Large file throughput: GET of a 1 GiB file, again and again for the run,
# on BENCH_LARGE_CONNS keep-alive connections (default 2), guised against
# lighttpd and nginx on loopback, all sending with sendfile(2). Reports MB/s
# (10^6 bytes) of response bytes received, in-flight responses included.
#   bench/http-large.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
CONNS=${BENCH_LARGE_CONNS:-2}
SIZE_MB=${BENCH_LARGE_MB:-1024}

# Random bytes, written once: the file is in the page cache for every server.
dd if=/dev/urandom of="$WORK/www/bench/large.bin" bs=1M count="$SIZE_MB" status=none
chmod 644 "$WORK/www/bench/large.bin"
chmod 755 "$WORK/www" "$WORK/www/bench"
cat "$WORK/www/bench/large.bin" >/dev/null

print_versions wrk lighttpd nginx-light libmicrohttpd12 liburing2
echo "wrk -c$CONNS -d${BENCH_DURATION}s --timeout 120s GET /bench/large.bin ($SIZE_MB MiB)"

guiseds=""
if [ "$IS_ROOT" -eq 1 ]; then
    start_guised guised-imp "$BENCH_PORT" auto
    guiseds="guised-imp"
fi
start_guised guised-noimp $((BENCH_PORT + 1)) off
guiseds="$guiseds guised-noimp"
start_lighttpd lighttpd $((BENCH_PORT + 2))
start_nginx nginx $((BENCH_PORT + 3))

measure_all /bench/large.bin "$CONNS" "$BENCH_DIR/report.lua" --timeout 120s
# shellcheck disable=SC2086
print_table "http-large ($SIZE_MB MiB GET)" mbps "MB/s" $guiseds -- lighttpd nginx

#!/bin/sh
# Every server benchmark in turn, then the ratios guised/peer of all of them
# (above 1: guised is faster). `make bench` calls this.
#   bench/run-all.sh BUILD_DIR
set -eu
[ $# -eq 1 ] || {
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
}
here=$(dirname "$0")
BENCH_RESULTS=$(mktemp /tmp/guise-bench-ratios.XXXXXX)
export BENCH_RESULTS
trap 'rm -f "$BENCH_RESULTS"' EXIT

failed=""
# basic and negotiate need the peers' PAM/TLS and GSSAPI modules (install-deps --bench)
for b in http-small http-large digest basic negotiate; do
    echo "######## $b"
    "$here/$b.sh" "$1" || failed="$failed $b"
done

echo
echo "######## ratios guised/peer, above 1.00 = guised better"
echo "(throughput: median guised / median peer; cpu: peer CPU per unit of work / guised's)"
printf '%-36s %-26s %10s %6s\n' benchmark pair throughput cpu
awk -F'\t' '$1 == "RATIO" { printf "%-36s %-26s %10s %6s\n", $2, $3, $4, $5 }' "$BENCH_RESULTS"
if [ -n "$failed" ]; then
    echo "failed:$failed" >&2
    exit 1
fi

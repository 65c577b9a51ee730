#!/bin/sh
# Builds and runs bench-open-as: the cost of opening a file as a client
# (io_uring personalities and credential syscalls) against a plain openat2.
# Needs root. Arguments are passed on (-n iterations, -r batches, -u account,
# -m method). GUISE_BENCH_BUILD picks the build directory (default
# build-bench-open-as, configured here - release, tests on - when missing).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${GUISE_BENCH_BUILD:-$src/build-bench-open-as}
if [ ! -f "$build/build.ninja" ]; then
    # the benchmark is declared with the token unit tests
    meson setup "$build" "$src" --buildtype=release -Dtests=true >/dev/null
fi
ninja -C "$build" tests/unit/token/bench-open-as >/dev/null
exec "$build/tests/unit/token/bench-open-as" "$@"

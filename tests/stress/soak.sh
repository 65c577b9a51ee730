#!/bin/bash
# Soak: wrk on loopback with SOAK_CONNECTIONS (default 10,000) concurrent
# keep-alive connections at saturation for SECONDS, first on an anonymous
# publishing point, then on a Digest one (a fresh Digest response per
# request: tests/stress/soak-digest.lua). Fails on any socket error, any
# answer other than 200, a guised that died, or a resident memory after the
# runs more than 10% above (or below) the one measured after a warm-up.
#   tests/stress/soak.sh BUILD_DIR SECONDS
# Knobs: SOAK_CONNECTIONS (10000), SOAK_THREADS (wrk threads, 2),
# SOAK_WARMUP (seconds of one unmeasured warm-up pass per point; default
# SECONDS, at most 10), SOAK_WARMUP_PASSES (at most 4 passes: the warm-up
# is repeated until guised's resident memory moves less than 3% in a pass,
# so that the measured run starts from the allocator's high-water mark even
# on a slow machine where one pass does not open every connection),
# SOAK_PORT (18600). Runs without root too (then impersonation = off).
# Under sanitizers (GUISE_SANITIZED=1, set by make asan) the memory figures
# are printed but not judged (ASan's quarantine holds freed memory), and the
# default is 1,000 connections: a sanitized guised is several times slower.
set -euo pipefail

[ $# -eq 2 ] || {
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
}
HERE=$(cd "$(dirname "$0")" && pwd)
GUISED=$(cd "$1" && pwd)/src/server/guised
PASSWD=$(cd "$1" && pwd)/src/cli/guise-passwd
SECONDS_RUN=$2
CONNS=${SOAK_CONNECTIONS:-10000}
[ "${GUISE_SANITIZED:-0}" = 1 ] && CONNS=${SOAK_CONNECTIONS:-1000}
THREADS=${SOAK_THREADS:-2}
WARMUP=${SOAK_WARMUP:-$((SECONDS_RUN < 10 ? SECONDS_RUN : 10))}
PORT=${SOAK_PORT:-18600}
USER_NAME=soak
PASSWORD=soak-secret
REALM=soak

fail() {
    echo "soak: FAIL: $*" >&2
    if [ -n "${WORK:-}" ] && [ -s "$WORK/events.log" ]; then
        echo "soak: guised's last warnings and errors:" >&2
        grep -v ' information ' "$WORK/events.log" | tail -20 >&2
    fi
    exit 1
}
for tool in wrk curl; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps --bench)"
done
[ -x "$GUISED" ] && [ -x "$PASSWD" ] || fail "build $1 first (guised, guise-passwd)"

# wrk needs a descriptor per connection; guised a socket per connection plus
# the content file each answer holds open while it is sent. Without
# CAP_SYS_RESOURCE the hard limit is as far as it goes.
want_fds=$((2 * CONNS + 4096))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want_fds" ]; then
    ulimit -Hn "$want_fds" 2>/dev/null || want_fds=$hard
fi
ulimit -Sn "$want_fds"
[ "$want_fds" -ge $((2 * CONNS + 64)) ] ||
    echo "soak: note: open-file limit $want_fds is below 2 x $CONNS connections + 64: guised may meet EMFILE"

WORK=$(mktemp -d /tmp/guise-soak.XXXXXX)
chmod 755 "$WORK"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID"
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/pub" "$WORK/prot"
head -c 1024 /dev/urandom >"$WORK/pub/small.bin"
cp "$WORK/pub/small.bin" "$WORK/prot/small.bin"
chmod 755 "$WORK/pub" "$WORK/prot"
chmod 644 "$WORK/pub/small.bin" "$WORK/prot/small.bin"
echo "$PASSWORD" | "$PASSWD" -c -a MD5 --stdin "$WORK/users.digest" "$REALM" "$USER_NAME" >/dev/null 2>&1
if [ "$(id -u)" -eq 0 ]; then
    # guised switches from root to its service account (docs/SECURITY.md):
    # it writes its log and state here and reads the user file as guise.
    "$(dirname "$0")/../../scripts/install-service-account" >/dev/null
    chown guise:guise "$WORK"
    chgrp guise "$WORK/users.digest"
    chmod 0640 "$WORK/users.digest"
fi

imp=off
if [ "$(id -u)" -eq 0 ]; then
    imp=auto
    # A root-started guised switches to the service account (server-account,
    # default guise): it must own its state directory, user file and log.
    id guise >/dev/null 2>&1 ||
        useradd --system --user-group --no-create-home --shell /usr/sbin/nologin guise
    chown -R guise:guise "$WORK"
fi
cat >"$WORK/guised.conf" <<CONF
[server]
listen = 127.0.0.1:$PORT
impersonation = $imp
realm = $REALM
state-directory = $WORK
access-log = $WORK/access.log
event-log = stderr
io-threads = 2
max-connections = $((CONNS + 1000))
# every connection comes from 127.0.0.1: lift the per-address default (256)
max-connections-per-ip = 0
idle-timeout = 120
auth-lockout-failures = 0
authentication = anonymous

[plugin "anonymous"]
account = nobody

[plugin "digest"]
user-file = $WORK/users.digest
algorithms = MD5
qop = auth
account = nobody
nonce-lifetime = 3600
nonce-cache-size = $((CONNS * 2 + 1024))

[publishing-point "pub"]
path = $WORK/pub

[publishing-point "prot"]
path = $WORK/prot
authentication = digest
CONF

"$GUISED" -c "$WORK/guised.conf" 2>"$WORK/events.log" &
PID=$!
for _ in $(seq 100); do
    grep -q started "$WORK/events.log" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || fail "guised did not start: $(cat "$WORK/events.log")"
    sleep 0.1
done
grep -q started "$WORK/events.log" || fail "guised did not start: $(cat "$WORK/events.log")"
BASE=http://127.0.0.1:$PORT

code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "$USER_NAME:$PASSWORD" "$BASE/prot/small.bin")
[ "$code" = 200 ] || fail "Digest login answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/prot/small.bin")
[ "$code" = 401 ] || fail "the Digest point answered $code without credentials"

# One nonce per connection, from 401 challenges (curl reuses one connection).
# Every wrk run starts its counts at 1, so each run gets fresh nonces.
for _ in $(seq "$CONNS"); do echo "url = \"$BASE/prot/small.bin\""; done >"$WORK/curl.cfg"
fresh_nonces() {
    curl -s -I -K "$WORK/curl.cfg" | tr -d '\r' | grep -i '^WWW-Authenticate: *Digest' |
        sed -n 's/.*[ ,]nonce="\([^"]*\)".*[ ,]opaque="\([^"]*\)".*/\1 \2/p' >"$WORK/nonces"
    [ "$(wc -l <"$WORK/nonces")" -eq "$CONNS" ] || fail "got $(wc -l <"$WORK/nonces") nonces for $CONNS connections"
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"
}

# run_wrk NAME SECONDS PATH [-s SCRIPT -- ARGS...]: wrk's report in $WORK/NAME.wrk
run_wrk() {
    local name=$1 secs=$2 path=$3 script=()
    shift 3
    [ $# -ge 2 ] && script=("$1" "$2") && shift 2
    wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout 30s --latency "${script[@]}" "$BASE$path" "$@" \
        >"$WORK/$name.wrk" 2>&1 || fail "wrk $name: $(cat "$WORK/$name.wrk")"
    kill -0 "$PID" 2>/dev/null || fail "guised died during $name: $(tail -20 "$WORK/events.log")"
}

digest_args=(-s "$HERE/soak-digest.lua" -- "$THREADS" "$USER_NAME" "$PASSWORD" "$REALM" "$WORK/nonces")

# check NAME: no socket error (wrk's timeout is 30 s), no answer but 200;
# prints the figures.
check() {
    local name=$1 f="$WORK/$1.wrk" rps p99 max reqs
    reqs=$(awk '/requests in/ { print $1 }' "$f")
    rps=$(awk '/^Requests\/sec/ { print $2 }' "$f")
    p99=$(awk '$1 == "99%" { print $2 }' "$f")
    max=$(awk '$1 == "Latency" { print $4 }' "$f")
    if grep -q 'Socket errors' "$f" || grep -q 'Non-2xx' "$f"; then
        cat "$f" >&2
        fail "$name: socket errors or unexpected statuses ($reqs requests, p99 $p99, max $max)"
    fi
    [ -n "$reqs" ] && [ "$reqs" -gt 0 ] || fail "$name: no requests: $(cat "$f")"
    printf 'soak: %-9s %d connections, %s s: %s requests, %s req/s, p99 %s, max %s, 0 socket errors, 0 non-2xx\n' \
        "$name" "$CONNS" "$SECONDS_RUN" "$reqs" "$rps" "$p99" "$max"
}

# Warm-up: every connection slot, pool and cache the runs will use, pass
# after pass until resident memory settles (a leak would not settle: it is
# judged below, against the settled figure).
PASSES=${SOAK_WARMUP_PASSES:-4}
rss_before=0
for pass in $(seq "$PASSES"); do
    fresh_nonces
    run_wrk warmup-anon "$WARMUP" /pub/small.bin
    run_wrk warmup-digest "$WARMUP" /prot/small.bin "${digest_args[@]}"
    sleep 2
    rss_prev=$rss_before
    rss_before=$(rss_kib)
    echo "soak: warm-up pass $pass: guised VmRSS ${rss_before} KiB"
    awk -v b="$rss_prev" -v a="$rss_before" 'BEGIN { exit !(b > 0 && (a - b) / b < 0.03) }' && break
done
fresh_nonces

run_wrk anonymous "$SECONDS_RUN" /pub/small.bin
check anonymous
rss_mid=$(rss_kib)
run_wrk digest "$SECONDS_RUN" /prot/small.bin "${digest_args[@]}"
check digest
sleep 2
rss_after=$(rss_kib)

echo "soak: guised VmRSS after warm-up ${rss_before} KiB, after anonymous ${rss_mid} KiB, after Digest ${rss_after} KiB"
if [ "${GUISE_SANITIZED:-0}" = 1 ]; then
    echo "soak: sanitized build: resident memory not judged"
else
    awk -v b="$rss_before" -v a="$rss_after" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; exit !(d <= 0.10) }' ||
        fail "resident memory moved more than 10% ($rss_before -> $rss_after KiB)"
fi

kill "$PID"
rc=0
wait "$PID" || rc=$?
PID=""
[ "$rc" -eq 0 ] || fail "guised exited with $rc on SIGTERM"
if grep -E ' error ' "$WORK/events.log" >&2; then
    fail "error events during the soak"
fi
echo "soak: PASS"

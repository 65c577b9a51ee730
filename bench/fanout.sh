#!/bin/sh
# Progressive fan-out: one 128 kbit/s MP3 source (ffmpeg -re, a sine tone),
# N listeners reading as fast as the bytes come (bench/fanout_client.c, one
# epoll thread), guised (a broadcast point, anonymous listeners authorized
# and opened as the guest account like any content) against Debian's
# icecast2 (the same source through icecast://, the same burst). For each N:
# listeners that kept up (>= 95% of the stream's rate over the measured
# window) and the server's CPU time per listener (utime+stime of the process
# over the window, /proc/PID/stat).
#   bench/fanout.sh BUILD_DIR            (as root: guised impersonates)
# Knobs: FANOUT_N="250 500 1000 2000" FANOUT_WARMUP=3 FANOUT_MEASURE=10
#        FANOUT_SERVERS="guised icecast2" (either or both)
#        FANOUT_PORT=18580 (guised), +1 (icecast2)
set -eu
BUILD=${1:?usage: bench/fanout.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
NS=${FANOUT_N:-"250 500 1000 2000"}
WARM=${FANOUT_WARMUP:-3}
MEASURE=${FANOUT_MEASURE:-10}
PORT=${FANOUT_PORT:-18580}
IPORT=$((PORT + 1))
RATE=16000 # bytes per second of a 128 kbit/s stream
for t in ffmpeg icecast2 cc; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/bin/$t" ] || { echo "bench: $t is missing" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/guise-fanout-XXXXXX)
chmod 755 "$WORK"
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    if [ "${FANOUT_KEEP:-0}" = 1 ]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM
ulimit -n 65536 2>/dev/null || true

cc -O2 -std=c11 -Wall -Wextra -o "$WORK/fanout_client" "$HERE/fanout_client.c"

ticks() { # utime + stime of a process, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# measure PID LABEL PATH: one line per N
measure() {
    pid=$1 label=$2 path=$3 port=$4
    hz=$(getconf CLK_TCK)
    for n in $NS; do
        "$WORK/fanout_client" 127.0.0.1 "$port" "$path" "$n" "$WARM" "$MEASURE" "$RATE" \
            >"$WORK/client.out" &
        cpid=$!
        sleep "$WARM"
        t0=$(ticks "$pid")
        sleep "$MEASURE"
        t1=$(ticks "$pid")
        wait "$cpid"
        line=$(cat "$WORK/client.out")
        keep=$(echo "$line" | sed 's/.*keeping_up=\([0-9]*\).*/\1/')
        cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v m="$MEASURE" 'BEGIN {printf "%.3f", (b - a) / hz / m}')
        per=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v m="$MEASURE" -v k="$n" \
            'BEGIN {printf "%.1f", (b - a) / hz / m / k * 1e6}')
        echo "$label N=$n kept_up=$keep cpu=${cpu}cores per_listener=${per}us/s $line"
        sleep 2
    done
}

SERVERS_RUN=${FANOUT_SERVERS:-"guised icecast2"}
: >"$WORK/guised.res"
: >"$WORK/icecast.res"

# ---- guised ----
if echo "$SERVERS_RUN" | grep -qw guised; then
mkdir -p "$WORK/radio" "$WORK/state"
chown nobody "$WORK/radio"
HA1=$(printf 'src:fanout:srcpw' | md5sum | cut -d' ' -f1)
echo "src:fanout:$HA1" >"$WORK/users.digest"
chmod 640 "$WORK/users.digest"
# a root-started guised works as its service account (server-account,
# default guise): it must read its user file and own its state directory
id guise >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin guise
chgrp guise "$WORK/users.digest"
chown guise:guise "$WORK/state"
cat >"$WORK/guised.conf" <<EOF
[server]
listen = 127.0.0.1:$PORT
authentication = anonymous digest
authorization = fs-acl
realm = fanout
state-directory = $WORK/state
admin-listen = none
event-log = stderr
max-connections = 20000
# every listener comes from 127.0.0.1: lift the per-address default (256)
max-connections-per-ip = 0
io-threads = 2
[plugin "digest"]
user-file = $WORK/users.digest
account = nobody
algorithms = MD5
[publishing-point "radio"]
path = $WORK/radio
type = broadcast
authorization = pp-acl
write = user:src
burst-bytes = 65536
EOF
"$BUILD/src/server/guised" -c "$WORK/guised.conf" 2>"$WORK/guised.log" &
GPID=$!
PIDS="$PIDS $GPID"
sleep 1
ffmpeg -nostdin -loglevel error -re -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -c:a libmp3lame -b:a 128k -f mp3 -method PUT -content_type audio/mpeg \
    "http://src:srcpw@127.0.0.1:$PORT/radio/" &
SPID=$!
PIDS="$PIDS $SPID"
sleep 3
grep -q "point radio: publisher src .* connected" "$WORK/guised.log" ||
    { echo "bench: the source did not connect to guised:" >&2; tail -5 "$WORK/guised.log" >&2; exit 1; }
measure "$GPID" guised /radio/live "$PORT" | tee "$WORK/guised.res"
kill "$SPID" 2>/dev/null || true
kill "$GPID"
wait "$GPID" 2>/dev/null || true
fi

# ---- icecast2 ----
if echo "$SERVERS_RUN" | grep -qw icecast2; then
mkdir -p "$WORK/ice/log"
chown -R nobody "$WORK/ice"
cat >"$WORK/ice/icecast.xml" <<EOF
<icecast>
  <limits><clients>20000</clients><sources>2</sources><queue-size>524288</queue-size>
    <burst-size>65536</burst-size><source-timeout>10</source-timeout></limits>
  <authentication><source-password>srcpw</source-password><admin-user>admin</admin-user>
    <admin-password>adminpw</admin-password></authentication>
  <listen-socket><port>$IPORT</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>$WORK/ice/log</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>1</loglevel></logging>
  <security><chroot>0</chroot></security>
</icecast>
EOF
setpriv --reuid=nobody --regid=nogroup --clear-groups icecast2 -c "$WORK/ice/icecast.xml" &
IPID=$!
PIDS="$PIDS $IPID"
sleep 1
ffmpeg -nostdin -loglevel error -re -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -c:a libmp3lame -b:a 128k -f mp3 -content_type audio/mpeg \
    "icecast://source:srcpw@127.0.0.1:$IPORT/radio" &
SPID=$!
PIDS="$PIDS $SPID"
sleep 3
# the icecast2 process itself (runuser forks it)
IC=$(pgrep -n -u nobody -x icecast2 || echo "$IPID")
PIDS="$PIDS $IC"
measure "$IC" icecast2 /radio "$IPORT" | tee "$WORK/icecast.res"
kill "$SPID" 2>/dev/null || true
fi

echo "# fan-out, 128 kbit/s MP3, listeners kept up and server CPU per listener"
paste -d'\n' "$WORK/guised.res" "$WORK/icecast.res"

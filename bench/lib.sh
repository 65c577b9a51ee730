# Shared by the server benchmarks (sourced, not run): a scratch directory,
# the peers' configurations, starting and stopping servers, running wrk and
# printing ratio tables. POSIX sh plus `local`, as dash and bash both accept.
#
# shellcheck shell=dash disable=SC2034 # variables used by the scripts that source it
# Knobs (environment):
#   BENCH_DURATION   seconds of each measured wrk run          (default 10)
#   BENCH_WARMUP     seconds of the unmeasured run before it    (default 2)
#   BENCH_REPEAT     measured runs per server, interleaved; the
#                    median is reported                         (default 3)
#   BENCH_PORT       first TCP port; servers use PORT..PORT+5   (default 18480)
#   BENCH_THREADS    guised io-threads = lighttpd max-worker =
#                    nginx worker_processes = Apache processes  (default: CPUs)
#   BENCH_ACCESS_LOG on|off: access log for every server or none (default off)
#   BENCH_KEEP       1: keep the scratch directory for reading  (default 0)
#   BENCH_RESULTS    file that receives one `RATIO` line per peer (run-all.sh)
#   BENCH_GUISED_EXTRA  file of extra [server] lines for every guised
#                    (experiments, e.g. max-header-size = 1024)

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_PORT=${BENCH_PORT:-18480}
BENCH_THREADS=${BENCH_THREADS:-$(nproc)}
BENCH_ACCESS_LOG=${BENCH_ACCESS_LOG:-off}
BENCH_KEEP=${BENCH_KEEP:-0}

# Every server of one script, in start order: "name pid port".
SERVERS=""

die() {
    echo "bench: $*" >&2
    exit 1
}

note() {
    echo "bench: $*" >&2
}

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "$tool is missing: run scripts/install-deps --bench"
    done
}

# bench_init BUILD_DIR: checks the tools, makes the scratch tree
#   $WORK/www/bench/   the files every server serves as /bench/NAME
#   $WORK/logs/        logs (writable by www-data, lighttpd's user)
#   $WORK/results/     one file per measured server
bench_init() {
    [ $# -ge 1 ] || die "usage: $0 BUILD_DIR"
    GUISED=$(cd "$1" 2>/dev/null && pwd)/src/server/guised
    [ -x "$GUISED" ] || die "$1/src/server/guised not built (ninja -C $1)"
    need wrk curl lighttpd nginx
    case "$BENCH_ACCESS_LOG" in
    on | off) ;;
    *) die "BENCH_ACCESS_LOG must be on or off" ;;
    esac
    IS_ROOT=0
    [ "$(id -u)" -eq 0 ] && IS_ROOT=1
    [ "$IS_ROOT" -eq 1 ] ||
        note "not root: lighttpd and nginx keep their own user, guised runs without impersonation only"
    WORK=$(mktemp -d /tmp/guise-bench.XXXXXX)
    # The peers drop to www-data/nobody: they must reach the files.
    chmod 755 "$WORK"
    mkdir -p "$WORK/www/bench" "$WORK/logs" "$WORK/results" "$WORK/nginx-temp"
    if [ "$IS_ROOT" -eq 1 ]; then
        chown www-data "$WORK/logs"
        # A root-started guised works as its service account (server-account,
        # default guise, as make install creates it): its access log goes
        # beside the peers' logs.
        id guise >/dev/null 2>&1 ||
            useradd --system --user-group --no-create-home --shell /usr/sbin/nologin guise
        chmod 1777 "$WORK/logs"
    fi
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    stop_all
    if [ "$BENCH_KEEP" = 1 ]; then
        note "scratch directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}

port_free() {
    ! ss -Hltn "sport = :$1" | grep -q .
}

# wait_http URL: until the server answers anything (any status) or 10 s pass.
wait_http() {
    i=0
    while [ $i -lt 100 ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" 2>/dev/null) || code=000
        [ "$code" != 000 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# launch NAME PORT CMD...: starts a foreground server, remembers it.
launch() {
    local name=$1 port=$2
    shift 2
    port_free "$port" || die "port $port is in use (set BENCH_PORT)"
    "$@" >"$WORK/logs/$name.out" 2>&1 &
    local pid=$!
    SERVERS="$SERVERS$name $pid $port
"
    if ! wait_http "http://127.0.0.1:$port/"; then
        cat "$WORK/logs/$name.out" >&2
        die "$name did not start on port $port"
    fi
}

stop_all() {
    # A here-document, not a pipe: `wait` must run in this shell. A server
    # that has not drained after 15 s is killed: the next script needs the
    # ports, and a stray server would skew its numbers.
    while read -r name pid port; do
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null || continue
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
            # a zombie counts as gone: `wait` reaps it below
            grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
            sleep 0.1
            i=$((i + 1))
        done
        kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null &&
            note "$name did not stop in 15 s: killed" && kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true
    done <<EOF
$SERVERS
EOF
    SERVERS=""
}

server_pid() {
    echo "$SERVERS" | awk -v n="$1" '$1 == n { print $2 }'
}

server_port() {
    echo "$SERVERS" | awk -v n="$1" '$1 == n { print $3 }'
}

# ---- servers ----

# guise_readable STATE_DIR: as root, gives STATE_DIR to the service account
# and lets it read the keys and user files the scripts made in $WORK (as
# docs/SECURITY.md asks of an install: group guise, group-readable).
guise_readable() {
    [ "$IS_ROOT" -eq 1 ] || return 0
    # basic.sh runs guised as an account of its own (BENCH_SERVER_ACCOUNT)
    chown "${BENCH_SERVER_ACCOUNT:-guise}:" "$1"
    find "$WORK" -maxdepth 1 -type f \( -name '*.digest' -o -name '*.key' -o -name '*.htpasswd' \
        -o -name '*.map' -o -name '*.keytab' \) -exec chgrp guise {} + -exec chmod g+r {} +
}

# start_guised NAME PORT IMPERSONATION [AUTHN [EXTRA_SECTIONS_FILE]]
start_guised() {
    local name=$1 port=$2 imp=$3 authn=${4:-anonymous} extra=${5:-}
    local conf="$WORK/$name.conf"
    {
        echo "[server]"
        echo "listen = 127.0.0.1:$port"
        echo "impersonation = $imp"
        echo "event-log = stderr"
        echo "authentication = $authn"
        echo "authorization = fs-acl"
        echo "io-threads = $BENCH_THREADS"
        echo "state-directory = $WORK/$name-state"
        # every wrk connection comes from 127.0.0.1 (default limit 256)
        echo "max-connections-per-ip = 0"
        [ "$BENCH_ACCESS_LOG" = on ] && echo "access-log = $WORK/logs/$name-access.log"
        [ -n "${BENCH_GUISED_EXTRA:-}" ] && cat "$BENCH_GUISED_EXTRA"
        [ -n "$extra" ] && cat "$extra"
        echo '[publishing-point "bench"]'
        echo "path = $WORK/www/bench"
    } >"$conf"
    mkdir -p "$WORK/$name-state"
    guise_readable "$WORK/$name-state"
    "$GUISED" -t -c "$conf" >"$WORK/logs/$name.test" 2>&1 || {
        cat "$WORK/logs/$name.test" >&2
        die "guised rejects $conf"
    }
    launch "$name" "$port" "$GUISED" -c "$conf"
}

# start_lighttpd NAME PORT [EXTRA_CONF_FILE]
start_lighttpd() {
    local name=$1 port=$2 extra=${3:-}
    local conf="$WORK/$name.conf"
    {
        echo "server.document-root = \"$WORK/www\""
        echo "server.bind = \"127.0.0.1\""
        echo "server.port = $port"
        if [ "$IS_ROOT" -eq 1 ]; then
            echo 'server.username = "www-data"'
            echo 'server.groupname = "www-data"'
        fi
        echo "server.errorlog = \"$WORK/logs/$name-error.log\""
        # One process per guised I/O thread.
        echo "server.max-worker = $BENCH_THREADS"
        # libmicrohttpd puts no cap on requests per connection.
        echo "server.max-keep-alive-requests = 1000000"
        echo "server.max-keep-alive-idle = 60"
        echo 'server.network-backend = "sendfile"'
        echo 'mimetype.assign = ( ".bin" => "application/octet-stream" )'
        if [ "$BENCH_ACCESS_LOG" = on ]; then
            echo 'server.modules = ( "mod_accesslog" )'
            echo "accesslog.filename = \"$WORK/logs/$name-access.log\""
        else
            echo 'server.modules = ( )'
        fi
        [ -n "$extra" ] && cat "$extra"
    } >"$conf"
    lighttpd -tt -f "$conf" >"$WORK/logs/$name.test" 2>&1 || {
        cat "$WORK/logs/$name.test" >&2
        die "lighttpd rejects $conf"
    }
    launch "$name" "$port" lighttpd -D -f "$conf"
}

# start_nginx NAME PORT
start_nginx() {
    local name=$1 port=$2
    local conf="$WORK/$name.conf" log=off
    [ "$BENCH_ACCESS_LOG" = on ] && log="$WORK/logs/$name-access.log"
    cat >"$conf" <<EOF
daemon off;
master_process on;
worker_processes $BENCH_THREADS;
pid $WORK/$name.pid;
error_log $WORK/logs/$name-error.log warn;
events { worker_connections 4096; }
http {
    access_log $log;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    types { application/octet-stream bin; }
    default_type application/octet-stream;
    client_body_temp_path $WORK/nginx-temp/body;
    proxy_temp_path $WORK/nginx-temp/proxy;
    fastcgi_temp_path $WORK/nginx-temp/fastcgi;
    uwsgi_temp_path $WORK/nginx-temp/uwsgi;
    scgi_temp_path $WORK/nginx-temp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $WORK/www;
    }
}
EOF
    nginx -t -q -c "$conf" -e "$WORK/logs/$name-error.log" >"$WORK/logs/$name.test" 2>&1 || {
        cat "$WORK/logs/$name.test" >&2
        die "nginx rejects $conf"
    }
    launch "$name" "$port" nginx -c "$conf" -e "$WORK/logs/$name-error.log"
}

# start_apache NAME PORT [EXTRA_CONF_FILE]: Apache httpd with the event MPM,
# BENCH_THREADS processes (as nginx) of 64 threads each: the event MPM needs
# a thread per request in progress, and 64 covers every wrk connection.
start_apache() {
    local name=$1 port=$2 extra=${3:-}
    local conf="$WORK/$name.conf" mods=/usr/lib/apache2/modules
    mkdir -p "$WORK/$name-run"
    [ "$IS_ROOT" -eq 1 ] && chown www-data "$WORK/$name-run"
    {
        echo "ServerRoot $WORK"
        echo "ServerName 127.0.0.1"
        echo "Listen 127.0.0.1:$port"
        echo "PidFile $WORK/$name-run/httpd.pid"
        echo "DefaultRuntimeDir $WORK/$name-run"
        echo "ErrorLog $WORK/logs/$name-error.log"
        echo "LogLevel warn"
        for m in mpm_event authn_core authz_core mime; do
            echo "LoadModule ${m}_module $mods/mod_$m.so"
        done
        if [ "$IS_ROOT" -eq 1 ]; then
            echo "User www-data"
            echo "Group www-data"
        fi
        echo "StartServers $BENCH_THREADS"
        echo "ServerLimit $BENCH_THREADS"
        echo "ThreadLimit 64"
        echo "ThreadsPerChild 64"
        echo "MaxRequestWorkers $((BENCH_THREADS * 64))"
        echo "MinSpareThreads 1"
        echo "MaxSpareThreads $((BENCH_THREADS * 64))"
        echo "MaxConnectionsPerChild 0"
        echo "KeepAlive On"
        echo "MaxKeepAliveRequests 0"
        echo "KeepAliveTimeout 60"
        echo "EnableSendfile On"
        echo "EnableMMAP Off"
        echo "TypesConfig /etc/mime.types"
        echo "DocumentRoot $WORK/www"
        echo "<Directory $WORK/www>"
        echo "    Require all granted"
        echo "    AllowOverride None"
        echo "</Directory>"
        if [ "$BENCH_ACCESS_LOG" = on ]; then
            echo "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b\" common"
            echo "CustomLog $WORK/logs/$name-access.log common"
        fi
        [ -n "$extra" ] && cat "$extra"
    } >"$conf"
    apache2 -t -f "$conf" >"$WORK/logs/$name.test" 2>&1 || {
        cat "$WORK/logs/$name.test" >&2
        die "apache2 rejects $conf"
    }
    launch "$name" "$port" apache2 -f "$conf" -DFOREGROUND
}

# ---- measuring ----

# CPU seconds (user+system, ticks) used so far by a server and its children.
cpu_ticks() {
    local pids
    pids="$1 $(pgrep -P "$1" | tr '\n' ' ')"
    for p in $pids; do
        # fields 14 and 15 after the "(comm)" that may hold spaces
        sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }'
    done | awk '{ s += $1 } END { print s + 0 }'
}

# wrk_run NAME URL DURATION CONNS SCRIPT [WRK_ARGS...]: prints the line
#   requests bytes micros errors non2xx
# When SCRIPT_ARGS_FN is set, `$SCRIPT_ARGS_FN NAME THREADS` prints the
# arguments of the Lua script, asked anew for every run (Digest nonces).
wrk_run() {
    local name=$1 url=$2 dur=$3 conns=$4 script=$5
    shift 5
    local threads=2 sargs=""
    [ "$conns" -lt 2 ] && threads=1
    if [ -n "${SCRIPT_ARGS_FN:-}" ]; then
        sargs=$("$SCRIPT_ARGS_FN" "$name" "$threads") || die "$name: no script arguments"
    fi
    # shellcheck disable=SC2086
    wrk -t"$threads" -c"$conns" -d"${dur}s" -s "$script" "$@" "$url" ${sargs:+-- $sargs} 2>&1 |
        awk '/^BENCH / { print $2, $3, $4, $5, $6; found = 1 }
             !/^BENCH / { print > "/dev/stderr" }
             END { if (!found) print "0 0 1 1 0" }'
}

# measure NAME PATH CONNS SCRIPT [WRK_ARGS...]: one warm-up and one measured
# run against a started server; appends
#   requests bytes micros errors non2xx cpu_ticks
# to $WORK/results/NAME.
measure() {
    local name=$1 path=$2 conns=$3 script=$4
    shift 4
    local port pid url before after line
    port=$(server_port "$name")
    pid=$(server_pid "$name")
    url="http://127.0.0.1:$port$path"
    [ "$BENCH_WARMUP" -gt 0 ] &&
        wrk_run "$name" "$url" "$BENCH_WARMUP" "$conns" "$script" "$@" >/dev/null 2>&1
    before=$(cpu_ticks "$pid")
    line=$(wrk_run "$name" "$url" "$BENCH_DURATION" "$conns" "$script" "$@" 2>"$WORK/logs/$name.wrk")
    after=$(cpu_ticks "$pid")
    echo "$line $((after - before))" >>"$WORK/results/$name"
    # shellcheck disable=SC2086 # the fields of the line, on purpose
    set -- $line
    if [ "$4" -ne 0 ] || [ "$5" -ne 0 ]; then
        note "$name: $4 socket errors, $5 non-2xx answers in one run (see $WORK/logs/$name*)"
        BENCH_KEEP=1
    fi
}

# measure_all PATH CONNS SCRIPT [WRK_ARGS...]: BENCH_REPEAT rounds over
# every started server, interleaved so that drift hits all alike.
measure_all() {
    local r=1 names
    names=$(echo "$SERVERS" | awk 'NF { print $1 }')
    while [ $r -le "$BENCH_REPEAT" ]; do
        for n in $names; do
            note "round $r/$BENCH_REPEAT: $n"
            measure "$n" "$@"
        done
        r=$((r + 1))
    done
}

# median_of NAME FIELD: FIELD is rps, mbps, cpu (server CPU µs per request)
# or cpugb (server CPU ms per GB sent).
median_of() {
    awk -v f="$2" -v hz="$(getconf CLK_TCK)" '
        { if (f == "rps") v = $1 / ($3 / 1e6)
          else if (f == "mbps") v = $2 / ($3 / 1e6) / 1e6
          else if (f == "cpu") v = ($1 ? $6 / hz * 1e6 / $1 : 0)
          else v = ($2 ? $6 / hz * 1e3 / ($2 / 1e9) : 0)
          print v }' "$WORK/results/$1" |
        sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# spread_of NAME FIELD: (max-min)/median in percent, to judge the noise.
spread_of() {
    local med
    med=$(median_of "$1" "$2")
    awk -v f="$2" -v m="$med" '
        { v = (f == "rps") ? $1 / ($3 / 1e6) : $2 / ($3 / 1e6) / 1e6
          if (NR == 1 || v < lo) lo = v; if (NR == 1 || v > hi) hi = v }
        END { printf "%.0f", (m > 0 ? (hi - lo) / m * 100 : 0) }' "$WORK/results/$1"
}

# print_table TITLE FIELD UNIT GUISED_NAMES -- PEER_NAMES
# One row per server; for each guised variant, a column guised/this.
print_table() {
    local title=$1 field=$2 unit=$3
    shift 3
    local guiseds="" peers="" side=g
    for a in "$@"; do
        if [ "$a" = -- ]; then
            side=p
        elif [ $side = g ]; then
            [ -s "$WORK/results/$a" ] && guiseds="$guiseds $a"
        else
            [ -s "$WORK/results/$a" ] && peers="$peers $a"
        fi
    done
    echo
    local cpu=cpu cpulabel="CPU us/req"
    [ "$field" = mbps ] && cpu=cpugb cpulabel="CPU ms/GB"
    echo "== $title"
    printf '%-22s %12s %7s %10s' server "$unit" spread "$cpulabel"
    for g in $guiseds; do printf ' %18s' "$g/this"; done
    for g in $guiseds; do printf ' %18s' "cpu this/$g"; done
    echo
    for s in $guiseds $peers; do
        local v
        v=$(median_of "$s" "$field")
        printf '%-22s %12.1f %6s%% %10.1f' "$s" "$v" "$(spread_of "$s" "$field")" \
            "$(median_of "$s" "$cpu")"
        for g in $guiseds; do
            printf ' %18.2f' "$(awk -v a="$(median_of "$g" "$field")" -v b="$v" \
                'BEGIN { print (b > 0 ? a / b : 0) }')"
        done
        # CPU cost ratio: how much CPU the server needs per request (per
        # GB) relative to guised; it holds up better than throughput when
        # other work shares the machine.
        for g in $guiseds; do
            printf ' %18.2f' "$(awk -v a="$(median_of "$g" "$cpu")" -v b="$(median_of "$s" "$cpu")" \
                'BEGIN { print (a > 0 ? b / a : 0) }')"
        done
        echo
        if [ -n "${BENCH_RESULTS:-}" ]; then
            # every guised variant against each peer; among the variants,
            # only the first (the real configuration) against the others
            local first
            first=${guiseds# }
            first=${first%% *}
            for g in $guiseds; do
                [ "$g" = "$s" ] && continue
                case " $guiseds " in
                *" $s "*) [ "$g" = "$first" ] || continue ;;
                esac
                awk -v t="$title" -v g="$g" -v s="$s" -v a="$(median_of "$g" "$field")" \
                    -v b="$v" -v ca="$(median_of "$g" "$cpu")" -v cb="$(median_of "$s" "$cpu")" \
                    'BEGIN { printf "RATIO\t%s\t%s/%s\t%.2f\t%.2f\n", t, g, s,
                             (b > 0 ? a / b : 0), (ca > 0 ? cb / ca : 0) }' >>"$BENCH_RESULTS"
            done
        fi
    done
    echo "($BENCH_REPEAT interleaved runs of ${BENCH_DURATION}s each after a ${BENCH_WARMUP}s warm-up;" \
        "median shown; spread = (max-min)/median; access logs $BENCH_ACCESS_LOG for all;" \
        "$BENCH_THREADS worker threads/processes each;" \
        "cpu this/guised = this server's CPU per unit of work / guised's, above 1 = guised cheaper)"
}

print_versions() {
    # Other work on the machine skews throughput more than CPU cost: say so.
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
        "kernel $(uname -r)"
    echo "guised: $("$GUISED" -V)"
    dpkg-query -W -f='${Package} ${Version}\n' "$@" 2>/dev/null | sed 's/^/package: /'
}

#!/bin/sh
# shellcheck shell=dash source=bench/lib.sh disable=SC2034 # BENCH_KEEP: read by lib.sh
# Basic authentication over TLS: GET of a 100-byte file with the same
# `Authorization: Basic` header on every request, over keep-alive
# connections on loopback, the password checked by real PAM (pam_unix
# against /etc/shadow, a throw-away service and user):
#  - guised's basic plug-in (backend = pam) with its credentials cache
#    (cache-ttl = 60) and without (cache-ttl = 0);
#  - lighttpd mod_auth + mod_authn_pam + mod_openssl, with its auth cache
#    (auth.cache max-age 60) and without.
#   bench/basic.sh BUILD_DIR
# Needs root (the PAM service file, the user, pam_unix reading /etc/shadow;
# lighttpd keeps root for the same reason) and the packages
# lighttpd-mod-authn-pam and lighttpd-mod-openssl. Creates
# /etc/pam.d/guise-bench and the user guise-bench, removed at the end.
# Servers use ports BENCH_PORT and BENCH_PORT+1. BENCH_CONNS (64) connections
# with the cache, BENCH_UNCACHED_CONNS (4) without.
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
CONNS=${BENCH_CONNS:-64}
UNCACHED_CONNS=${BENCH_UNCACHED_CONNS:-4}
USER_NAME=guise-bench
# the service account guised switches to in this run (see below)
BENCH_SERVER_ACCOUNT=guise-bench-pam
export BENCH_SERVER_ACCOUNT
PASSWORD=bench-Secret-42
SERVICE=guise-bench
REALM=bench

if [ "$IS_ROOT" -ne 1 ]; then
    echo "basic: skipped: needs root (PAM service file, test user, /etc/shadow)"
    exit 0
fi
for m in mod_authn_pam mod_openssl; do
    [ -e "/usr/lib/lighttpd/$m.so" ] ||
        die "lighttpd's $m is missing: apt-get install lighttpd-$(echo "$m" | tr _ -)"
done
need openssl
getent passwd "$USER_NAME" >/dev/null && die "user $USER_NAME exists already (a previous run?)"
[ -e "/etc/pam.d/$SERVICE" ] && die "/etc/pam.d/$SERVICE exists already (a previous run?)"

# The account and service go first, and TERM is ignored meanwhile: lighttpd
# with several workers stops them by signalling its whole process group,
# this script included, which would cut the cleanup short.
basic_cleanup() {
    trap '' INT TERM
    rm -f "/etc/pam.d/$SERVICE"
    getent passwd "$USER_NAME" >/dev/null && userdel "$USER_NAME"
    bench_cleanup
    # after the servers are gone: guised runs as this account
    if getent passwd "$BENCH_SERVER_ACCOUNT" >/dev/null; then userdel "$BENCH_SERVER_ACCOUNT"; fi
}
trap basic_cleanup EXIT

useradd -M -s /usr/sbin/nologin "$USER_NAME"
# guised runs as a service account, and pam_unix run by a non-root caller
# checks other users' passwords only by reading /etc/shadow itself: this
# run's account is in group shadow, as docs/SECURITY.md says a pam_unix
# site must choose to do.
getent passwd "$BENCH_SERVER_ACCOUNT" >/dev/null ||
    useradd --system -U -G shadow -M -s /usr/sbin/nologin "$BENCH_SERVER_ACCOUNT"
echo "$USER_NAME:$PASSWORD" | chpasswd
# As dist/pam.d/guise: pam_unix without its failure delay.
printf 'auth required pam_unix.so nodelay\naccount required pam_unix.so\n' >"/etc/pam.d/$SERVICE"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$WORK/server.key" -out "$WORK/server.crt" -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 >"$WORK/logs/openssl.log" 2>&1
chmod 644 "$WORK/server.crt" "$WORK/server.key"

head -c 100 /dev/urandom >"$WORK/www/bench/small.bin"
chmod 644 "$WORK/www/bench/small.bin"
chmod 755 "$WORK/www" "$WORK/www/bench"

# The servers speak TLS only: lib.sh's start check and measure use http://,
# redefined here for https:// (the certificate is the script's own).
wait_http() {
    local i=0 code
    while [ $i -lt 100 ]; do
        code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "https://${1#http://}" 2>/dev/null) ||
            code=000
        [ "$code" != 000 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

measure() {
    local name=$1 path=$2 conns=$3 script=$4
    shift 4
    local port pid url before after line
    port=$(server_port "$name")
    pid=$(server_pid "$name")
    url="https://127.0.0.1:$port$path"
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

guised_ini() {
    cat <<INI
server-account = $BENCH_SERVER_ACCOUNT
tls-certificate = $WORK/server.crt
tls-key = $WORK/server.key
[plugin "basic"]
backend = pam
pam-service = $SERVICE
realm = $REALM
cache-ttl = $1
INI
}
guised_ini 60 >"$WORK/guised-cache.ini"
guised_ini 0 >"$WORK/guised-nocache.ini"

lighttpd_conf() {
    cat <<CONF
server.modules += ( "mod_openssl", "mod_auth", "mod_authn_pam" )
ssl.engine = "enable"
ssl.pemfile = "$WORK/server.crt"
ssl.privkey = "$WORK/server.key"
auth.backend = "pam"
auth.backend.pam.opts = ( "service" => "$SERVICE" )
auth.require = ( "/bench/" => ( "method" => "basic", "realm" => "$REALM", "require" => "valid-user" ) )
CONF
    [ "$1" -gt 0 ] && echo "auth.cache = ( \"max-age\" => \"$1\" )"
    return 0
}
lighttpd_conf 60 >"$WORK/lighttpd-cache.inc"
lighttpd_conf 0 >"$WORK/lighttpd-nocache.inc"

print_versions wrk lighttpd lighttpd-mod-authn-pam lighttpd-mod-openssl libpam-modules libgnutls30 libssl3
echo "wrk -t2 -c$CONNS (cached) or -c$UNCACHED_CONNS (uncached) -d${BENCH_DURATION}s (keep-alive, TLS) GET /bench/small.bin (100 bytes)" \
    "with Basic credentials checked by PAM (pam_unix, $(getent shadow "$USER_NAME" | cut -d'$' -f2) hash)"

# start_pair CACHE: guised and lighttpd with (60) or without (0) the cache.
start_pair() {
    local tag=cache
    [ "$1" -eq 0 ] && tag=nocache
    start_guised "guised-$tag" "$BENCH_PORT" auto basic "$WORK/guised-$tag.ini"
    # lighttpd keeps root: pam_unix run by www-data cannot check another
    # user's password (unix_chkpwd only checks the caller's own).
    IS_ROOT=0
    start_lighttpd "lighttpd-$tag" $((BENCH_PORT + 1)) "$WORK/lighttpd-$tag.inc"
    IS_ROOT=1
    # Right and wrong passwords, or the numbers mean nothing.
    for n in "guised-$tag" "lighttpd-$tag"; do
        url="https://127.0.0.1:$(server_port "$n")/bench/small.bin"
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/server.crt" -u "$USER_NAME:wrong" "$url")
        [ "$code" = 401 ] || die "$n answers $code to a wrong Basic password"
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/server.crt" -u "$USER_NAME:$PASSWORD" "$url")
        [ "$code" = 200 ] || die "$n answers $code to the right Basic password"
    done
}

auth="Authorization: Basic $(printf '%s' "$USER_NAME:$PASSWORD" | base64 -w0)"
start_pair 60
measure_all /bench/small.bin "$CONNS" "$BENCH_DIR/report.lua" -H "$auth"
# lighttpd signals its process group when it stops (see basic_cleanup).
trap '' INT TERM
stop_all
trap 'exit 130' INT TERM
# Without a cache every request waits for pam_unix (yescrypt, tens of ms
# of CPU): few connections and a long client timeout, or wrk counts the
# queued requests as timeouts instead of measuring the check rate.
start_pair 0
measure_all /bench/small.bin "$UNCACHED_CONNS" "$BENCH_DIR/report.lua" --timeout 60s -H "$auth"
print_table "basic cached (Basic over TLS, PAM, GET 100 bytes, -c$CONNS)" rps "req/s" guised-cache -- lighttpd-cache
print_table "basic uncached (a PAM check per request, -c$UNCACHED_CONNS)" rps "req/s" guised-nocache -- lighttpd-nocache

#!/bin/sh
# shellcheck shell=dash source=bench/lib.sh
# Digest-authenticated GET of a 100-byte file (algorithm MD5, qop=auth), a
# fresh Digest response computed by wrk for every request (bench/digest.lua),
# guised's digest plug-in against lighttpd mod_auth and Apache httpd
# mod_auth_digest, over keep-alive connections on loopback.
#   bench/digest.sh BUILD_DIR
# Skipped (exit 0 with a note) when guised does not accept
# `authentication = digest`.
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
need apache2
CONNS=${BENCH_CONNS:-64}
USER_NAME=bench
PASSWORD=bench-secret
REALM=bench

head -c 100 /dev/urandom >"$WORK/www/bench/small.bin"
chmod 644 "$WORK/www/bench/small.bin"
chmod 755 "$WORK/www" "$WORK/www/bench"

# One htdigest file for every server. Mode 644: the peers read it as
# www-data; it only holds the benchmark's throw-away user.
ha1=$(printf '%s' "$USER_NAME:$REALM:$PASSWORD" | md5sum | cut -d' ' -f1)
echo "$USER_NAME:$REALM:$ha1" >"$WORK/users.digest"
chmod 644 "$WORK/users.digest"

cat >"$WORK/guised-digest.ini" <<INI
[plugin "digest"]
user-file = $WORK/users.digest
realm = $REALM
algorithms = MD5
qop = auth
account = nobody
INI
probe="$WORK/probe.conf"
{
    echo "[server]"
    echo "listen = 127.0.0.1:$BENCH_PORT"
    echo "impersonation = off"
    echo "authentication = digest"
    echo "authorization = fs-acl"
    echo "state-directory = $WORK"
    cat "$WORK/guised-digest.ini"
    echo '[publishing-point "bench"]'
    echo "path = $WORK/www/bench"
} >"$probe"
if ! "$GUISED" -t -c "$probe" >"$WORK/logs/probe.log" 2>&1; then
    echo "digest: skipped: guised -t refuses authentication = digest:"
    sed 's/^/  /' "$WORK/logs/probe.log"
    exit 0
fi

cat >"$WORK/lighttpd-digest.conf" <<CONF
server.modules += ( "mod_auth", "mod_authn_file" )
auth.backend = "htdigest"
auth.backend.htdigest.userfile = "$WORK/users.digest"
auth.require = ( "/bench/" => ( "method" => "digest", "realm" => "$REALM",
                                "algorithm" => "MD5", "require" => "valid-user" ) )
CONF

cat >"$WORK/apache-digest.conf" <<CONF
LoadModule auth_digest_module /usr/lib/apache2/modules/mod_auth_digest.so
LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
<Location /bench/>
    AuthType Digest
    AuthName "$REALM"
    AuthDigestDomain /bench/
    AuthDigestProvider file
    AuthUserFile $WORK/users.digest
    AuthDigestAlgorithm MD5
    AuthDigestQop auth
    Require valid-user
</Location>
CONF

# nonce_args NAME THREADS: "THREADS USER PASSWORD REALM NONCE OPAQUE ..." with
# one fresh challenge per connection, from unauthenticated HEAD requests.
nonce_args() {
    local port k=0 urls="" pairs
    port=$(server_port "$1")
    while [ $k -lt "$CONNS" ]; do
        urls="$urls http://127.0.0.1:$port/bench/small.bin"
        k=$((k + 1))
    done
    # shellcheck disable=SC2086
    pairs=$(curl -s -I $urls | tr -d '\r' | grep -i '^WWW-Authenticate: *Digest' |
        awk '{ n = "-"; o = "-"
               if (match($0, /[ ,]nonce="[^"]*"/)) n = substr($0, RSTART + 8, RLENGTH - 9)
               if (match($0, /[ ,]opaque="[^"]*"/)) o = substr($0, RSTART + 9, RLENGTH - 10)
               if (n != "-") print n, o }')
    [ "$(echo "$pairs" | grep -c .)" -eq "$CONNS" ] || {
        note "$1 sent $(echo "$pairs" | grep -c .) Digest challenges for $CONNS requests"
        return 1
    }
    echo "$2 $USER_NAME $PASSWORD $REALM $(echo "$pairs" | tr '\n' ' ')"
}
SCRIPT_ARGS_FN=nonce_args

print_versions wrk lighttpd apache2-bin libmicrohttpd12 libssl3
echo "wrk -t2 -c$CONNS -d${BENCH_DURATION}s (keep-alive) GET /bench/small.bin with Digest" \
    "MD5 qop=auth, a fresh response per request"

guiseds=""
if [ "$IS_ROOT" -eq 1 ]; then
    start_guised guised-imp "$BENCH_PORT" auto digest "$WORK/guised-digest.ini"
    guiseds="guised-imp"
fi
start_guised guised-noimp $((BENCH_PORT + 1)) off digest "$WORK/guised-digest.ini"
guiseds="$guiseds guised-noimp"
start_lighttpd lighttpd $((BENCH_PORT + 2)) "$WORK/lighttpd-digest.conf"
start_apache apache $((BENCH_PORT + 4)) "$WORK/apache-digest.conf"

# A wrong password must be refused by every server, or the numbers mean nothing.
for n in $guiseds lighttpd apache; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "$USER_NAME:wrong" \
        "http://127.0.0.1:$(server_port "$n")/bench/small.bin")
    [ "$code" = 401 ] || die "$n answers $code to a wrong Digest password"
    code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "$USER_NAME:$PASSWORD" \
        "http://127.0.0.1:$(server_port "$n")/bench/small.bin")
    [ "$code" = 200 ] || die "$n answers $code to the right Digest password"
done

measure_all /bench/small.bin "$CONNS" "$BENCH_DIR/digest.lua"
# shellcheck disable=SC2086
print_table "digest (Digest MD5 GET, 100 bytes)" rps "req/s" $guiseds -- lighttpd apache

#!/bin/sh
# shellcheck shell=dash source=bench/lib.sh
# Digest-authenticated GET of a 100-byte file (qop=auth), a fresh Digest
# response computed by wrk for every request (bench/digest.lua), over
# keep-alive connections on loopback:
#  - MD5: guised's digest plug-in against lighttpd mod_auth and Apache httpd
#    mod_auth_digest;
#  - SHA-256: guised against lighttpd (Apache's mod_auth_digest has MD5
#    only, so its MD5 run is the reference);
#  - guised with Digest against guised serving the same file anonymously.
#   bench/digest.sh BUILD_DIR
# Servers use ports BENCH_PORT to BENCH_PORT+6. Skipped (exit 0 with a note)
# when guised does not accept `authentication = digest`.
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
need apache2
CONNS=${BENCH_CONNS:-64}
# Nonces fetched per wrk connection before each run. wrk's Lua cannot tell
# connections apart, so each thread uses its nonces in turn across all its
# connections; when one of guised's I/O threads stalls (a loaded machine),
# the connections it serves fall behind, and a nonce-count more than 64
# behind the newest of its nonce is answered stale=true - which guised counts
# as an authentication failure, 10 in a row locking the address out for 60 s
# (see docs/PERFORMANCE.md). More nonces per connection make a nonce advance
# more slowly, so only a far longer stall leaves the window.
NONCES=$((CONNS * ${BENCH_DIGEST_NONCES_PER_CONN:-8}))
USER_NAME=bench
PASSWORD=bench-secret
REALM=bench

head -c 100 /dev/urandom >"$WORK/www/bench/small.bin"
chmod 644 "$WORK/www/bench/small.bin"
chmod 755 "$WORK/www" "$WORK/www/bench"

# One htdigest file (MD5) for every MD5 server, one with the SHA-256 line
# (lighttpd's format, which guised reads too) for the SHA-256 ones. Mode 644:
# the peers read them as www-data; they only hold the benchmark's throw-away
# user.
ha1=$(printf '%s' "$USER_NAME:$REALM:$PASSWORD" | md5sum | cut -d' ' -f1)
echo "$USER_NAME:$REALM:$ha1" >"$WORK/users.digest"
ha1=$(printf '%s' "$USER_NAME:$REALM:$PASSWORD" | sha256sum | cut -d' ' -f1)
echo "$USER_NAME:$REALM:$ha1" >"$WORK/users-sha256.digest"
chmod 644 "$WORK/users.digest" "$WORK/users-sha256.digest"

cat >"$WORK/guised-digest.ini" <<INI
[plugin "digest"]
user-file = $WORK/users.digest
realm = $REALM
algorithms = MD5
qop = auth
account = nobody
INI
cat >"$WORK/guised-sha256.ini" <<INI
[plugin "digest"]
user-file = $WORK/users-sha256.digest
realm = $REALM
algorithms = SHA-256
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
guise_readable "$WORK"
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

sed -e "s|users.digest|users-sha256.digest|" -e 's|"MD5"|"SHA-256"|' \
    "$WORK/lighttpd-digest.conf" >"$WORK/lighttpd-sha256-auth.conf"

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

# nonce_args NAME THREADS: "THREADS ALG USER PASSWORD REALM NONCE OPAQUE ..."
# with NONCES fresh challenges, from unauthenticated HEAD
# requests; ALG is the algorithm of the server's challenges (each server
# offers one). The anonymous guised gets "THREADS none".
nonce_args() {
    local port k=0 urls="" pairs alg
    case "$1" in
    *-anon)
        echo "$2 none"
        return 0
        ;;
    esac
    port=$(server_port "$1")
    while [ $k -lt "$NONCES" ]; do
        urls="$urls http://127.0.0.1:$port/bench/small.bin"
        k=$((k + 1))
    done
    # shellcheck disable=SC2086
    pairs=$(curl -s -I $urls | tr -d '\r' | grep -i '^WWW-Authenticate: *Digest' |
        awk '{ n = "-"; o = "-"; a = "MD5"
               if (match($0, /[ ,]nonce="[^"]*"/)) n = substr($0, RSTART + 8, RLENGTH - 9)
               if (match($0, /[ ,]opaque="[^"]*"/)) o = substr($0, RSTART + 9, RLENGTH - 10)
               if (match($0, /[ ,]algorithm="?[A-Za-z0-9-]+/)) {
                   a = substr($0, RSTART + 11, RLENGTH - 11); gsub(/"/, "", a) }
               if (n != "-") print a, n, o }')
    [ "$(echo "$pairs" | grep -c .)" -eq "$NONCES" ] || {
        note "$1 sent $(echo "$pairs" | grep -c .) Digest challenges for $NONCES requests"
        return 1
    }
    alg=$(echo "$pairs" | awk 'NR == 1 { print $1 }')
    [ "$(echo "$pairs" | awk -v a="$alg" '$1 != a' | grep -c .)" -eq 0 ] || {
        note "$1 offers more than one algorithm"
        return 1
    }
    echo "$2 $alg $USER_NAME $PASSWORD $REALM $(echo "$pairs" | awk '{ print $2, $3 }' | tr '\n' ' ')"
}
SCRIPT_ARGS_FN=nonce_args

print_versions wrk lighttpd apache2-bin libmicrohttpd12 libssl3
echo "wrk -t2 -c$CONNS -d${BENCH_DURATION}s (keep-alive) GET /bench/small.bin with Digest" \
    "MD5 or SHA-256, qop=auth, a fresh response per request"

# The SHA-256 and anonymous guiseds run in the real configuration: as root,
# with impersonation.
imp=off
guiseds=""
if [ "$IS_ROOT" -eq 1 ]; then
    imp=auto
    start_guised guised-imp "$BENCH_PORT" auto digest "$WORK/guised-digest.ini"
    guiseds="guised-imp"
fi
start_guised guised-noimp $((BENCH_PORT + 1)) off digest "$WORK/guised-digest.ini"
guiseds="$guiseds guised-noimp"
start_lighttpd lighttpd $((BENCH_PORT + 2)) "$WORK/lighttpd-digest.conf"
start_guised guised-sha256 $((BENCH_PORT + 3)) $imp digest "$WORK/guised-sha256.ini"
start_apache apache $((BENCH_PORT + 4)) "$WORK/apache-digest.conf"
start_lighttpd lighttpd-sha256 $((BENCH_PORT + 5)) "$WORK/lighttpd-sha256-auth.conf"
start_guised guised-anon $((BENCH_PORT + 6)) $imp anonymous

# A wrong password must be refused by every server, or the numbers mean nothing.
for n in $guiseds lighttpd apache guised-sha256 lighttpd-sha256; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "$USER_NAME:wrong" \
        "http://127.0.0.1:$(server_port "$n")/bench/small.bin")
    [ "$code" = 401 ] || die "$n answers $code to a wrong Digest password"
    code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "$USER_NAME:$PASSWORD" \
        "http://127.0.0.1:$(server_port "$n")/bench/small.bin")
    [ "$code" = 200 ] || die "$n answers $code to the right Digest password"
done

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(server_port guised-anon)/bench/small.bin")
[ "$code" = 200 ] || die "guised-anon answers $code to an anonymous GET"

measure_all /bench/small.bin "$CONNS" "$BENCH_DIR/digest.lua"
# shellcheck disable=SC2086
print_table "digest (Digest MD5 GET, 100 bytes)" rps "req/s" $guiseds -- lighttpd apache
print_table "digest SHA-256 (GET, 100 bytes; Apache: MD5)" rps "req/s" guised-sha256 -- lighttpd-sha256 apache
# shellcheck disable=SC2086
print_table "digest vs anonymous (guised, GET, 100 bytes)" rps "req/s" guised-sha256 ${guiseds%% *} -- guised-anon

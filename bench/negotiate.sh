#!/bin/sh
# shellcheck shell=dash source=bench/lib.sh
# Kerberos handshakes per second: every request a new TCP connection carrying
# a fresh SPNEGO/Kerberos AP-REQ (`Authorization: Negotiate`, then
# `Connection: close`), GET of a 100-byte file, on loopback:
#  - guised's negotiate plug-in against Apache httpd with mod_auth_gssapi,
#    both accepting with the same keytab (HTTP/localhost of a throwaway
#    realm: krb5kdc on a free loopback port, every file in the scratch
#    directory, as tests/integration/test_negotiate.py builds it);
#  - guised with Negotiate against guised serving the file anonymously to the
#    same client, which then builds its token but does not send it (the price
#    of the handshake in guised).
# The client is bench/negotiate_client.c, built here with cc -lgssapi_krb5:
# BENCH_NEG_CLIENTS threads (default 2), each making one connection after
# the other with a new gss_init_sec_context.
#
# Replay caches are off for both servers (KRB5RCACHETYPE=none in their
# environment): the numbers are the handshake itself (ticket decryption,
# authenticator, SPNEGO, AP-REP), not the replay cache's file I/O, which both
# pay alike in production.
#   bench/negotiate.sh BUILD_DIR
# Servers use ports BENCH_PORT to BENCH_PORT+3, the KDC a free port.
set -eu
. "$(dirname "$0")/lib.sh"
bench_init "$@"
need apache2 cc krb5-config
for t in krb5kdc kdb5_util kadmin.local kinit; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
        die "$t is missing: apt-get install krb5-kdc krb5-admin-server krb5-user"
done
[ -f /usr/lib/apache2/modules/mod_auth_gssapi.so ] ||
    die "mod_auth_gssapi is missing: apt-get install libapache2-mod-auth-gssapi"
[ -f /usr/include/gssapi/gssapi.h ] || die "gssapi.h is missing: apt-get install libkrb5-dev"
PATH=$PATH:/usr/sbin
CLIENTS=${BENCH_NEG_CLIENTS:-2}
REALM=GUISE.BENCH

cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -o "$WORK/negotiate_client" \
    "$BENCH_DIR/negotiate_client.c" -lgssapi_krb5 || die "cannot build negotiate_client"

# ---- the realm ----
KDC_DIR=$WORK/kdc
mkdir -p "$KDC_DIR/rcache"
KDC_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$KDC_DIR/krb5.conf" <<EOF
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  udp_preference_limit = 1
[realms]
  $REALM = {
    kdc = 127.0.0.1:$KDC_PORT
  }
[domain_realm]
  localhost = $REALM
EOF
cat >"$KDC_DIR/kdc.conf" <<EOF
[kdcdefaults]
  kdc_ports = $KDC_PORT
  kdc_tcp_ports = $KDC_PORT
[realms]
  $REALM = {
    database_name = $KDC_DIR/principal
    key_stash_file = $KDC_DIR/stash
    acl_file = $KDC_DIR/kadm5.acl
  }
[logging]
  kdc = FILE:$KDC_DIR/kdc.log
EOF
: >"$KDC_DIR/kadm5.acl"
export KRB5_CONFIG="$KDC_DIR/krb5.conf" KRB5_KDC_PROFILE="$KDC_DIR/kdc.conf"
export KRB5CCNAME="FILE:$KDC_DIR/ccache" KRB5RCACHEDIR="$KDC_DIR/rcache"
KEYTAB=$KDC_DIR/http.keytab
kdb5_util -r "$REALM" create -s -P bench-master-pw >"$WORK/logs/kdb5_util.log" 2>&1 ||
    die "kdb5_util failed: $(cat "$WORK/logs/kdb5_util.log")"
kadmin.local -q "addprinc -pw bench-pw bench" >/dev/null 2>&1 || die "addprinc bench failed"
kadmin.local -q "addprinc -randkey HTTP/localhost" >/dev/null 2>&1 || die "addprinc HTTP/localhost failed"
kadmin.local -q "ktadd -k $KEYTAB HTTP/localhost" >/dev/null 2>&1 || die "ktadd failed"
# Apache's children run as www-data and read it too: a throw-away key.
chmod 644 "$KEYTAB"
chmod 755 "$KDC_DIR"
krb5kdc -n -P "$KDC_DIR/kdc.pid" >"$WORK/logs/kdc.out" 2>&1 &
KDC_PID=$!
kdc_stop() {
    kill "$KDC_PID" 2>/dev/null && wait "$KDC_PID" 2>/dev/null
    return 0
}
trap 'kdc_stop; bench_cleanup' EXIT
i=0
until echo bench-pw | kinit bench >"$WORK/logs/kinit.log" 2>&1; do
    i=$((i + 1))
    [ $i -lt 50 ] || die "kinit failed: $(cat "$WORK/logs/kinit.log")"
    sleep 0.1
done
# Both servers accept without a replay cache (see the top of this file).
export KRB5RCACHETYPE=none KRB5_KTNAME="FILE:$KEYTAB"

head -c 100 /dev/urandom >"$WORK/www/bench/small.bin"
chmod 644 "$WORK/www/bench/small.bin"
chmod 755 "$WORK/www" "$WORK/www/bench"

cat >"$WORK/guised-negotiate.ini" <<INI
[plugin "negotiate"]
keytab = $KEYTAB
account = nobody
INI

cat >"$WORK/apache-gssapi.conf" <<CONF
LoadModule auth_gssapi_module /usr/lib/apache2/modules/mod_auth_gssapi.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
<Location /bench/>
    AuthType GSSAPI
    AuthName "bench"
    GssapiCredStore keytab:$KEYTAB
    GssapiAllowedMech krb5
    Require valid-user
</Location>
CONF

# measure_neg NAME: a warm-up and a measured run of the client against a
# started server; appends "handshakes 0 micros errors non200 cpu_ticks".
measure_neg() {
    local name=$1 port pid before after line mode=""
    case "$name" in *-anon) mode=anonymous ;; esac
    port=$(server_port "$name")
    pid=$(server_pid "$name")
    [ "$BENCH_WARMUP" -gt 0 ] &&
        "$WORK/negotiate_client" localhost "$port" /bench/small.bin "$BENCH_WARMUP" "$CLIENTS" \
            $mode >/dev/null 2>&1
    before=$(cpu_ticks "$pid")
    line=$("$WORK/negotiate_client" localhost "$port" /bench/small.bin "$BENCH_DURATION" \
        "$CLIENTS" $mode 2>"$WORK/logs/$name.client" | awk '/^BENCH / { print $2, $3, $4, $5, $6 }')
    after=$(cpu_ticks "$pid")
    [ -n "$line" ] || line="0 0 1 1 0"
    echo "$line $((after - before))" >>"$WORK/results/$name"
    # shellcheck disable=SC2086 # the fields of the line, on purpose
    set -- $line
    if [ "$4" -ne 0 ] || [ "$5" -ne 0 ]; then
        note "$name: $4 socket errors, $5 non-200 answers in one run (see $WORK/logs/$name*)"
        BENCH_KEEP=1
    fi
}

print_versions apache2-bin libapache2-mod-auth-gssapi libgssapi-krb5-2 libkrb5-3 krb5-kdc
echo "negotiate_client: $CLIENTS threads, each: new connection, fresh SPNEGO/Kerberos AP-REQ," \
    "GET /bench/small.bin, Connection: close; KRB5RCACHETYPE=none for the servers"

imp=off
guiseds=""
if [ "$IS_ROOT" -eq 1 ]; then
    imp=auto
    start_guised guised-imp "$BENCH_PORT" auto negotiate "$WORK/guised-negotiate.ini"
    guiseds="guised-imp"
fi
start_guised guised-noimp $((BENCH_PORT + 1)) off negotiate "$WORK/guised-negotiate.ini"
guiseds="$guiseds guised-noimp"
start_apache apache $((BENCH_PORT + 2)) "$WORK/apache-gssapi.conf"
start_guised guised-anon $((BENCH_PORT + 3)) $imp anonymous

# Every Negotiate server refuses a request without a token and accepts one
# with a ticket, or the numbers mean nothing.
for n in $guiseds apache; do
    url="http://localhost:$(server_port "$n")/bench/small.bin"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
    [ "$code" = 401 ] || die "$n answers $code without a token"
    code=$(curl -s -o /dev/null -w '%{http_code}' --negotiate -u : "$url")
    [ "$code" = 200 ] || die "$n answers $code to curl --negotiate"
done

r=1
while [ $r -le "$BENCH_REPEAT" ]; do
    for n in $guiseds apache guised-anon; do
        note "round $r/$BENCH_REPEAT: $n"
        measure_neg "$n"
    done
    r=$((r + 1))
done

# shellcheck disable=SC2086
print_table "negotiate (Kerberos handshake per connection, GET 100 bytes)" rps "hs/s" \
    $guiseds -- apache
# shellcheck disable=SC2086
print_table "negotiate vs anonymous (guised, a new connection per GET)" rps "req/s" \
    ${guiseds%% *} -- guised-anon

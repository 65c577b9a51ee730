"""Negotiate (RFC 4559: SPNEGO with Kerberos, and NTLM inside SPNEGO) and
NTLM through the real server, against a throwaway KDC on loopback.

The module starts its own realm GUISE.TEST (krb5kdc -n on a free port, all
files in a temporary directory selected by KRB5_CONFIG, KRB5_KDC_PROFILE,
KRB5_KTNAME, KRB5CCNAME and KRB5RCACHEDIR, see
/work/shared/reference/kerberos-on-loopback.md) with principals alice, bob
and HTTP/localhost. guised inherits that environment, plus NTLM_USER_FILE
for gss-ntlmssp. Clients are the real curl (--negotiate, --ntlm) and, when a
JDK is installed, Java's HttpURLConnection; and headless Chromium
(playwright-core, browser/check_negotiate.cjs) when /usr/bin/chromium is
installed.

Accounts (root): alice@GUISE.TEST maps to guise-t-kalice through an
auth_to_local rule of krb5.conf, bob@GUISE.TEST to guise-t-kbob through the
plug-in's account map, GUISE\\carol (NTLM) to guise-t-kalice through the
NTLM plug-in's account map. Each account has a file only it can read.

Without the Kerberos packages (krb5-kdc krb5-admin-server krb5-user) the
module skips loudly; without gss-ntlmssp the NTLM cases do."""

import base64
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import guise_harness as gh

REALM = "GUISE.TEST"
KALICE = "guise-t-kalice"
KBOB = "guise-t-kbob"
ALICE_PW = "alice-krb-pw-1"
BOB_PW = "bob-krb-pw-2"
CAROL_PW = "carol-ntlm-pw-3"
ZED_PW = "zed-krb-pw-4"
KDC_TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
JAVA = shutil.which("java")


def missing_kdc_tools():
    return [t for t in KDC_TOOLS if not shutil.which(t) and not os.path.exists(f"/usr/sbin/{t}")]


def tool(name):
    return shutil.which(name) or f"/usr/sbin/{name}"


def ntlmssp_installed():
    for path in glob.glob("/etc/gss/mech.d/*") + ["/etc/gss/mech"]:
        try:
            with open(path) as f:
                if "1.3.6.1.4.1.311.2.2.10" in f.read():
                    return True
        except OSError:
            pass
    return False


# ---- the realm ----------------------------------------------------------------


class Realm:
    """A KDC for GUISE.TEST in directory d, and the environment selecting it."""

    def __init__(self, d):
        self.d = d
        self.port = gh.free_port()
        self.keytab = os.path.join(d, "http.keytab")
        self.proc = None
        self.env = {
            "KRB5_CONFIG": os.path.join(d, "krb5.conf"),
            "KRB5_KDC_PROFILE": os.path.join(d, "kdc.conf"),
            "KRB5_KTNAME": f"FILE:{self.keytab}",
            "KRB5CCNAME": f"FILE:{os.path.join(d, 'ccache-none')}",
            "KRB5RCACHEDIR": os.path.join(d, "rcache"),
        }

    def write_config(self):
        os.makedirs(self.env["KRB5RCACHEDIR"], exist_ok=True)
        # auth_to_local: alice's principal names a local account of another
        # name; everyone else of the realm maps to the first component.
        with open(self.env["KRB5_CONFIG"], "w") as f:
            f.write(
                f"""[libdefaults]
  default_realm = {REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  udp_preference_limit = 1
[realms]
  {REALM} = {{
    kdc = 127.0.0.1:{self.port}
    auth_to_local = RULE:[1:$1@$0](alice@{REALM})s/.*/{KALICE}/
    auth_to_local = DEFAULT
  }}
[domain_realm]
  localhost = {REALM}
"""
            )
        with open(self.env["KRB5_KDC_PROFILE"], "w") as f:
            f.write(
                f"""[kdcdefaults]
  kdc_ports = {self.port}
  kdc_tcp_ports = {self.port}
[realms]
  {REALM} = {{
    database_name = {self.d}/principal
    key_stash_file = {self.d}/stash
    acl_file = {self.d}/kadm5.acl
  }}
[logging]
  kdc = FILE:{self.d}/kdc.log
"""
            )
        open(os.path.join(self.d, "kadm5.acl"), "w").close()

    def run(self, *cmd, stdin=None):
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=self.environ())
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
        return p.stdout

    def environ(self, **extra):
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra)
        return env

    def kadmin(self, query):
        return self.run(tool("kadmin.local"), "-q", query)

    def start(self):
        self.write_config()
        self.run(tool("kdb5_util"), "-r", REALM, "create", "-s", "-P", "kdc-master-pw")
        self.kadmin(f"addprinc -pw {ALICE_PW} alice")
        self.kadmin(f"addprinc -pw {BOB_PW} bob")
        self.kadmin(f"addprinc -pw {ZED_PW} guise-t-nosuchuser")
        self.kadmin("addprinc -randkey HTTP/localhost")
        self.kadmin(f"ktadd -k {self.keytab} HTTP/localhost")
        # read by guised's service account, as a real keytab must be
        # (root:guise 0640, docs/SECURITY.md); its replay cache too
        gh.service_readable(self.keytab)
        gh.service_readable(self.env["KRB5RCACHEDIR"], write=True)
        self.proc = subprocess.Popen(
            [tool("krb5kdc"), "-n", "-P", os.path.join(self.d, "kdc.pid")],
            env=self.environ(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"krb5kdc did not start; see {self.d}/kdc.log")
                time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kinit(self, user, password):
        """A ticket cache of user's own; returns its KRB5CCNAME."""
        cc = f"FILE:{os.path.join(self.d, 'ccache-' + user)}"
        p = subprocess.run(
            [tool("kinit"), user],
            input=password + "\n",
            capture_output=True,
            text=True,
            env=self.environ(KRB5CCNAME=cc),
        )
        if p.returncode != 0:
            raise RuntimeError(f"kinit {user} failed: {p.stderr.strip()}")
        return cc


REALM_ = None
WORK = None


def setUpModule():
    global REALM_, WORK
    missing = missing_kdc_tools()
    if missing:
        print(f"SKIP: Kerberos packages missing ({', '.join(missing)}: install krb5-kdc "
              "krb5-admin-server krb5-user)", flush=True)
        raise unittest.SkipTest("Kerberos packages missing")
    WORK = gh.Workdir(prefix="guise-it-negotiate-realm-")
    kdc_dir = os.path.join(WORK.path, "kdc")
    os.makedirs(kdc_dir, mode=0o700)
    gh.service_readable(kdc_dir)  # guised's service account reaches the keytab in it
    REALM_ = Realm(kdc_dir)
    REALM_.start()
    # guised (started by the tests) and curl inherit the realm's environment.
    os.environ.update(REALM_.env)


def tearDownModule():
    if REALM_:
        REALM_.stop()
    if WORK:
        WORK.cleanup()


# ---- clients ----------------------------------------------------------------------


class Exchange:
    """What one curl run saw: every response (status, headers) in order, the
    final body, and how many connections it opened."""

    def __init__(self, responses, body, connects, trace):
        self.responses = responses
        self.body = body
        self.connects = connects
        self.trace = trace

    @property
    def status(self):
        return self.responses[-1][0]

    def headers(self, i=-1):
        return self.responses[i][1]

    def header_all(self, name, i=-1):
        return [v for k, v in self.headers(i) if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Exchange {[(s, h) for s, h in self.responses]} connects={self.connects}>"


def run_curl(url, *args, ccache=None, headers=None):
    """curl with the realm's environment (and ccache as KRB5CCNAME)."""
    with tempfile.TemporaryDirectory(prefix="guise-curl-") as d:
        hdr, body = os.path.join(d, "h"), os.path.join(d, "b")
        # -v: the request headers curl sent, one full line each, on stderr.
        cmd = [gh.CURL, "-sS", "-v", "--max-time", "20", "-D", hdr, "-o", body,
               "-w", "%{num_connects}\n"]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        cmd += list(args) + [url]
        env = dict(os.environ)
        if ccache:
            env["KRB5CCNAME"] = ccache
        p = subprocess.run(cmd, capture_output=True, env=env)
        if p.returncode != 0:
            raise gh.CurlError(p.returncode, p.stderr.decode("utf-8", "replace"))
        with open(hdr, "rb") as f:
            raw = f.read()
        with open(body, "rb") as f:
            data = f.read()
    blocks = [b for b in raw.split(b"\r\n\r\n") if b.strip()]
    responses = []
    for b in blocks:
        status, _, hs = gh._parse_head(b)
        responses.append((status, hs))
    connects = sum(int(n) for n in p.stdout.decode().split())
    return Exchange(responses, data, connects, p.stderr.decode("latin-1"))


def sent_authorizations(trace):
    """The Authorization values curl sent, in order (from curl -v)."""
    return [v.rstrip("\r") for v in re.findall(r"^> Authorization: (.*)$", trace, re.M)]


# ---- common server setup ---------------------------------------------------------------


class RealmTestCase(gh.GuiseTestCase):
    accounts = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if gh.is_root():
            cls.accounts = gh.TestAccounts(users={KALICE: [], KBOB: []}, groups=())
            cls.accounts.acquire()
            cls.addClassCleanup(cls.accounts.release)
        w = cls.work
        w.write("pub/hello.txt", "hello everyone\n")
        if gh.is_root():
            w.write("pub/alice.txt", "for alice only\n", mode=0o400, owner=KALICE, group=KALICE)
            w.write("pub/bob.txt", "for bob only\n", mode=0o400, owner=KBOB, group=KBOB)

    def url(self, srv, path):
        # The service principal is HTTP/localhost: clients must use that name.
        return f"http://localhost:{srv.port}{path}"


# ---- Kerberos ------------------------------------------------------------------------


class KerberosCase(RealmTestCase):
    """A negotiate configuration serving /pub (bob@REALM mapped by an
    account map, alice@REALM by auth_to_local) in cls.cfg, and both users'
    tickets; subclasses add to the configuration and start the server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("negotiate.map", f"bob@{REALM} {KBOB}\n", mode=0o600)
        cls.cfg = gh.Config(authentication="negotiate", authorization="fs-acl", auth_failure_delay=0,
                            auth_lockout_failures=0)
        cls.cfg.plugin("negotiate", keytab=REALM_.keytab, account_map=w.join("negotiate.map"))
        cls.cfg.point("pub", w.join("pub"))
        cls.alice = REALM_.kinit("alice", ALICE_PW)
        cls.bob = REALM_.kinit("bob", BOB_PW)


class Kerberos(KerberosCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.start_guised_class(cls.cfg)

    def test_enabled_event_names_the_keytab(self):
        self.srv.wait_for_event(r"Negotiate accepts for any principal of the keytab with keytab "
                                + re.escape(f"FILE:{REALM_.keytab}"))

    def test_no_ticket_gets_bare_negotiate_challenge(self):
        r = run_curl(self.url(self.srv, "/pub/hello.txt"))
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.header_all("WWW-Authenticate"), ["Negotiate"])
        self.assertNotIn(b"hello everyone", r.body)

    def test_curl_without_ticket_stays_401(self):
        empty = f"FILE:{self.work.join('no-such-ccache')}"
        r = run_curl(self.url(self.srv, "/pub/hello.txt"), "--negotiate", "-u", ":", ccache=empty)
        self.assertEqual(r.status, 401, r)

    def test_alice_logs_on_with_mutual_authentication(self):
        gh.require_root("impersonating the mapped account")
        r = run_curl(self.url(self.srv, "/pub/alice.txt"), "--negotiate", "-u", ":", ccache=self.alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"for alice only\n")
        final = r.header_all("WWW-Authenticate")
        self.assertEqual(len(final), 1, r)
        scheme, _, token = final[0].partition(" ")
        self.assertEqual(scheme, "Negotiate")
        # The SPNEGO NegTokenResp carrying Kerberos' AP-REP.
        self.assertEqual(base64.b64decode(token)[0], 0xA1)
        # Logical user is the principal, account from auth_to_local.
        self.srv.wait_for_access(rf'^127\.0\.0\.1 alice@{REALM} {KALICE} .*"GET /pub/alice\.txt [^"]*" 200 .* Negotiate')

    def test_alice_cannot_read_bobs_file(self):
        gh.require_root("impersonating the mapped account")
        r = run_curl(self.url(self.srv, "/pub/bob.txt"), "--negotiate", "-u", ":", ccache=self.alice)
        self.assertEqual(r.status, 403, r)
        self.assertNotIn(b"for bob only", r.body)

    def test_bob_mapped_by_the_account_map(self):
        gh.require_root("impersonating the mapped account")
        r = run_curl(self.url(self.srv, "/pub/bob.txt"), "--negotiate", "-u", ":", ccache=self.bob)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"for bob only\n")
        r = run_curl(self.url(self.srv, "/pub/alice.txt"), "--negotiate", "-u", ":", ccache=self.bob)
        self.assertEqual(r.status, 403, r)
        self.srv.wait_for_access(rf'^127\.0\.0\.1 bob@{REALM} {KBOB} .*"GET /pub/bob\.txt [^"]*" 200')

    def test_principal_without_local_account_is_refused(self):
        start = len(self.srv.events())
        cc = REALM_.kinit("guise-t-nosuchuser", ZED_PW)
        r = run_curl(self.url(self.srv, "/pub/hello.txt"), "--negotiate", "-u", ":", ccache=cc)
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(b"hello everyone", r.body)
        self.srv.wait_for_event(rf"warning negotiate\[3\] guise-t-nosuchuser@{REALM} authenticated but "
                                r"account 'guise-t-nosuchuser' does not exist", start=start)

    def test_keep_alive_keeps_the_identity(self):
        gh.require_root("impersonating the mapped account")
        u = self.url(self.srv, "/pub/alice.txt")
        r = run_curl(u, "--negotiate", "-u", ":", u, "-o", os.devnull, ccache=self.alice)
        self.assertEqual([s for s, _ in r.responses], [200, 200], r)
        self.assertEqual(r.connects, 1, "the server closed the connection after authenticating")

    def test_garbage_token_is_refused_and_the_server_survives(self):
        start = len(self.srv.events())
        for blob in (b"garbage", b"\x60\x05\x06\x03\x2a\x03\x04", b"\xa1\x03\x30\x01\x00", os.urandom(300)):
            r = run_curl(self.url(self.srv, "/pub/hello.txt"),
                         headers={"Authorization": "Negotiate " + base64.b64encode(blob).decode()})
            self.assertIn(r.status, (400, 401), (blob, r))
            self.assertNotIn(b"hello everyone", r.body)
        # The plug-in's own warning is rate-limited (one a second): the
        # server's event is always there.
        self.srv.wait_for_event(r"malformed Negotiate credentials|Negotiate authentication denied",
                                start=start)
        self.assertEqual(run_curl(self.url(self.srv, "/pub/hello.txt")).status, 401)
        self.assertTrue(self.srv.running())

    def test_bad_base64_is_400(self):
        r = run_curl(self.url(self.srv, "/pub/hello.txt"), headers={"Authorization": "Negotiate %%%not-base64"})
        self.assertEqual(r.status, 400, r)

    def test_empty_token_is_400(self):
        r = run_curl(self.url(self.srv, "/pub/hello.txt"), headers={"Authorization": "Negotiate"})
        self.assertEqual(r.status, 400, r)

    def test_replayed_token_is_refused(self):
        gh.require_root("impersonating the mapped account")
        r = run_curl(self.url(self.srv, "/pub/alice.txt"), "--negotiate", "-u", ":", ccache=self.alice)
        self.assertEqual(r.status, 200, r)
        token = sent_authorizations(r.trace)[0]
        again = run_curl(self.url(self.srv, "/pub/alice.txt"), headers={"Authorization": token})
        self.assertEqual(again.status, 401, again)
        self.assertNotIn(b"for alice only", again.body)


class KerberosAdmin(KerberosCase):
    """guisectl --negotiate against a TCP admin listener: single sign-on for
    the administrator too. alice@REALM maps to guise-t-kalice, whose own
    group is the admin group; bob@REALM maps to guise-t-kbob, who is not."""

    @classmethod
    def setUpClass(cls):
        gh.require_root("the mapped accounts and their groups")
        super().setUpClass()
        cls.admin_port = gh.admin_over_tcp(cls.cfg, KALICE)
        cls.srv = cls.start_guised_class(cls.cfg, name="admin")

    def guisectl(self, *args, ccache=None):
        env = dict(os.environ)
        env["KRB5CCNAME"] = ccache or f"FILE:{self.work.join('no-such-ccache')}"
        # The service principal is HTTP/localhost: the URL must name it.
        return subprocess.run([gh.GUISECTL, "--url", f"http://localhost:{self.admin_port}", *args],
                              capture_output=True, text=True, timeout=30, env=env)

    def test_alice_administers_with_her_ticket(self):
        p = self.guisectl("--negotiate", "--json", "status", ccache=self.alice)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("version", json.loads(p.stdout))
        p = self.guisectl("--negotiate", "reload", ccache=self.alice)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.srv.wait_for_event(rf"alice@{REALM} \(account {KALICE}, 127\.0\.0\.1\): reloaded the configuration")

    def test_bob_and_no_ticket_are_refused(self):
        p = self.guisectl("--negotiate", "status", ccache=self.bob)
        self.assertEqual(p.returncode, 4, p.stderr)
        p = self.guisectl("--negotiate", "status")
        self.assertEqual(p.returncode, 4, p.stderr)


class KeytabProblems(RealmTestCase):
    """enable() refuses an unusable keytab: ERROR event naming the file and
    why, plug-in in the error state, its scopes answer 503."""

    def server_with(self, **props):
        cfg = gh.Config(authentication="negotiate", authorization="fs-acl")
        cfg.plugin("negotiate", **props)
        cfg.point("pub", self.work.join("pub"))
        return self.start_guised(cfg)

    def assertFails(self, srv, pattern):
        srv.wait_for_event(r"error negotiate\[1\] cannot enable Negotiate: " + pattern)
        r = run_curl(self.url(srv, "/pub/hello.txt"))
        self.assertEqual(r.status, 503, r)
        self.assertNotIn(b"hello everyone", r.body)

    def test_missing_keytab(self):
        path = self.work.join("missing.keytab")
        srv = self.server_with(keytab=path)
        self.assertFails(srv, re.escape(f"keytab {path}: No such file or directory"))

    def test_corrupt_keytab(self):
        path = self.work.write("corrupt.keytab", b"this is not a keytab", mode=0o600)
        srv = self.server_with(keytab=path)
        self.assertFails(srv, re.escape(f"keytab FILE:{path}: cannot ") + r"(open|read): \S")

    def test_unreadable_keytab(self):
        # A directory where the keytab should be: root reads any file, so
        # this is the unreadable keytab a root test can build.
        path = self.work.mkdir("dir.keytab")
        srv = self.server_with(keytab=path)
        self.assertFails(srv, re.escape(f"keytab FILE:{path}: cannot ") + r"(open|read): \S")

    def test_keytab_without_http_principal(self):
        path = self.work.join("users-only.keytab")
        REALM_.kadmin(f"ktadd -k {path} -norandkey alice")
        gh.service_readable(path)
        srv = self.server_with(keytab=path)
        self.assertFails(srv, re.escape(f"keytab FILE:{path} holds no key of an HTTP/ service principal"))

    def test_principal_not_in_keytab(self):
        srv = self.server_with(keytab=REALM_.keytab, principal="HTTP/media.example.org")
        self.assertFails(srv, re.escape(f"keytab FILE:{REALM_.keytab} holds no key for principal "
                                        f"HTTP/media.example.org@{REALM}"))

    def test_configured_principal_accepts(self):
        srv = self.server_with(keytab=REALM_.keytab, principal=f"HTTP/localhost@{REALM}", account="nobody")
        cc = REALM_.kinit("alice", ALICE_PW)
        r = run_curl(self.url(srv, "/pub/hello.txt"), "--negotiate", "-u", ":", ccache=cc)
        self.assertEqual(r.status, 200, r)

    def test_bad_properties_refused_at_startup(self):
        for props, msg in (({"mechanisms": "krb5 spnego"}, "unknown mechanism"),
                           ({"principal": "HTTP"}, "not a service principal"),
                           ({"keytab": "relative.keytab"}, "not an absolute path"),
                           ({"principal": "HTTP/localhost", "mechanisms": "krb5 ntlmssp"},
                            "cannot be combined with mechanism ntlmssp")):
            cfg = gh.Config(authentication="negotiate", authorization="fs-acl")
            cfg.plugin("negotiate", **props)
            cfg.point("pub", self.work.join("pub"))
            g = gh.Guised(self.work, cfg, name="badprops")
            with self.assertRaises(gh.GuisedError) as cm:
                g.start(timeout=5, attempts=1)
            self.assertIn(msg, str(cm.exception))


# ---- a browser -------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


class Chromium(RealmTestCase):
    """Headless Chromium (playwright-core, as test_browser.py) with alice's
    ticket cache in its environment and localhost in its Negotiate
    allowlist: it answers the bare 401 challenge with a SPNEGO token and
    gets the protected page."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CHROMIUM):
            print("SKIP: chromium not installed (apt-get install -y chromium)", flush=True)
            raise unittest.SkipTest("chromium not installed")
        import test_browser  # noqa: E402 - only when a browser is there

        super().setUpClass()
        cls.modules = test_browser.ensure_playwright()
        cls.script = os.path.join(test_browser.BROWSER_SRC, "check_negotiate.cjs")
        cfg = gh.Config(authentication="negotiate", authorization="fs-acl", auth_failure_delay=0,
                        auth_lockout_failures=0)
        cfg.plugin("negotiate", keytab=REALM_.keytab, account="nobody")
        cfg.point("pub", cls.work.join("pub"))
        cls.srv = cls.start_guised_class(cfg)
        cls.alice = REALM_.kinit("alice", ALICE_PW)

    def browse(self, url, ccache):
        env = dict(os.environ, NODE_PATH=self.modules, KRB5CCNAME=ccache)
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.work.path)
        p = subprocess.run(["node", self.script, url, "localhost", profile], capture_output=True, text=True,
                           timeout=90, env=env)
        self.assertEqual(p.returncode, 0, f"node failed:\n{p.stdout}\n{p.stderr}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_chromium_logs_on_with_kerberos(self):
        out = self.browse(self.url(self.srv, "/pub/hello.txt"), self.alice)
        self.assertEqual(out["status"], 200, out)
        self.assertEqual(out["body"], "hello everyone\n", out)
        # Chromium answered the bare challenge itself (the page sees only the
        # final answer), and the 200 carries the mutual-authentication token.
        final = out["responses"][-1]["wwwAuthenticate"] or ""
        scheme, _, token = final.partition(" ")
        self.assertEqual(scheme, "Negotiate", out)
        self.assertEqual(base64.b64decode(token)[0], 0xA1, out)
        self.srv.wait_for_access(rf'^127\.0\.0\.1 alice@{REALM} nobody .*"GET /pub/hello\.txt [^"]*" 200 .* Negotiate')

    def test_chromium_without_ticket_gets_401(self):
        empty = f"FILE:{self.work.join('no-such-ccache')}"
        out = self.browse(self.url(self.srv, "/pub/hello.txt"), empty)
        self.assertEqual(out["status"], 401, out)
        self.assertNotIn("hello everyone", out["body"])


# ---- NTLM ------------------------------------------------------------------------------

JAVA_CLIENT = r"""
import java.io.InputStream;
import java.net.Authenticator;
import java.net.HttpURLConnection;
import java.net.PasswordAuthentication;
import java.net.URL;

public class NtlmGet {
    public static void main(String[] args) throws Exception {
        final String user = args[1], password = args[2];
        Authenticator.setDefault(new Authenticator() {
            @Override
            protected PasswordAuthentication getPasswordAuthentication() {
                return new PasswordAuthentication(user, password.toCharArray());
            }
        });
        HttpURLConnection c = (HttpURLConnection) new URL(args[0]).openConnection();
        int status = c.getResponseCode();
        System.out.println("status " + status);
        if (status == 200) {
            try (InputStream in = c.getInputStream()) {
                System.out.print(new String(in.readAllBytes(), "UTF-8"));
            }
        }
    }
}
"""


class NtlmCase(RealmTestCase):
    """gss-ntlmssp's user carol (GUISE\\carol, mapped to guise-t-kalice) and
    a configuration whose ntlm plug-in serves /pub; subclasses add to it."""

    @classmethod
    def setUpClass(cls):
        if not ntlmssp_installed():
            print("SKIP: gss-ntlmssp is not installed (no NTLMSSP mechanism in /etc/gss/mech.d)", flush=True)
            raise unittest.SkipTest("gss-ntlmssp missing")
        super().setUpClass()
        w = cls.work
        # gss-ntlmssp's users: DOMAIN:user:password.
        users = w.write("ntlm.users", f"GUISE:carol:{CAROL_PW}\n", mode=0o600)
        os.environ["NTLM_USER_FILE"] = users
        cls.addClassCleanup(os.environ.pop, "NTLM_USER_FILE", None)
        w.write("ntlm.map", f"GUISE\\carol {KALICE}\n", mode=0o600)
        cls.cfg = gh.Config(authentication="ntlm", authorization="fs-acl", auth_failure_delay=0,
                            auth_lockout_failures=0)
        cls.cfg.plugin("ntlm", account_map=w.join("ntlm.map"))
        cls.cfg.point("pub", w.join("pub"))


class Ntlm(NtlmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w, cfg = cls.work, cls.cfg
        cfg.plugin("negotiate", keytab=REALM_.keytab, mechanisms="krb5 ntlmssp",
                   account_map=w.join("ntlm.map"))
        cfg.point("spnego", w.join("pub"), authentication="negotiate")
        cls.srv = cls.start_guised_class(cfg)

    def test_challenge_is_bare_ntlm(self):
        r = run_curl(self.url(self.srv, "/pub/hello.txt"))
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.header_all("WWW-Authenticate"), ["NTLM"])

    def test_curl_three_legs_on_one_connection(self):
        gh.require_root("impersonating the mapped account")
        r = run_curl(self.url(self.srv, "/pub/alice.txt"), "--ntlm", "-u", f"GUISE\\carol:{CAROL_PW}")
        # Type 1 -> 401 with the type 2 challenge -> type 3 -> 200.
        statuses = [s for s, _ in r.responses]
        self.assertEqual(statuses[-1], 200,
                         f"{r}\n(a 401 answered with 'Connection: close' ends NTLM: the server "
                         "must keep the connection open across the CONTINUE leg)")
        self.assertEqual(statuses, [401, 200], r)
        self.assertEqual(r.body, b"for alice only\n")
        self.assertEqual(r.connects, 1, r)
        challenge = r.header_all("WWW-Authenticate", 0)
        self.assertEqual(len(challenge), 1, r)
        self.assertTrue(base64.b64decode(challenge[0].split(" ", 1)[1]).startswith(b"NTLMSSP\x00\x02\x00\x00\x00"))
        sent = sent_authorizations(r.trace)
        self.assertEqual(len(sent), 2, sent)
        self.srv.wait_for_access(rf'^127\.0\.0\.1 GUISE\\x5ccarol {KALICE} .*"GET /pub/alice\.txt [^"]*" 200 .* NTLM')

    def test_wrong_password_refused(self):
        start = len(self.srv.events())
        r = run_curl(self.url(self.srv, "/pub/hello.txt"), "--ntlm", "-u", "GUISE\\carol:not-the-password")
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(b"hello everyone", r.body)
        # The claimed user is known, for per-user throttling.
        self.srv.wait_for_event(r"NTLM authentication denied for user GUISE\\carol", start=start)

    def test_unknown_user_refused(self):
        r = run_curl(self.url(self.srv, "/pub/hello.txt"), "--ntlm", "-u", f"GUISE\\mallory:{CAROL_PW}")
        self.assertEqual(r.status, 401, r)

    def test_authenticate_message_on_a_new_connection_is_refused(self):
        gh.require_root("impersonating the mapped account")
        r = run_curl(self.url(self.srv, "/pub/alice.txt"), "--ntlm", "-u", f"GUISE\\carol:{CAROL_PW}")
        self.assertEqual(r.status, 200, r)
        type3 = sent_authorizations(r.trace)[-1]
        # The exchange lives in the connection's context: a new connection
        # starts over, so the third leg alone proves nothing.
        again = run_curl(self.url(self.srv, "/pub/alice.txt"), headers={"Authorization": type3})
        self.assertIn(again.status, (400, 401), again)
        self.assertNotIn(b"for alice only", again.body)

    def test_garbage_ntlm_token(self):
        for blob in (b"NTLMSSP\x00\x03\x00\x00\x00" + b"\xff" * 60, b"NTLMSSP\x00\x01\x00", os.urandom(64)):
            r = run_curl(self.url(self.srv, "/pub/hello.txt"),
                         headers={"Authorization": "NTLM " + base64.b64encode(blob).decode()})
            self.assertIn(r.status, (400, 401), (blob, r))
        self.assertTrue(self.srv.running())

    def test_ntlm_inside_spnego(self):
        gh.require_root("impersonating the mapped account")
        # Without a Kerberos ticket, curl's GSSAPI falls back to NTLMSSP
        # inside SPNEGO, as carol (the first user of NTLM_USER_FILE).
        empty = f"FILE:{self.work.join('no-such-ccache')}"
        r = run_curl(self.url(self.srv, "/spnego/alice.txt"), "--negotiate", "-u", ":", ccache=empty)
        self.assertEqual([s for s, _ in r.responses], [401, 200], r)
        self.assertEqual(r.body, b"for alice only\n")
        self.srv.wait_for_access(rf'^127\.0\.0\.1 GUISE\\x5ccarol {KALICE} .*"GET /spnego/alice\.txt [^"]*" 200 .* Negotiate')

    @unittest.skipUnless(JAVA, "no java")
    def test_java_httpurlconnection(self):
        gh.require_root("impersonating the mapped account")
        src = self.work.write("java/NtlmGet.java", JAVA_CLIENT)
        p = subprocess.run([JAVA, src, self.url(self.srv, "/pub/alice.txt"), "GUISE\\carol", CAROL_PW],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "status 200\nfor alice only\n", p.stderr)
        p = subprocess.run([JAVA, src, self.url(self.srv, "/pub/alice.txt"), "GUISE\\carol", "wrong"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.stdout.strip(), "status 401", p.stderr)


class NtlmAdmin(NtlmCase):
    """The TCP admin listener with NTLM: the three legs on one connection,
    the identity kept for the connection's later requests, guisectl --user
    through libcurl's NTLM. GUISE\\carol maps to guise-t-kalice, whose own
    group is the admin group."""

    @classmethod
    def setUpClass(cls):
        gh.require_root("the mapped account and its group")
        super().setUpClass()
        cls.admin_port = gh.admin_over_tcp(cls.cfg, KALICE)
        cls.srv = cls.start_guised_class(cls.cfg, name="ntlm-admin")

    def admin_url(self, path):
        return f"http://localhost:{self.admin_port}{path}"

    def test_three_legs_then_the_connection_stays_identified(self):
        # Two URLs on one connection: curl authenticates the first (401 with
        # the NTLM challenge, then 200) and sends the second without
        # credentials, as NTLM clients do.
        # (curl takes the URLs in command-line order: /api/points first,
        # its body in the harness's file; then /api/server, to /dev/null.)
        r = run_curl(self.admin_url("/api/server"), "--ntlm", "-u", f"GUISE\\carol:{CAROL_PW}",
                     self.admin_url("/api/points"), "-o", "/dev/null")
        self.assertEqual([st for st, _ in r.responses], [401, 200, 200], r)
        self.assertEqual(r.connects, 1, r)
        self.assertEqual(len(sent_authorizations(r.trace)), 2, r.trace)
        self.assertIn(b'"points"', r.body)

    def test_guisectl_with_ntlm(self):
        env = dict(os.environ, GUISECTL_PASSWORD=CAROL_PW)
        p = subprocess.run([gh.GUISECTL, "--url", self.admin_url(""), "--user", "GUISE\\carol", "reload"],
                           capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.srv.wait_for_event(rf"GUISE\\carol \(account {KALICE}, 127\.0\.0\.1\): reloaded the configuration")
        p = subprocess.run([gh.GUISECTL, "--url", self.admin_url(""), "--user", "GUISE\\carol:wrong", "status"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 4, p.stderr)

    def test_third_leg_on_a_new_connection_is_refused(self):
        r = run_curl(self.admin_url("/api/server"), "--ntlm", "-u", f"GUISE\\carol:{CAROL_PW}")
        self.assertEqual(r.status, 200, r)
        type3 = sent_authorizations(r.trace)[-1]
        again = run_curl(self.admin_url("/api/server"), headers={"Authorization": type3})
        self.assertIn(again.status, (400, 401), again)
        self.assertNotIn(b'"version"', again.body)


class NtlmEnable(RealmTestCase):
    def test_missing_user_file_is_an_error(self):
        if not ntlmssp_installed():
            self.skipTest("gss-ntlmssp missing")
        path = self.work.join("no-such-ntlm.users")
        os.environ["NTLM_USER_FILE"] = path
        self.addCleanup(os.environ.pop, "NTLM_USER_FILE", None)
        cfg = gh.Config(authentication="ntlm", authorization="fs-acl")
        cfg.plugin("ntlm", account="nobody")
        cfg.point("pub", self.work.join("pub"))
        srv = self.start_guised(cfg)
        srv.wait_for_event(r"error ntlm\[1\] cannot enable NTLM: NTLM user file "
                           + re.escape(path) + r" \(NTLM_USER_FILE\): No such file or directory")
        self.assertEqual(run_curl(self.url(srv, "/pub/hello.txt")).status, 503)


if __name__ == "__main__":
    gh.main()

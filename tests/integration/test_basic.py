"""The Basic plug-in through the real guised: over TLS (a certificate made
for the test) with an htpasswd file written by Apache's htpasswd (bcrypt,
sha512-crypt, apr1, {SHA}), curl and Python's urllib; plain HTTP, where
Basic is neither offered nor accepted unless allow-plaintext; the PAM
backend under pam_wrapper's pam_matrix; the credentials cache (fewer
verifications, user-file reload, a failure forgetting a user's entries);
and, as root, files opened with the token of the mapped account."""

import base64
import http.client
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import unittest
import urllib.request

import guise_harness as gh
from test_tls import make_cert

REALM = "basic-it"
HTPASSWD = shutil.which("htpasswd")
PAM_LIBDIR = "/usr/lib/x86_64-linux-gnu"
PAM_WRAPPER = os.path.join(PAM_LIBDIR, "libpam_wrapper.so")
PAM_MATRIX = os.path.join(PAM_LIBDIR, "pam_wrapper", "pam_matrix.so")

# user -> (htpasswd option, password)
USERS = {
    "bcuser": ("-B", "bc pw:with colon"),
    "shauser": ("-5", "sha512-pw"),
    "apruser": ("-m", "apr1-pw"),
    "sha1user": ("-s", "sha1-pw"),
}


def require_htpasswd():
    if not HTPASSWD:
        print("SKIP: Apache's htpasswd (apache2-utils) is not installed", flush=True)
        raise unittest.SkipTest("htpasswd missing")


def htpasswd(path, user, password, *opts):
    """Adds or changes user in path with Apache's tool (-c when new)."""
    create = [] if os.path.exists(path) else ["-c"]
    subprocess.run([HTPASSWD, *create, "-b", *opts, path, user, password], check=True, capture_output=True)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def base_config(work, tls=True, **props):
    cfg = gh.Config(
        authentication="basic",
        realm=REALM,
        # Failure tests send wrong passwords on purpose: no delay, no lockout.
        auth_failure_delay=0,
        auth_lockout_failures=0,
    )
    if tls:
        cfg.server["tls-certificate"] = work.join("server.crt")
        cfg.server["tls-key"] = work.join("server.key")
    p = {"backend": "htpasswd", "user-file": work.join("users.htpasswd"), "account": "nobody"}
    p.update({gh._key(k): v for k, v in props.items()})
    cfg.plugin("basic", **p)
    cfg.point("media", work.join("media"))
    return cfg


def prepare(work):
    require_htpasswd()
    make_cert(work, "server")
    path = work.join("users.htpasswd")
    for user, (opt, pw) in USERS.items():
        htpasswd(path, user, pw, opt)
    work.write("media/hello.txt", "hello, basic\n")
    body = os.urandom(5000)
    work.write("media/data.bin", body)
    return body


def basic_challenges(resp):
    return [v for v in resp.header_all("WWW-Authenticate") if v.lower().startswith("basic")]


class HtpasswdOverTls(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data = prepare(cls.work)
        cls.cert = cls.work.join("server.crt")
        cls.srv = cls.start_guised_class(base_config(cls.work), tls=True)

    def get(self, *args, path="/media/data.bin", headers=None):
        return gh.curl(self.srv.url(path), *args, cacert=self.cert, headers=headers)

    def test_challenge(self):
        r = self.get()
        self.assertEqual(r.status, 401)
        self.assertEqual(basic_challenges(r), [f'Basic realm="{REALM}", charset="UTF-8"'])

    def test_every_hash_format_with_curl(self):
        with open(self.work.join("users.htpasswd")) as f:
            prefixes = dict(line.strip().split(":", 1) for line in f)
        self.assertTrue(prefixes["bcuser"].startswith("$2y$"))
        self.assertTrue(prefixes["shauser"].startswith("$6$"))
        self.assertTrue(prefixes["apruser"].startswith("$apr1$"))
        self.assertTrue(prefixes["sha1user"].startswith("{SHA}"))
        for user, (_, pw) in USERS.items():
            with self.subTest(user=user):
                r = self.get("--basic", "-u", f"{user}:{pw}")
                self.assertEqual((r.status, r.body), (200, self.data))
                self.srv.wait_for_access(rf'^127\.0\.0\.1 {user} .*"GET /media/data\.bin HTTP/1\.1" 200 5000 ')

    def test_wrong_password_401(self):
        for user, (_, pw) in USERS.items():
            with self.subTest(user=user):
                r = self.get("--basic", "-u", f"{user}:{pw}x")
                self.assertEqual(r.status, 401)
                self.assertNotIn(self.data[:64], r.body)
                self.assertEqual(len(basic_challenges(r)), 1)

    def test_unknown_user_401(self):
        r = self.get("--basic", "-u", "nosuchuser:bc pw:with colon")
        self.assertEqual(r.status, 401)
        self.assertEqual(len(basic_challenges(r)), 1)

    def test_malformed_400(self):
        r = self.get(headers={"Authorization": "Basic !!notbase64"})
        self.assertEqual(r.status, 400)
        self.assertEqual(self.get("--basic", "-u", "shauser:sha512-pw").status, 200)

    def test_python_urllib(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        pwm = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        pwm.add_password(None, self.srv.url("/"), "shauser", "sha512-pw")
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPBasicAuthHandler(pwm)
        )
        with opener.open(self.srv.url("/media/hello.txt"), timeout=10) as resp:
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.read(), b"hello, basic\n")
        # Wrong password: urllib retries once with it, then gives up on 401.
        pwm.add_password(None, self.srv.url("/"), "shauser", "wrong")
        bad = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPBasicAuthHandler(pwm)
        )
        with self.assertRaises(urllib.error.HTTPError) as cm:
            bad.open(self.srv.url("/media/hello.txt"), timeout=10)
        self.assertEqual(cm.exception.code, 401)


class PlainHttp(gh.GuiseTestCase):
    """Without TLS, Basic is not offered and credentials are refused (with
    an INFORMATION event saying why) unless allow-plaintext = true."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        prepare(cls.work)
        cls.closed = cls.start_guised_class(base_config(cls.work, tls=False), name="closed")
        cls.open = cls.start_guised_class(base_config(cls.work, tls=False, allow_plaintext="true"), name="open")

    def test_not_offered_and_refused(self):
        r = gh.curl(self.closed.url("/media/hello.txt"))
        # Basic is the only scheme and cannot challenge here: 403.
        self.assertEqual(r.status, 403)
        self.assertEqual(basic_challenges(r), [])
        start = len(self.closed.events())
        r = gh.curl(self.closed.url("/media/hello.txt"), "--basic", "-u", "shauser:sha512-pw")
        # Denied, and still no scheme to offer: 403 again.
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"hello, basic", r.body)
        self.assertEqual(basic_challenges(r), [])
        self.closed.wait_for_event(
            r"information basic\[5\] client 127\.0\.0\.1: Basic credentials over plain HTTP refused .*allow-plaintext = true", start=start
        )

    def test_allow_plaintext(self):
        r = gh.curl(self.open.url("/media/hello.txt"))
        self.assertEqual(r.status, 401)
        self.assertEqual(len(basic_challenges(r)), 1)
        r = gh.curl(self.open.url("/media/hello.txt"), "--basic", "-u", "shauser:sha512-pw")
        self.assertEqual((r.status, r.body), (200, b"hello, basic\n"))
        self.assertEqual(gh.curl(self.open.url("/media/hello.txt"), "-u", "shauser:nope").status, 401)
        self.assertNotIn("plain HTTP refused", self.open.events())


class CacheAndReload(gh.GuiseTestCase):
    """A bcrypt hash of cost 10: with the cache, keep-alive requests after
    the first skip the check; without it, each pays for one. Checks are
    counted, not timed: every password check runs as one job on the worker
    pool, and /metrics counts the pool's jobs (guise_worker_jobs_total).
    A changed file empties the cache."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        prepare(cls.work)
        htpasswd(cls.work.join("users.htpasswd"), "slow", "slow-pw", "-B", "-C", "10")
        cls.cert = cls.work.join("server.crt")

    def timed_requests(self, srv, password, n):
        """Status of each of n keep-alive requests and the seconds they took."""
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=30)
        statuses = []
        t0 = time.monotonic()
        try:
            for _ in range(n):
                conn.request("GET", "/media/hello.txt", headers={"Authorization": basic("slow", password)})
                r = conn.getresponse()
                r.read()
                statuses.append(r.status)
        finally:
            conn.close()
        return statuses, time.monotonic() - t0

    def worker_jobs(self, sock):
        n = gh.metric(sock, "guise_worker_jobs_total")
        self.assertIsNotNone(n, "guise_worker_jobs_total missing from /metrics")
        return n

    def server_with_metrics(self, name, cache_ttl):
        cfg = base_config(self.work, cache_ttl=cache_ttl)
        sock = self.work.join(f"{name}-admin.sock")
        cfg.server["admin-listen"] = sock
        return self.start_guised(cfg, name=name, tls=True), sock

    def test_cache_saves_verifications(self):
        off, off_sock = self.server_with_metrics("nocache", 0)
        on, on_sock = self.server_with_metrics("cache", 60)

        before = self.worker_jobs(on_sock)
        statuses, first = self.timed_requests(on, "slow-pw", 1)
        self.assertEqual(statuses, [200])
        after_first = self.worker_jobs(on_sock)
        first_jobs = after_first - before
        self.assertGreaterEqual(first_jobs, 1, "the first request checks the hash")
        statuses, cached = self.timed_requests(on, "slow-pw", 10)
        self.assertEqual(statuses, [200] * 10)
        cached_jobs = self.worker_jobs(on_sock) - after_first

        before = self.worker_jobs(off_sock)
        statuses, uncached = self.timed_requests(off, "slow-pw", 4)
        self.assertEqual(statuses, [200] * 4)
        uncached_jobs = self.worker_jobs(off_sock) - before
        print(f"worker jobs: first request {first_jobs}, 10 cached requests {cached_jobs}, "
              f"4 uncached requests {uncached_jobs} (first {first * 1000:.0f} ms, "
              f"10 cached {cached * 1000:.0f} ms, 4 uncached {uncached * 1000:.0f} ms)")
        self.assertEqual(cached_jobs, 0, "cached requests must not check the hash again")
        self.assertGreaterEqual(uncached_jobs, 4, "without the cache, every request checks the hash")

    def test_changed_password_fails_after_reload(self):
        srv = self.start_guised(base_config(self.work, cache_ttl=60), name="reload", tls=True)
        self.assertEqual(self.timed_requests(srv, "slow-pw", 2)[0], [200, 200])
        start = len(srv.events())
        path = self.work.join("users.htpasswd")
        htpasswd(path, "slow", "new-slow-pw", "-B", "-C", "10")
        # The file is looked at at most once a second, on use.
        time.sleep(1.1)
        self.assertEqual(self.timed_requests(srv, "slow-pw", 1)[0], [401])
        srv.wait_for_event(r"user file .*users\.htpasswd reloaded \(5 users\)", start=start)
        self.assertEqual(self.timed_requests(srv, "new-slow-pw", 2)[0], [200, 200])
        # Put the class's file back as it was for the other test.
        htpasswd(path, "slow", "slow-pw", "-B", "-C", "10")


def require_pam_wrapper():
    if not (os.access(PAM_WRAPPER, os.R_OK) and os.access(PAM_MATRIX, os.R_OK)):
        print("SKIP: pam_wrapper (libpam-wrapper) is not installed", flush=True)
        raise unittest.SkipTest("pam_wrapper missing")


class PamEnvironment:
    """Sets pam_wrapper's variables while guised starts (Popen inherits
    os.environ), so that guised's libpam reads the test's service files."""

    def __init__(self, service_dir):
        self.vars = {
            "LD_PRELOAD": "libpam_wrapper.so",
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": service_dir,
            # pam_wrapper (1.1.4) turns RTLD_DEEPBIND off under uid_wrapper's name.
            "UID_WRAPPER_DISABLE_DEEPBIND": "1",
        }
        # Under `make asan` guised is instrumented: the preloaded wrapper
        # comes before the ASan runtime, which ASan must be told to accept.
        asan = os.environ.get("ASAN_OPTIONS", "")
        self.vars["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        self.saved = {}

    def __enter__(self):
        for k, v in self.vars.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def write_pam_services(work, passdb_lines):
    d = work.mkdir("pam.d", mode=0o755)
    passdb = work.write("passdb", "".join(passdb_lines), mode=0o600)
    work.write(
        "pam.d/guise",
        f"auth required {PAM_MATRIX} passdb={passdb}\naccount required {PAM_MATRIX} passdb={passdb}\n",
    )
    # libpam falls back to "other": deny, as distributions do.
    deny = os.path.join(PAM_LIBDIR, "security", "pam_deny.so")
    work.write("pam.d/other", f"auth required {deny}\naccount required {deny}\n")
    return d, passdb


class PamBackend(gh.GuiseTestCase):
    """backend = pam under pam_wrapper: pam_matrix checks passwords against a
    file of the test's (service-specific lines user:password:service)."""

    @classmethod
    def setUpClass(cls):
        require_pam_wrapper()
        super().setUpClass()
        prepare(cls.work)
        cls.cert = cls.work.join("server.crt")
        cls.svc_dir, cls.passdb = write_pam_services(cls.work, ["alice:alice pw:guise\n", "bob:bob-pw:guise\n"])

    def server(self, name, **props):
        cfg = base_config(self.work, backend="pam", pam_service="guise", **props)
        del cfg.plugins["basic"]["user-file"]
        with PamEnvironment(self.svc_dir):
            return self.start_guised(cfg, name=name, tls=True)

    def get(self, srv, user, password):
        return gh.curl(srv.url("/media/data.bin"), "--basic", "-u", f"{user}:{password}", cacert=self.cert)

    def test_right_and_wrong_passwords(self):
        srv = self.server("pam", cache_ttl=0)
        self.assertEqual(self.get(srv, "alice", "alice pw").status, 200)
        self.assertEqual(self.get(srv, "bob", "bob-pw").status, 200)
        self.assertEqual(self.get(srv, "alice", "bob-pw").status, 401)
        self.assertEqual(self.get(srv, "nobody-here", "x").status, 401)
        srv.wait_for_access(r'^127\.0\.0\.1 alice nobody .*"GET /media/data\.bin HTTP/1\.1" 200 5000 ')
        self.assertNotIn("PAM failure", srv.events())

    def test_cache_until_a_failure(self):
        """PAM has no file to watch: a password changed in PAM keeps working
        from the cache until the TTL, or until a failed check for the user
        drops the user's entries (BASIC.md, "The credentials cache")."""
        srv = self.server("pamcache", cache_ttl=60)
        self.assertEqual(self.get(srv, "alice", "alice pw").status, 200)
        with open(self.passdb, "w") as f:
            f.write("alice:changed pw:guise\nbob:bob-pw:guise\n")
        try:
            self.assertEqual(self.get(srv, "alice", "alice pw").status, 200, "cached")
            self.assertEqual(self.get(srv, "alice", "changed pw").status, 200)
            self.assertEqual(self.get(srv, "alice", "wrong").status, 401)
            self.assertEqual(self.get(srv, "alice", "alice pw").status, 401, "forgotten after a failure")
            self.assertEqual(self.get(srv, "alice", "changed pw").status, 200)
        finally:
            with open(self.passdb, "w") as f:
                f.write("alice:alice pw:guise\nbob:bob-pw:guise\n")


class MappedAccounts(gh.GuiseTestCase):
    """As root: alice -> guise-t-balice, bob -> guise-t-bbob by account-map;
    a file only guise-t-balice can read is served to alice byte for byte and
    refused to bob (403); the file is opened under each user's token. Both
    backends: htpasswd and PAM (under pam_wrapper)."""

    BALICE = "guise-t-balice"
    BBOB = "guise-t-bbob"

    @classmethod
    def setUpClass(cls):
        gh.require_root("impersonating mapped Basic accounts")
        super().setUpClass()
        accounts = gh.TestAccounts(users={cls.BALICE: [], cls.BBOB: []}, groups=())
        accounts.acquire()
        cls.addClassCleanup(accounts.release)
        w = cls.work
        prepare(w)
        cls.cert = w.join("server.crt")
        htpasswd(w.join("users.htpasswd"), "alice", "alice pw", "-B")
        htpasswd(w.join("users.htpasswd"), "bob", "bob-pw", "-5")
        w.write("accounts.map", f"alice {cls.BALICE}\nbob {cls.BBOB}\n", mode=0o600)
        cls.secret = os.urandom(70000)
        w.write("media/secret.bin", cls.secret, mode=0o400, owner=cls.BALICE, group=cls.BALICE)

    def config(self, **props):
        cfg = base_config(self.work, account_map=self.work.join("accounts.map"), **props)
        del cfg.plugins["basic"]["account"]
        cfg.server["impersonation"] = "auto"
        return cfg

    def check(self, srv):
        url = srv.url("/media/secret.bin")
        r = gh.curl(url, "--basic", "-u", "alice:alice pw", cacert=self.cert)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.secret)
        srv.wait_for_access(rf'^127\.0\.0\.1 alice {self.BALICE} .*"GET /media/secret\.bin HTTP/1\.1" 200 70000 ')
        r = gh.curl(url, "--basic", "-u", "bob:bob-pw", cacert=self.cert)
        self.assertEqual(r.status, 403)
        self.assertNotIn(self.secret[:64], r.body)
        srv.wait_for_access(rf'^127\.0\.0\.1 bob {self.BBOB} .*"GET /media/secret\.bin HTTP/1\.1" 403 ')
        # bob is authenticated: a file everyone may read is served to him.
        r = gh.curl(srv.url("/media/hello.txt"), "--basic", "-u", "bob:bob-pw", cacert=self.cert)
        self.assertEqual((r.status, r.body), (200, b"hello, basic\n"))

    def test_htpasswd(self):
        self.check(self.start_guised(self.config(), name="mapped-htpasswd", tls=True))

    def test_pam(self):
        require_pam_wrapper()
        svc_dir, _ = write_pam_services(self.work, ["alice:alice pw:guise\n", "bob:bob-pw:guise\n"])
        cfg = self.config(backend="pam", pam_service="guise")
        del cfg.plugins["basic"]["user-file"]
        with PamEnvironment(svc_dir):
            srv = self.start_guised(cfg, name="mapped-pam", tls=True)
        self.check(srv)


if __name__ == "__main__":
    gh.main()

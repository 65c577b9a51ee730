"""Authentication and authorization through the real server: challenges and
their order, credentials sent unasked, publishing-point authentication
lists, pp-acl, ip, the critical-error state after a plug-in failure, the
access log's identity fields, and throttling of failures.

The example plug-in "hello" stands in for a real scheme (see
guise_harness.hello_config). Everything here runs without root: hello
impersonates "nobody" and refusals come from pp-acl and ip; the fs-acl
cases with real accounts are in test_fsacl.py."""

import os
import re
import socket
import time

import guise_harness as gh

REALM = "integ-realm"


def base_config(work, authentication="anonymous hello", **server):
    cfg = gh.Config(authorization="fs-acl", realm=REALM, auth_failure_delay=0, **server)
    gh.hello_config(cfg, account="nobody", authentication=authentication)
    return cfg


class Challenges(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("pub/hello.txt", "hello\n")
        w.mkdir("state", mode=0o700)
        # An htdigest file (alice / pw) only so that Digest can be listed.
        w.write("users.htdigest", "alice:integ-realm:00000000000000000000000000000000\n", mode=0o600)
        cfg = base_config(w, state_directory=w.join("state"), auth_lockout_failures=0)
        cfg.plugin("digest", user_file=w.join("users.htdigest"), realm=REALM)
        pub = w.join("pub")
        cfg.point("pub", pub)
        cfg.point("private", pub, authorization="pp-acl", read="user:alice")
        cfg.point("anononly", pub, authentication="anonymous", authorization="pp-acl", read="user:alice")
        cfg.point("helloonly", pub, authentication="hello")
        cfg.point("guests", pub, authorization="pp-acl", read="anonymous")
        cfg.point("order1", pub, authentication="anonymous digest hello", authorization="pp-acl", read="user:x")
        cfg.point("order2", pub, authentication="hello digest", authorization="pp-acl", read="user:x")
        cls.srv = cls.start_guised_class(cfg)

    def get(self, path, auth=None, **kw):
        headers = dict(kw.pop("headers", {}))
        if auth:
            headers["Authorization"] = auth
        return gh.curl(self.srv.url(path), headers=headers, **kw)

    def assertChallenge(self, r, schemes):
        self.assertEqual(r.status, 401, r)
        got = [v.split(" ", 1)[0] for v in r.header_all("WWW-Authenticate")]
        self.assertEqual(got, schemes, r.headers)
        self.assertNotIn(b"hello\n", r.body)

    def test_public_file_anonymous(self):
        r = self.get("/pub/hello.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello\n")
        self.assertEqual(r.header_all("WWW-Authenticate"), [])
        self.assertIsNone(r.header("Cache-Control"))

    def test_denied_guest_gets_hello_challenge(self):
        r = self.get("/private/hello.txt")
        self.assertChallenge(r, ["Hello"])
        self.assertEqual(r.header_all("WWW-Authenticate")[0], f'Hello realm="{REALM}"')

    def test_challenge_order_follows_the_list(self):
        self.assertChallenge(self.get("/order1/hello.txt"), ["Digest", "Digest", "Hello"])
        self.assertChallenge(self.get("/order2/hello.txt"), ["Hello", "Digest", "Digest"])
        d = self.get("/order1/hello.txt").header_all("WWW-Authenticate")
        self.assertRegex(d[0], f'^Digest realm="{REALM}".*algorithm=SHA-256')
        self.assertRegex(d[1], "algorithm=MD5")

    def test_no_challenger_means_403(self):
        r = self.get("/anononly/hello.txt")
        self.assertEqual(r.status, 403)
        self.assertEqual(r.header_all("WWW-Authenticate"), [])

    def test_hello_authenticates(self):
        r = self.get("/private/hello.txt", auth=gh.hello_auth("alice"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello\n")
        self.assertEqual(r.header("Cache-Control"), "private")

    def test_authenticated_but_not_allowed_403(self):
        r = self.get("/private/hello.txt", auth=gh.hello_auth("bob"))
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"hello\n", r.body)
        # pp-acl "anonymous" admits guests only.
        self.assertEqual(self.get("/guests/hello.txt").status, 200)
        self.assertEqual(self.get("/guests/hello.txt", auth=gh.hello_auth("alice")).status, 403)

    def test_wrong_secret_on_public_file_401(self):
        # Credentials sent unasked are verified, never ignored in favour of
        # anonymous access.
        r = self.get("/pub/hello.txt", auth=gh.hello_auth("alice", "wrong-secret-123"))
        self.assertChallenge(r, ["Hello"])
        r = self.get("/order2/hello.txt", auth=gh.hello_auth("alice", "wrong-secret-123"))
        self.assertChallenge(r, ["Hello", "Digest", "Digest"])
        self.srv.wait_for_event(r"Hello authentication denied")

    def test_malformed_credentials_400(self):
        r = self.get("/pub/hello.txt", auth="Hello no-colon-here")
        self.assertEqual(r.status, 400)
        self.assertNotIn(b"hello\n", r.body)

    def test_scheme_not_offered_401(self):
        for auth in ("Basic YWxpY2U6cHc=", "Negotiate YIIBxw==", "Bearer abc.def", "Hellox a:b"):
            with self.subTest(auth=auth):
                r = self.get("/pub/hello.txt", auth=auth)
                self.assertChallenge(r, ["Hello"])
        # Digest is offered on /order2 but not on /helloonly.
        r = self.get("/helloonly/hello.txt", auth='Digest username="alice"')
        self.assertChallenge(r, ["Hello"])

    def test_scheme_not_offered_without_challengers_403(self):
        r = self.get("/anononly/hello.txt", auth="Basic YWxpY2U6cHc=")
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"hello\n", r.body)

    def test_scheme_name_case_insensitive(self):
        r = self.get("/private/hello.txt", auth=f"hELLO alice:{gh.HELLO_SECRET}")
        self.assertEqual(r.status, 200)

    def test_point_list_override_removes_anonymous(self):
        r = self.get("/helloonly/hello.txt")
        self.assertChallenge(r, ["Hello"])
        r = self.get("/helloonly/hello.txt", auth=gh.hello_auth("carol"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello\n")

    def test_per_request_identity_not_kept_on_connection(self):
        # Hello is a per-request scheme (no GUISE_AUTH_CONNECTION_ORIENTED):
        # a later request without credentials on the same keep-alive
        # connection must not run as the previous user (a proxy may reuse
        # the connection for another client). NTLM/Negotiate keep theirs
        # (test_negotiate.py).
        raw = gh.raw_request(
            self.srv.port,
            (
                f"GET /helloonly/hello.txt HTTP/1.1\r\nHost: x\r\nAuthorization: {gh.hello_auth('alice')}\r\n\r\n"
                "GET /helloonly/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            ).encode(),
        )
        self.assertEqual(re.findall(rb"HTTP/1.1 (\d+)", raw), [b"200", b"401"], raw)

    def test_failed_credentials_forget_connection_identity(self):
        raw = gh.raw_request(
            self.srv.port,
            (
                f"GET /helloonly/hello.txt HTTP/1.1\r\nHost: x\r\nAuthorization: {gh.hello_auth('alice')}\r\n\r\n"
                f"GET /helloonly/hello.txt HTTP/1.1\r\nHost: x\r\nAuthorization: {gh.hello_auth('alice', 'bad-secret-99')}\r\n\r\n"
                "GET /helloonly/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            ).encode(),
        )
        self.assertEqual(re.findall(rb"HTTP/1.1 (\d+)", raw), [b"200", b"401", b"401"], raw)

    def test_access_log_has_user_and_account(self):
        self.get("/private/hello.txt", auth=gh.hello_auth("alice"), headers={"User-Agent": "who-am-i"})
        self.srv.wait_for_access(
            r'^127\.0\.0\.1 alice nobody \[[^]]+\] "GET /private/hello\.txt HTTP/1\.1" 200 6 "-" "who-am-i" Hello private \d+$'
        )
        self.get("/guests/hello.txt", headers={"User-Agent": "guest-agent"})
        self.srv.wait_for_access(r'^127\.0\.0\.1 anonymous nobody .*"guest-agent" Anonymous guests \d+$')

    def test_access_log_escapes_client_fields(self):
        self.get("/pub/hello.txt", headers={"User-Agent": 'evil" agent\\'})
        line = self.srv.wait_for_access(r'^.*"evil.*$').group(0)
        self.assertIn(r'"evil\x22 agent\x5c"', line)


class PpAclGroups(gh.GuiseTestCase):
    """group: entries without root: hello impersonates nobody, whose
    primary group is nobody's group (nogroup on Debian)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import grp
        import pwd

        cls.nobody_group = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
        cls.work.write("pub/hello.txt", "hello\n")
        cfg = base_config(cls.work)
        pub = cls.work.join("pub")
        cfg.point("grp", pub, authorization="pp-acl", read=f"group:{cls.nobody_group}")
        cfg.point("root-grp", pub, authorization="pp-acl", read="group:root")
        cfg.point("mixed", pub, authorization="pp-acl", read="user:carol group:root anonymous")
        cls.srv = cls.start_guised_class(cfg)

    def status(self, path, user=None):
        headers = {"Authorization": gh.hello_auth(user)} if user else None
        return gh.curl(self.srv.url(path), headers=headers).status

    def test_group_entry(self):
        self.assertEqual(self.status("/grp/hello.txt"), 401)  # guests are never in a group
        self.assertEqual(self.status("/grp/hello.txt", "alice"), 200)
        self.assertEqual(self.status("/root-grp/hello.txt", "alice"), 403)

    def test_several_entries(self):
        self.assertEqual(self.status("/mixed/hello.txt"), 200)
        self.assertEqual(self.status("/mixed/hello.txt", "carol"), 200)
        self.assertEqual(self.status("/mixed/hello.txt", "alice"), 403)


class PpAclAccounts(gh.GuiseTestCase):
    """user: and group: entries naming system accounts (root: creates them).
    Two servers: hello impersonates guise-t-alice on one, guise-t-bob on the
    other."""

    @classmethod
    def setUpClass(cls):
        gh.require_root("pp-acl with system accounts")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        cls.work.write("pub/hello.txt", "hello\n")
        pub = cls.work.join("pub")

        def server(account):
            cfg = base_config(cls.work)
            cfg.plugins["hello"]["account"] = account
            cfg.point("alice", pub, authorization="pp-acl", read=f"user:{gh.ALICE}")
            cfg.point("staff", pub, authorization="pp-acl", read=f"group:{gh.STAFF}")
            return cls.start_guised_class(cfg, name=f"ppacl-{account}")

        cls.as_alice = server(gh.ALICE)
        cls.as_bob = server(gh.BOB)

    def status(self, srv, path, user=None):
        headers = {"Authorization": gh.hello_auth(user)} if user else None
        return gh.curl(srv.url(path), headers=headers).status

    def test_user_entry_names_the_account(self):
        self.assertEqual(self.status(self.as_alice, "/alice/hello.txt"), 401)
        self.assertEqual(self.status(self.as_alice, "/alice/hello.txt", "someone"), 200)
        self.assertEqual(self.status(self.as_bob, "/alice/hello.txt", "someone"), 403)
        # The logical user id matches too.
        self.assertEqual(self.status(self.as_bob, "/alice/hello.txt", gh.ALICE), 200)

    def test_group_entry(self):
        self.assertEqual(self.status(self.as_alice, "/staff/hello.txt"), 401)
        self.assertEqual(self.status(self.as_alice, "/staff/hello.txt", "x"), 200)
        self.assertEqual(self.status(self.as_bob, "/staff/hello.txt", "x"), 403)


class IpAuthorization(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/hello.txt", "hello\n")

    def server(self, authn="anonymous", **ip):
        cfg = base_config(self.work, authentication=authn)
        cfg.server["authorization"] = "ip fs-acl"
        cfg.plugin("ip", **ip)
        cfg.point("pub", self.work.join("pub"))
        return self.start_guised(cfg)

    def get(self, srv, auth=None):
        return gh.curl(srv.url("/pub/hello.txt"), headers={"Authorization": auth} if auth else None)

    def test_deny_loopback_403(self):
        srv = self.server(deny="127.0.0.0/8")
        r = self.get(srv)
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"hello\n", r.body)
        srv.wait_for_event(r"ip denied 127\.0\.0\.1")

    def test_deny_with_challenger_401_then_403(self):
        srv = self.server(authn="anonymous hello", deny="127.0.0.0/8")
        self.assertEqual(self.get(srv).status, 401)
        r = self.get(srv, auth=gh.hello_auth("alice"))
        self.assertEqual(r.status, 403)
        self.assertNotIn(b"hello\n", r.body)

    def test_allow_list(self):
        srv = self.server(allow="10.0.0.0/8 192.168.0.0/16")
        self.assertEqual(self.get(srv).status, 403)
        srv2 = self.server(allow="127.0.0.1/32")
        self.assertEqual(self.get(srv2).status, 200)
        # The server root (listing) is guarded too.
        self.assertEqual(gh.curl(srv.url("/")).status, 403)
        self.assertEqual(gh.curl(srv2.url("/")).status, 200)

    def test_deny_wins_over_allow(self):
        srv = self.server(allow="127.0.0.0/8", deny="127.0.0.1")
        self.assertEqual(self.get(srv).status, 403)

    def test_other_address_not_denied(self):
        srv = self.server(deny="127.0.0.2/32 ::1")
        self.assertEqual(self.get(srv).status, 200)

    def test_ipv6_client(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        for deny, want in (("::1/128", 403), ("127.0.0.0/8", 200), ("::/0", 403)):
            with self.subTest(deny=deny):
                port = gh.free_port("::1")
                cfg = base_config(self.work, authentication="anonymous", listen=f"[::1]:{port}")
                cfg.server["authorization"] = "ip fs-acl"
                cfg.plugin("ip", deny=deny)
                cfg.point("pub", self.work.join("pub"))
                srv = gh.Guised(self.work, cfg, name=f"v6-{port}")
                srv.start()
                self.addCleanup(srv.stop_clean)
                r = gh.curl(srv.url("/pub/hello.txt"))
                self.assertEqual(r.status, want)

    def test_ip_on_point_refused_at_start(self):
        cfg = base_config(self.work, authentication="anonymous")
        cfg.point("pub", self.work.join("pub"), authorization="ip")
        g = gh.Guised(self.work, cfg, name="ip-on-point")
        text = g.write_config()
        line = next(i for i, l in enumerate(text.splitlines(), 1) if l == "authorization = ip")
        import subprocess

        p = subprocess.run([gh.GUISED, "-c", g.config_path], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{g.config_path}:{line}: key 'authorization'", p.stderr)


class CriticalState(gh.GuiseTestCase):
    """A plug-in that fails to enable puts every scope listing it into the
    critical-error state (503); scopes without it keep serving."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("pub/hello.txt", "hello\n")
        cfg = base_config(w, authentication="anonymous hello")
        cfg.plugin("anonymous", account="no-such-account-xyz")
        cfg.point("broken", w.join("pub"))
        cfg.point("fine", w.join("pub"), authentication="hello")
        cls.srv = cls.start_guised_class(cfg)

    def test_scope_with_failed_plugin_503(self):
        for path in ("/broken/hello.txt", "/broken/", "/"):
            with self.subTest(path=path):
                r = gh.curl(self.srv.url(path))
                self.assertEqual(r.status, 503)
                self.assertIn(b"critical-error", r.body)
                self.assertNotIn(b"hello\n", r.body)
        # Credentials do not get around it.
        r = gh.curl(self.srv.url("/broken/hello.txt"), headers={"Authorization": gh.hello_auth()})
        self.assertEqual(r.status, 503)

    def test_other_scope_serves(self):
        r = gh.curl(self.srv.url("/fine/hello.txt"), headers={"Authorization": gh.hello_auth()})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello\n")
        self.assertEqual(gh.curl(self.srv.url("/fine/hello.txt")).status, 401)

    def test_events_name_the_failure(self):
        ev = self.srv.events()
        self.assertRegex(ev, r"error anonymous\[\d+\] guest account 'no-such-account-xyz' cannot be impersonated")
        self.assertRegex(ev, r"plug-in 'anonymous' disabled after an error")


class Throttling(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/hello.txt", "hello\n")

    def test_lockout_429_then_recovers(self):
        cfg = base_config(self.work, authentication="anonymous hello", auth_lockout_failures=3, auth_lockout_time=2)
        cfg.point("pub", self.work.join("pub"))
        srv = self.start_guised(cfg)
        url = srv.url("/pub/hello.txt")
        bad = {"Authorization": gh.hello_auth("alice", "wrong-secret-1")}
        statuses = [gh.curl(url, headers=bad).status for _ in range(4)]
        self.assertEqual(statuses[:2], [401, 401])
        self.assertIn(429, statuses)
        r = gh.curl(url, headers={"Authorization": gh.hello_auth("alice")})
        self.assertEqual(r.status, 429, "right credentials during a lockout")
        self.assertTrue((r.header("Retry-After") or "").isdigit())
        self.assertNotIn(b"hello\n", r.body)
        # Anonymous access (no credentials) is not locked out.
        self.assertEqual(gh.curl(url).status, 200)
        time.sleep(2.2)
        r = gh.curl(url, headers={"Authorization": gh.hello_auth("alice")})
        self.assertEqual(r.status, 200)

    def test_failures_are_delayed(self):
        cfg = base_config(self.work, authentication="anonymous hello", auth_lockout_failures=0)
        # The delay is what is tested, so it is timed; 1 s steps keep a busy
        # (sanitized, loaded CI) machine's own latency far below the line.
        cfg.server["auth-failure-delay"] = 1000
        cfg.point("pub", self.work.join("pub"))
        srv = self.start_guised(cfg)
        url = srv.url("/pub/hello.txt")
        bad = {"Authorization": gh.hello_auth("alice", "wrong-secret-1")}
        times = []
        for _ in range(3):
            t0 = time.monotonic()
            self.assertEqual(gh.curl(url, headers=bad).status, 401)
            times.append(time.monotonic() - t0)
        # Failures 1, 2, 3 wait 0, 1 and 2 s.
        self.assertLess(times[0], 0.9, times)
        self.assertGreater(times[1], 0.95, times)
        self.assertGreater(times[2], 1.95, times)
        # A success resets the count.
        self.assertEqual(gh.curl(url, headers={"Authorization": gh.hello_auth("alice")}).status, 200)
        t0 = time.monotonic()
        gh.curl(url, headers=bad)
        self.assertLess(time.monotonic() - t0, 0.9)


class OneFront(gh.GuiseTestCase):
    """Issue 14's findings about the authentication front: looping clients
    and their events, the per-name lockout, the admin listener sharing the
    content port's throttle."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/hello.txt", "hello\n")

    def server(self, **server):
        cfg = base_config(self.work, authentication="anonymous hello", **server)
        cfg.point("pub", self.work.join("pub"))
        return self.start_guised(cfg), cfg

    def test_a_looping_client_is_rate_limited_and_locked_out(self):
        # A player re-sending credentials of a scheme not offered, as fast as
        # it can: its events are limited to about one a second with a count
        # of the rest, and its refusals count like wrong passwords.
        srv, _ = self.server(auth_lockout_failures=200, auth_lockout_time=30)
        start = len(srv.events())
        loop = {"Authorization": "Basic YWxpY2U6eA=="}
        statuses = [gh.http_request(srv.port, "GET", "/pub/hello.txt", loop).status for _ in range(205)]
        self.assertEqual(statuses[0], 401)
        self.assertEqual(statuses.index(429), 199, statuses)  # the 200th refusal locks the address
        self.assertEqual(set(statuses[199:]), {429})
        ev = srv.events()[start:]
        written = len(re.findall(r"sent credentials of a scheme not offered", ev))
        self.assertGreaterEqual(written, 1)
        self.assertLess(written, 120, ev)  # 199 refusals of the same kind, far fewer lines
        # Anonymous access from the same address still works (no credentials).
        self.assertEqual(gh.curl(srv.url("/pub/hello.txt")).status, 200)

    def test_suppressed_events_are_counted(self):
        srv, _ = self.server(auth_lockout_failures=0)
        bad = {"Authorization": gh.hello_auth("alice", "wrong")}
        for _ in range(120):  # a burst of 64 lines is written, then 5 a second
            self.assertEqual(gh.http_request(srv.port, "GET", "/pub/hello.txt", bad).status, 401)
        time.sleep(1.1)
        self.assertEqual(gh.http_request(srv.port, "GET", "/pub/hello.txt", bad).status, 401)
        ev = srv.events()
        m = re.findall(r"Hello authentication denied for user \(unknown\) \((\d+) similar events of this client "
                       r"suppressed", ev)
        self.assertTrue(m, ev[-2000:])
        lines = len(re.findall(r"Hello authentication denied for user", ev))
        self.assertLess(lines, 120, ev[-2000:])
        self.assertEqual(lines + sum(int(n) for n in m), 121, ev[-2000:])

    def basic_server(self, **server):
        # Basic knows the name a client claims (hello does not): per-name
        # counting needs it.
        import base64
        import hashlib
        users = self.work.join("users.htpasswd")
        if not os.path.exists(users):
            with open(users, "w") as f:
                for user, pw in (("alice", "alice-pw"), ("bob", "bob-pw")):
                    digest = base64.b64encode(hashlib.sha1(pw.encode()).digest()).decode()
                    f.write(f"{user}:{{SHA}}{digest}\n")
        cfg = gh.Config(authentication="basic", authorization="fs-acl", realm=REALM, auth_failure_delay=0,
                        **server)
        cfg.plugin("basic", backend="htpasswd", user_file=users, account="nobody", allow_plaintext="true")
        cfg.point("pub", self.work.join("pub"))
        return self.start_guised(cfg)

    @staticmethod
    def basic(user, pw):
        import base64
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}

    def test_a_name_locked_from_elsewhere_never_blocks_a_clean_address(self):
        # Wrong answers for alice from six addresses, two each (under the
        # address threshold of 3), lock the name (4 x 3 = 12 failures); alice's
        # right answer from 127.0.0.1 (no failures) still passes, while an
        # address that guessed gets 429 even with the right answer.
        srv = self.basic_server(auth_lockout_failures=3, auth_lockout_time=30)
        url = srv.url("/pub/hello.txt")
        bad = self.basic("alice", "wrong")
        good = self.basic("alice", "alice-pw")
        for i in range(6):
            for _ in range(2):
                gh.curl(url, "--interface", f"127.0.2.{i + 1}", headers=bad)
        srv.wait_for_event(r"user alice is locked out")
        self.assertEqual(gh.curl(url, headers=good).status, 200)
        self.assertEqual(gh.curl(url, "--interface", "127.0.2.1", headers=good).status, 429)
        # And the clean address's success did not lift the name's lockout.
        self.assertEqual(gh.curl(url, "--interface", "127.0.2.2", headers=good).status, 429)

    def test_a_name_needs_more_failures_than_an_address(self):
        # From many addresses, 2 wrong answers each (under the address
        # threshold of 3): the name locks only after 4 x 3 = 12.
        srv = self.basic_server(auth_lockout_failures=3, auth_lockout_time=30)
        url = srv.url("/pub/hello.txt")
        bad = self.basic("bob", "wrong")
        statuses = []
        for i in range(7):
            for _ in range(2):
                statuses.append(gh.curl(url, "--interface", f"127.0.1.{i + 1}", headers=bad).status)
        self.assertEqual(statuses[:11], [401] * 11, statuses)
        self.assertEqual(statuses[11], 429, statuses)
        srv.wait_for_event(r"user bob is locked out")


if __name__ == "__main__":
    gh.main()

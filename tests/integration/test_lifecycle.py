"""Process lifecycle: SIGHUP reloads the configuration without a restart
(or keeps the running one when the new file is broken) and reopens the
access log; SIGTERM and SIGINT exit 0 promptly."""

import os
import signal
import socket
import threading
import time
import unittest

import guise_harness as gh

HUGE = 64 << 20
STALL_PLUGIN = os.path.join(gh.BUILD_DIR, "tests", "integration", "guise-stall.so")
LIBDIR = "/usr/lib/x86_64-linux-gnu"
PAM_WRAPPER = os.path.join(LIBDIR, "libpam_wrapper.so")
PAM_MATRIX = os.path.join(LIBDIR, "pam_wrapper", "pam_matrix.so")
PAM_EXEC = os.path.join(LIBDIR, "security", "pam_exec.so")
PAM_DENY = os.path.join(LIBDIR, "security", "pam_deny.so")


class Reload(gh.GuiseTestCase):
    def setUp(self):
        w = self.work
        w.write("one/a.txt", "one\n")
        w.write("two/b.txt", "two\n")
        self.cfg = gh.Config(authentication="anonymous hello", authorization="fs-acl", auth_failure_delay=0)
        gh.hello_config(self.cfg, account="nobody")
        self.cfg.point("one", w.join("one"))
        self.srv = self.start_guised(self.cfg)
        self.pid = self.srv.pid

    def status(self, path, **kw):
        return gh.curl(self.srv.url(path), **kw).status

    def test_good_reload_adds_point(self):
        self.assertEqual(self.status("/two/b.txt"), 404)
        cfg = self.cfg.copy()
        cfg.point("two", self.work.join("two"))
        self.srv.reload(cfg, expect=r"configuration .* reloaded")
        r = gh.curl(self.srv.url("/two/b.txt"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"two\n")
        self.assertEqual(self.status("/one/a.txt"), 200)
        self.assertEqual(self.srv.pid, self.pid)
        self.assertTrue(self.srv.running())
        self.assertIn(b"two", gh.curl(self.srv.url("/?format=json")).body)

    def test_reload_removes_point_and_changes_acl(self):
        cfg = self.cfg.copy()
        cfg.points["one"].update({"authorization": "pp-acl", "read": "user:alice"})
        self.srv.reload(cfg, expect=r"reloaded")
        self.assertEqual(self.status("/one/a.txt"), 401)
        self.assertEqual(self.status("/one/a.txt", headers={"Authorization": gh.hello_auth("alice")}), 200)
        cfg = self.cfg.copy()
        del cfg.points["one"]
        cfg.point("two", self.work.join("two"))
        self.srv.reload(cfg, expect=r"reloaded")
        self.assertEqual(self.status("/one/a.txt"), 404)
        self.assertEqual(self.status("/two/b.txt"), 200)

    def test_broken_reload_keeps_serving(self):
        with open(self.srv.config_path, "a") as f:
            f.write('\n[publishing-point "two"]\npath = /no/such/dir\n')
        m = self.srv.reload(expect=r"reload refused.*")
        with open(self.srv.config_path) as f:
            line = len(f.read().splitlines())
        self.assertIn(f"{self.srv.config_path}:{line}: key 'path'", m.group(0))
        self.assertEqual(self.status("/one/a.txt"), 200)
        self.assertEqual(self.status("/two/b.txt"), 404)
        self.assertEqual(self.srv.pid, self.pid)
        # A later good file is taken.
        cfg = self.cfg.copy()
        cfg.point("two", self.work.join("two"))
        self.srv.reload(cfg, expect=r"configuration .* reloaded")
        self.assertEqual(self.status("/two/b.txt"), 200)

    def test_broken_syntax_and_unknown_plugin_refused(self):
        for bad in ("[server\n", "[server]\nauthentication = anonymous nosuch\n", "garbage\n"):
            with self.subTest(bad=bad):
                with open(self.srv.config_path, "w") as f:
                    f.write(bad)
                self.srv.reload(expect=r"reload refused")
                self.assertEqual(self.status("/one/a.txt"), 200)
        self.assertTrue(self.srv.running())

    def test_reload_event_is_an_error_level_event(self):
        with open(self.srv.config_path, "a") as f:
            f.write("\nbogus = 1\n")
        self.srv.reload(expect=r"reload refused")
        self.assertRegex(self.srv.events(), r"(?m)^\S+ error server\[\d+\] reload refused")

    def test_requests_during_reloads(self):
        # Reloads under load: every request gets an answer, none fails.
        cfg2 = self.cfg.copy()
        cfg2.point("two", self.work.join("two"))
        codes = []
        for i in range(10):
            self.srv.write_config(cfg2 if i % 2 else self.cfg)
            self.srv.send_signal(signal.SIGHUP)
            codes.append(self.status("/one/a.txt"))
        self.assertEqual(codes, [200] * 10)
        self.assertTrue(self.srv.running())

    def test_keep_alive_connection_survives_reload(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=5)
        try:
            s.sendall(f"GET /one/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: {gh.hello_auth()}\r\n\r\n".encode())
            first = b""
            while not first.endswith(b"\r\n\r\none\n"):
                chunk = s.recv(65536)
                self.assertTrue(chunk, first)
                first += chunk
            self.assertTrue(first.startswith(b"HTTP/1.1 200"), first)
            cfg = self.cfg.copy()
            cfg.point("two", self.work.join("two"))
            self.srv.reload(cfg, expect="reloaded")
            s.sendall(b"GET /two/b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            rest = gh._read_all(s)
        finally:
            s.close()
        self.assertTrue(rest.startswith(b"HTTP/1.1 200"), rest)
        self.assertTrue(rest.endswith(b"two\n"))


class AccessLogRotation(gh.GuiseTestCase):
    def test_reopen_after_rename(self):
        self.work.write("pub/a.txt", "a\n")
        cfg = gh.Config(authentication="anonymous")
        cfg.point("pub", self.work.join("pub"))
        srv = self.start_guised(cfg)
        for name in ("before", "between", "after"):
            self.work.write(f"pub/{name}.txt", name)
        gh.curl(srv.url("/pub/before.txt"))
        srv.wait_for_access(r"before\.txt")
        rotated = srv.access_log + ".1"
        os.rename(srv.access_log, rotated)
        gh.curl(srv.url("/pub/between.txt"))  # still goes to the renamed file
        time.sleep(0.2)
        srv.reload(expect="reloaded")
        gh.curl(srv.url("/pub/after.txt"))
        srv.wait_for_access(r"after\.txt")
        new = srv.read_access_log()
        with open(rotated) as f:
            old = f.read()
        self.assertIn("before.txt", old)
        self.assertIn("between.txt", old)
        self.assertNotIn("after.txt", old)
        self.assertNotIn("before.txt", new)
        self.assertEqual(len(new.splitlines()), 1, new)

    def test_log_file_mode(self):
        self.work.write("pub/a.txt", "a\n")
        cfg = gh.Config(authentication="anonymous")
        cfg.point("pub", self.work.join("pub"))
        srv = self.start_guised(cfg)
        gh.curl(srv.url("/pub/a.txt"))
        srv.wait_for_access("a.txt")
        # Client addresses and user names are not for everyone.
        self.assertEqual(os.stat(srv.access_log).st_mode & 0o007, 0)


class Stop(gh.GuiseTestCase):
    def server(self):
        self.work.write("pub/a.txt", "a\n")
        with open(self.work.join("pub/huge.bin"), "wb") as f:
            f.truncate(HUGE)
        cfg = gh.Config(authentication="anonymous")
        cfg.point("pub", self.work.join("pub"))
        srv = gh.Guised(self.work, cfg, name=f"stop-{self._testMethodName}")
        srv.start()
        self.addCleanup(srv.kill)
        return srv

    def test_sigterm_exits_0_promptly(self):
        srv = self.server()
        self.assertEqual(gh.curl(srv.url("/pub/a.txt")).status, 200)
        t0 = time.monotonic()
        rc = srv.stop(signal.SIGTERM)
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertRegex(srv.events(), "stopping")

    def test_sigint_exits_0(self):
        srv = self.server()
        self.assertEqual(srv.stop(signal.SIGINT), 0)

    def test_sigterm_with_idle_keep_alive_connection(self):
        srv = self.server()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        try:
            s.sendall(b"GET /pub/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 200"))
            t0 = time.monotonic()
            self.assertEqual(srv.stop(signal.SIGTERM), 0)
            self.assertLess(time.monotonic() - t0, 2.0)
        finally:
            s.close()

    def test_sigterm_finishes_request_in_flight(self):
        # 64 MiB is more than the socket buffers hold: the answer is still
        # being sent when SIGTERM arrives; it is completed, then exit 0.
        srv = self.server()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        try:
            s.sendall(b"GET /pub/huge.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head = s.recv(4096)
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            time.sleep(0.2)
            srv.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(srv.proc.poll(), "exited before the answer was sent")
            n = len(head.partition(b"\r\n\r\n")[2])
            while True:
                c = s.recv(1 << 20)
                if not c:
                    break
                n += len(c)
        finally:
            s.close()
        self.assertEqual(n, HUGE)
        srv.proc.wait(timeout=5)
        self.assertEqual(srv.stop(), 0)

    def test_sigterm_with_stalled_client(self):
        # A client that stops reading holds the drain at most ~10 s.
        srv = self.server()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        try:
            s.sendall(b"GET /pub/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
            t0 = time.monotonic()
            srv.send_signal(signal.SIGTERM)
            srv.proc.wait(timeout=20)
            self.assertLess(time.monotonic() - t0, 15)
            self.assertEqual(srv.stop(), 0)
        finally:
            s.close()

    def test_no_new_connections_after_sigterm(self):
        srv = self.server()
        srv.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=5)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def send_and_read(port, request, answers, key):
    """Sends raw request bytes, reads until the server closes; stores the bytes."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(request)
            data = b""
            while True:
                c = s.recv(65536)
                if not c:
                    break
                data += c
    except OSError as e:
        data = repr(e).encode()
    answers[key] = data


class ShutdownWhileWaiting(gh.GuiseTestCase):
    """SIGTERM while clients are suspended on plug-in calls that hang: a PAM
    check (pam_wrapper, pam_exec sleeping) and a plug-in whose call never
    completes (tests/integration/stall-plugin: the stand-in for a hanging
    GSSAPI call). Every client gets an answer, libmicrohttpd is stopped only
    after every connection was resumed, and the exit is clean (status 0: under
    ASan, no use after free and no leak)."""

    def server(self, stall_mode, hang_ms=0, pam=False):
        w = self.work
        w.write("pub/a.txt", "public\n")
        cfg = gh.Config(authentication="anonymous", auth_failure_delay=0, shutdown_timeout=1,
                        state_directory=w.path)
        cfg.server["load"] = STALL_PLUGIN
        cfg.plugin("stall", mode=stall_mode, hang_ms=hang_ms)
        cfg.point("pub", w.join("pub"))
        cfg.point("stall", w.join("pub"), authentication="stall")
        saved = gh.GUISED
        if pam:
            svc = w.mkdir("pam.d")
            passdb = w.write("pam.d/passdb", "slow:slow secret:guise\n")
            hang = w.write("pam.d/hang.sh", "#!/bin/sh\nsleep 6\nexit 0\n", mode=0o755)
            w.write("pam.d/guise", f"auth required {PAM_EXEC} quiet {hang}\n"
                    f"auth required {PAM_MATRIX} passdb={passdb}\naccount required {PAM_MATRIX} passdb={passdb}\n")
            w.write("pam.d/other", f"auth required {PAM_DENY}\naccount required {PAM_DENY}\n")
            gh.GUISED = w.write(
                "guised-pam.sh",
                "#!/bin/sh\n"
                f"export LD_PRELOAD={PAM_WRAPPER} PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR={svc}\n"
                "export UID_WRAPPER_DISABLE_DEEPBIND=1\n"
                'export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"\n'
                f'exec {saved} "$@"\n',
                mode=0o755,
            )
            cfg.plugin("basic", backend="pam", pam_service="guise", pam_timeout=2, allow_plaintext="true",
                       account="nobody", cache_ttl=0)
            cfg.point("pam", w.join("pub"), authentication="basic")
        try:
            srv = gh.Guised(self.work, cfg, name=f"waiting-{self._testMethodName}")
            srv.start()
        finally:
            gh.GUISED = saved
        self.addCleanup(srv.kill)
        return srv

    def start_clients(self, srv, requests):
        answers, threads = {}, []
        for key, req in requests.items():
            t = threading.Thread(target=send_and_read, args=(srv.port, req, answers, key))
            t.start()
            threads.append(t)
        return answers, threads

    def stall_request(self, n):
        return b"GET /stall/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Stall " + str(n).encode() + b"\r\n\r\n"

    def sigterm(self, srv, threads, wait_for=r"stopping"):
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=30)
        took = time.monotonic() - t0
        for t in threads:
            t.join(10)
        return took

    @unittest.skipUnless(os.path.exists(PAM_WRAPPER) and os.path.exists(PAM_MATRIX) and os.path.exists(PAM_EXEC),
                         "pam_wrapper not installed")
    def test_sigterm_while_pam_hangs_and_a_plugin_never_completes(self):
        srv = self.server("never", pam=True)
        reqs = {f"stall{i}": self.stall_request(i) for i in range(3)}
        for i in range(3):
            reqs[f"pam{i}"] = (b"GET /pam/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
                               b"c2xvdzpzbG93IHNlY3JldA==\r\n\r\n")
        answers, threads = self.start_clients(srv, reqs)
        time.sleep(0.5)  # every request is suspended on its plug-in call by now
        self.assertEqual(set(answers), set())
        took = self.sigterm(srv, threads)
        self.assertEqual(srv.stop(), 0, srv.events()[-3000:])
        self.assertEqual(len(answers), 6, answers)
        for i in range(3):
            # The call that never completes: answered 503 when the server stops.
            self.assertTrue(answers[f"stall{i}"].startswith(b"HTTP/1.1 503"), answers[f"stall{i}"][:200])
            self.assertIn(b"\r\nConnection: close\r\n", answers[f"stall{i}"])
            # PAM's check ends at pam-timeout (2 s) on the worker: the worker
            # pool is allowed to finish its jobs, so these are real answers.
            self.assertTrue(answers[f"pam{i}"].startswith(b"HTTP/1.1 401"), answers[f"pam{i}"][:200])
        ev = srv.events()
        self.assertRegex(ev, r"3 request\(s\) still waiting answered now")
        self.assertNotRegex(ev, r"still running after")
        self.assertNotRegex(ev, r"AddressSanitizer|LeakSanitizer|runtime error")
        # drain (1 s) + the rest of pam-timeout + sending: never the 6 s hang.
        self.assertLess(took, 6.0)

    def test_sigterm_while_a_plugin_never_completes(self):
        # Without PAM (pam_wrapper may be missing): 4 calls that never end.
        srv = self.server("never")
        answers, threads = self.start_clients(srv, {f"stall{i}": self.stall_request(i) for i in range(4)})
        time.sleep(0.5)
        self.sigterm(srv, threads)
        self.assertEqual(srv.stop(), 0, srv.events()[-3000:])
        for i in range(4):
            self.assertTrue(answers[f"stall{i}"].startswith(b"HTTP/1.1 503"), answers[f"stall{i}"][:200])
        ev = srv.events()
        self.assertRegex(ev, r"4 request\(s\) still waiting answered now")
        self.assertNotRegex(ev, r"still running after|Sanitizer|runtime error")

    def test_sigterm_while_a_worker_job_hangs(self):
        # A job that outlives shutdown-timeout twice: its clients still get
        # an answer, and the process ends without freeing what the job uses.
        srv = self.server("worker", hang_ms=60000)
        answers, threads = self.start_clients(srv, {f"stall{i}": self.stall_request(i) for i in range(2)})
        time.sleep(0.5)
        took = self.sigterm(srv, threads)
        self.assertEqual(srv.stop(), 0, srv.events()[-3000:])
        for i in range(2):
            self.assertTrue(answers[f"stall{i}"].startswith(b"HTTP/1.1 503"), answers[f"stall{i}"][:200])
        ev = srv.events()
        self.assertRegex(ev, r"2 plug-in job\(s\) still running after 1000 ms")
        self.assertNotRegex(ev, r"AddressSanitizer|runtime error")
        self.assertLess(took, 10.0)

    def test_sigterm_while_a_worker_job_finishes_late(self):
        # The job ends after the drain but within the workers' deadline: its
        # client gets the plug-in's own answer, not 503.
        srv = self.server("worker", hang_ms=1500)
        answers, threads = self.start_clients(srv, {"stall0": self.stall_request(0)})
        time.sleep(0.3)
        self.sigterm(srv, threads)
        self.assertEqual(srv.stop(), 0, srv.events()[-3000:])
        self.assertTrue(answers["stall0"].startswith(b"HTTP/1.1 401"), answers["stall0"][:200])
        self.assertNotRegex(srv.events(), r"still running after|answered now|AddressSanitizer")

    def test_sigterm_while_a_401_is_delayed(self):
        # The throttle's timer holds a 401 (auth-failure-delay): shutdown
        # sends that answer at once, and the timer firing later finds the
        # request kept alive (an abandoned request: ASan checks the memory).
        w = self.work
        w.write("pub/a.txt", "public\n")
        cfg = gh.Config(authentication="anonymous hello", auth_failure_delay=3000, shutdown_timeout=1,
                        auth_lockout_failures=0)
        gh.hello_config(cfg, account="nobody")
        cfg.point("pub", w.join("pub"))
        srv = gh.Guised(self.work, cfg, name="waiting-delayed-401")
        srv.start()
        self.addCleanup(srv.kill)
        bad = b"GET /pub/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Hello alice:wrong-secret\r\n\r\n"
        first = {}
        send_and_read(srv.port, bad.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"), first, "a")
        self.assertTrue(first["a"].startswith(b"HTTP/1.1 401"), first["a"][:100])
        answers, threads = self.start_clients(srv, {"delayed": bad})
        time.sleep(0.3)
        took = self.sigterm(srv, threads)
        self.assertEqual(srv.stop(), 0, srv.events()[-3000:])
        self.assertTrue(answers["delayed"].startswith(b"HTTP/1.1 401"), answers["delayed"][:200])
        self.assertIn(b"WWW-Authenticate: Hello", answers["delayed"])
        ev = srv.events()
        self.assertRegex(ev, r"1 request\(s\) still waiting answered now")
        self.assertNotRegex(ev, r"AddressSanitizer|LeakSanitizer|runtime error")
        self.assertLess(took, 10.0)


if __name__ == "__main__":
    gh.main()

"""Process lifecycle: SIGHUP reloads the configuration without a restart
(or keeps the running one when the new file is broken) and reopens the
access log; SIGTERM and SIGINT exit 0 promptly."""

import os
import signal
import socket
import time

import guise_harness as gh

HUGE = 64 << 20


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


if __name__ == "__main__":
    gh.main()

#!/usr/bin/env python3
"""Fault drills against a live guised (suite 'stress'): broken plug-ins, a
hanging PAM stack, files truncated or removed while they stream, clients
that vanish mid-handshake or mid-stream, a full disk under the access log,
and SIGHUP with broken configurations under load. Each drill checks that the
server stays up, keeps answering everyone else, and says what happened.
Drills that need root (mounting a tmpfs) skip without it."""

import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import guise_harness as gh  # noqa: E402

PASSWD = os.path.join(gh.BUILD_DIR, "src", "cli", "guise-passwd")
LIBDIR = "/usr/lib/x86_64-linux-gnu"
PAM_WRAPPER = os.path.join(LIBDIR, "libpam_wrapper.so")
PAM_MATRIX = os.path.join(LIBDIR, "pam_wrapper", "pam_matrix.so")
PAM_EXEC = os.path.join(LIBDIR, "security", "pam_exec.so")
PAM_DENY = os.path.join(LIBDIR, "security", "pam_deny.so")
BIG = 200 << 20
# make asan: a sanitized guised is slower, and ASan holds its allocator's
# locks across fork() (pam_exec forks the server), so time bounds widen.
SANITIZED = os.environ.get("GUISE_SANITIZED") == "1"


def fd_targets(pid):
    """What the process's descriptors point at (socket:[..], a path, anon_inode:..)."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:
            pass  # closed while we looked
    return out


def fd_count(pid):
    """Descriptors a vanished client could leave behind: sockets and files.

    Per-thread descriptors that guised makes lazily (an I/O thread's io_uring
    ring the first time it opens a file as somebody, eventfds, epoll) are not
    counted: which of the I/O threads gets a connection depends on the
    machine's load, so the ring of the second thread may appear after the
    baseline without anything being left behind.
    """
    return sum(1 for t in fd_targets(pid) if not t.startswith("anon_inode:"))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_fds(pid, limit, timeout=10):
    """Waits until the process holds at most limit descriptors; returns the count."""
    deadline = time.monotonic() + timeout
    while True:
        n = fd_count(pid)
        if n <= limit or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


def settled_fds(pid):
    """The descriptor count once closed connections have been reaped."""
    time.sleep(1)
    return fd_count(pid)


def timed_get(url):
    t0 = time.monotonic()
    r = gh.curl(url)
    return r.status, time.monotonic() - t0


def rst_close(sock):
    """Closes with a TCP reset instead of a FIN: the client just vanishes."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def digest_users(work, user="alice", password="alice-pw", realm="guise"):
    path = work.join("users.digest")
    subprocess.run([PASSWD, "-c", "-a", "SHA-256", "--stdin", path, realm, user], input=password + "\n",
                   text=True, check=True, capture_output=True)
    return gh.service_readable(path)  # a root-started guised reads it as its service account


def make_cert(work):
    cert, key = work.join("faults.crt"), work.join("faults.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, gh.service_readable(key)


def make_big_file(path, size=BIG):
    """size bytes, different in every 1 MiB block (so a wrong offset shows)."""
    with open(path, "wb") as f:
        for i in range(size >> 20):
            f.write(hashlib.sha256(str(i).encode()).digest() * (1 << 15))
    os.chmod(path, 0o644)


def start_stream(port, path, tls_ctx=None):
    """Sends a GET and reads the header; returns (socket, Content-Length, first body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    if tls_ctx:
        s = tls_ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(65536)
        if not c:
            raise AssertionError(f"closed before the header: {data!r}")
        data += c
    head, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"\r\nContent-Length: (\d+)", head, re.I)
    assert head.startswith(b"HTTP/1.1 200"), head
    return s, int(m.group(1)), rest


def read_n(sock, n, into=None, timeout=30):
    """Reads up to n bytes (fewer if the peer closes or the timeout passes)."""
    sock.settimeout(timeout)
    got = 0
    while got < n:
        try:
            c = sock.recv(min(1 << 20, n - got))
        except (socket.timeout, ConnectionResetError, ssl.SSLError):
            break
        if not c:
            break
        got += len(c)
        if into is not None:
            into.update(c)
    return got


# ---- plug-ins -------------------------------------------------------------------------


class PluginFaults(gh.GuiseTestCase):
    def setUp(self):
        self.work.write("pub/a.txt", "public\n")

    def test_missing_module_nobody_uses(self):
        # A `load` that fails is logged (event 103); as no list names a
        # plug-in from it, the server starts and serves.
        cfg = gh.Config(load="/nonexistent.so", authentication="anonymous", state_directory=self.work.path)
        cfg.point("pub", self.work.join("pub"))
        srv = self.start_guised(cfg)
        srv.wait_for_event(r"error server\[103\] cannot load plug-in module /nonexistent\.so")
        r = gh.curl(srv.url("/pub/a.txt"))
        self.assertEqual((r.status, r.body), (200, b"public\n"))

    def test_missing_module_named_in_a_list(self):
        # A list naming a plug-in nobody provides is a configuration error:
        # refused at start-up (exit 1, key named), refused on reload (the
        # running configuration stays).
        cfg = gh.Config(load="/nonexistent.so", authentication="anonymous hello")
        cfg.point("pub", self.work.join("pub"))
        g = gh.Guised(self.work, cfg, name="unknown-list")
        g.write_config()
        p = subprocess.run([gh.GUISED, "-c", g.config_path], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"key 'authentication': unknown plug-in 'hello'")
        good = gh.Config(authentication="anonymous")
        good.point("pub", self.work.join("pub"))
        srv = self.start_guised(good)
        srv.reload(cfg, expect=r"reload refused")
        self.assertEqual(gh.curl(srv.url("/pub/a.txt")).status, 200)

    def test_enable_failure_makes_only_its_scopes_503(self):
        # The anonymous plug-in's guest account does not exist: enable fails,
        # the plug-in is disabled, the point listing it answers 503 while
        # the others (Digest here) go on.
        users = digest_users(self.work)
        cfg = gh.Config(authentication="digest", state_directory=self.work.path)
        cfg.plugin("anonymous", account="guise-no-such-account")
        cfg.plugin("digest", user_file=users, account="nobody")
        cfg.point("good", self.work.join("pub"))
        cfg.point("bad", self.work.join("pub"), authentication="anonymous")
        srv = self.start_guised(cfg)
        ev = srv.events()
        self.assertRegex(ev, r"error anonymous\[\d+\] guest account 'guise-no-such-account'")
        self.assertRegex(ev, r"scope 'bad' starts in the critical-error state")
        self.assertNotRegex(ev, r"scope '(good|server)' starts in the critical-error state")
        for _ in range(3):
            self.assertEqual(gh.curl(srv.url("/bad/a.txt")).status, 503)
            r = gh.curl(srv.url("/good/a.txt"), "--digest", "-u", "alice:alice-pw")
            self.assertEqual((r.status, r.body), (200, b"public\n"))


# ---- a hanging PAM stack ------------------------------------------------------------------


@unittest.skipUnless(os.path.exists(PAM_WRAPPER) and os.path.exists(PAM_MATRIX), "pam_wrapper not installed")
class PamHang(gh.GuiseTestCase):
    """The Basic plug-in with PAM under pam_wrapper (LD_PRELOAD): a stack
    whose first module hangs for the user 'slow' (pam_exec sleep 6) and
    checks passwords with pam_matrix. pam-timeout is 1 s."""

    HANG = 6

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("pub/a.txt", "public\n")
        w.write("basic/b.txt", "basic\n")
        svc = w.mkdir("pam.d")
        passdb = w.write("pam.d/passdb", "alice:alice secret:guise\nslow:slow secret:guise\n")
        hang = w.write("pam.d/hang.sh", f'#!/bin/sh\n[ "$PAM_USER" = slow ] && sleep {cls.HANG}\nexit 0\n', mode=0o755)
        w.write("pam.d/guise", f"auth required {PAM_EXEC} quiet {hang}\nauth required {PAM_MATRIX} passdb={passdb}\n"
                f"account required {PAM_MATRIX} passdb={passdb}\n")
        w.write("pam.d/other", f"auth required {PAM_DENY}\naccount required {PAM_DENY}\n")
        wrapper = w.write(
            "guised-pam.sh",
            "#!/bin/sh\n"
            f"export LD_PRELOAD={PAM_WRAPPER} PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR={svc}\n"
            "export UID_WRAPPER_DISABLE_DEEPBIND=1\n"
            'export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"\n'
            f'exec {gh.GUISED} "$@"\n',
            mode=0o755,
        )
        # No delay after failures: the answer time is PAM's alone.
        cfg = gh.Config(authentication="anonymous", auth_failure_delay=0, state_directory=w.path)
        cfg.plugin("basic", backend="pam", pam_service="guise", pam_timeout=1, allow_plaintext="true",
                   account="nobody", cache_ttl=0)
        cfg.point("pub", w.join("pub"))
        cfg.point("basic", w.join("basic"), authentication="basic")
        saved = gh.GUISED
        gh.GUISED = wrapper  # the harness starts this path
        try:
            cls.srv = cls.start_guised_class(cfg)
        finally:
            gh.GUISED = saved

    def test_stack_works_under_the_wrapper(self):
        r = gh.curl(self.srv.url("/basic/b.txt"), "-u", "alice:alice secret")
        self.assertEqual((r.status, r.body), (200, b"basic\n"))
        self.assertEqual(gh.curl(self.srv.url("/basic/b.txt"), "-u", "alice:wrong").status, 401)

    def test_hang_times_out_and_others_are_not_delayed(self):
        start = len(self.srv.events())
        results = []

        def slow():
            t0 = time.monotonic()
            r = gh.curl(self.srv.url("/basic/b.txt"), "-u", "slow:slow secret", timeout=20)
            results.append((r.status, time.monotonic() - t0))

        # Twice as many hanging checks as worker threads (4).
        hung = [threading.Thread(target=slow) for _ in range(8)]
        for t in hung:
            t.start()
        time.sleep(0.2)
        anon, logins = [], []
        t_end = time.monotonic() + 2.0
        while time.monotonic() < t_end:
            status, took = timed_get(self.srv.url("/pub/a.txt"))
            self.assertEqual(status, 200)
            anon.append(took)
        t0 = time.monotonic()
        r = gh.curl(self.srv.url("/basic/b.txt"), "-u", "alice:alice secret", timeout=20)
        logins.append((r.status, time.monotonic() - t0))
        for t in hung:
            t.join(30)
        anon.sort()
        print(f"\nPAM hang: {len(results)} hung logins answered {sorted(set(s for s, _ in results))} in "
              f"{min(t for _, t in results):.2f}-{max(t for _, t in results):.2f} s; anonymous during the hang: "
              f"{len(anon)} requests, median {anon[len(anon) // 2] * 1000:.1f} ms, max {anon[-1] * 1000:.1f} ms; "
              f"a good Basic login meanwhile: {logins[0][0]} in {logins[0][1]:.2f} s", flush=True)
        self.assertEqual(len(results), 8)
        for status, took in results:
            self.assertEqual(status, 401)
            # pam-timeout (1 s) - twice at most, as 8 checks share 4 worker
            # threads - and never the 6 s hang.
            self.assertLess(took, 8.0 if SANITIZED else 4.0)
        self.assertLess(anon[len(anon) // 2], 0.2)
        self.assertLess(anon[-1], 3.0 if SANITIZED else 1.0)
        self.srv.wait_for_event(r"warning basic\[\d+\] .*within 1000 ms", start=start)


# ---- files that change under a stream, clients that vanish ----------------------------------


class StreamFaults(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/a.txt", "public\n")
        make_big_file(cls.work.join("pub", "big.bin"))
        with open(cls.work.join("pub", "big.bin"), "rb") as f:
            cls.big = f.read()
        cfg = gh.Config(authentication="anonymous")
        cfg.point("pub", cls.work.join("pub"))
        cls.srv = cls.start_guised_class(cfg)

    def own_server(self):
        """A server of its own (its events are this test's alone) with a
        long idle-timeout: an answer whose file shrank must be ended by
        guised's shrink watcher within about a second, not by the idle
        timeout (libmicrohttpd's sendfile path would stall until then)."""
        cfg = gh.Config(authentication="anonymous", idle_timeout=60)
        cfg.point("pub", self.work.join("pub"))
        self.srv = self.start_guised(cfg)

    def copy_big(self, name):
        p = self.work.join("pub", name)
        with open(p, "wb") as f:
            f.write(self.big)
        return p

    def assert_serving(self):
        self.assertTrue(self.srv.running())
        r = gh.curl(self.srv.url("/pub/a.txt"))
        self.assertEqual((r.status, r.body), (200, b"public\n"))

    def test_truncated_while_streaming(self):
        self.own_server()
        p = self.copy_big("trunc.bin")
        s, length, first = start_stream(self.srv.port, "/pub/trunc.bin")
        self.assertEqual(length, BIG)
        got = len(first) + read_n(s, (8 << 20) - len(first))
        os.truncate(p, 1 << 20)
        t0 = time.monotonic()
        cpu0 = cpu_seconds(self.srv.pid)
        # Meanwhile the server serves others and does not spin.
        self.assert_serving()
        got += read_n(s, BIG, timeout=20)
        took = time.monotonic() - t0
        spent = cpu_seconds(self.srv.pid) - cpu0
        s.close()
        print(f"\ntruncated at 8 MiB of {BIG >> 20} MiB: connection ended after {took:.1f} s, "
              f"{got >> 20} MiB received, guised CPU meanwhile {spent:.2f} s", flush=True)
        # The answer cannot be completed: the connection must end early,
        # within the watcher's 1 s period (plus scheduling), far before the
        # 60 s idle timeout, without other bytes and without spinning.
        self.assertLess(got, BIG)
        self.assertLess(took, 5)
        self.assertLess(spent, 0.5 * took + 0.2, "guised spins after the truncation")
        self.srv.wait_for_event(r"warning server\[\d+\].*/pub/trunc\.bin shrank to 1048576 bytes.*connection closed")
        self.assert_serving()

    def test_truncated_while_curl_reads_slowly(self):
        self.own_server()
        p = self.copy_big("trunc-curl.bin")
        c = subprocess.Popen([gh.CURL, "-sS", "--limit-rate", "20M", "-o", "/dev/null", "-w", "%{size_download}",
                              self.srv.url("/pub/trunc-curl.bin")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1)
        os.truncate(p, 0)
        t0 = time.monotonic()
        out, err = c.communicate(timeout=20)
        took = time.monotonic() - t0
        self.assertNotEqual(c.returncode, 0, "curl got a complete answer from a truncated file")
        self.assertLess(int(out or 0), BIG)
        self.assertLess(took, 5, "the answer was not ended by the shrink watcher")
        self.srv.wait_for_event(r"/pub/trunc-curl\.bin shrank to 0 bytes")
        self.assert_serving()

    def test_removed_while_streaming(self):
        # The open descriptor keeps the bytes: the whole file arrives, intact.
        p = self.copy_big("gone.bin")
        s, length, first = start_stream(self.srv.port, "/pub/gone.bin")
        h = hashlib.sha256(first)
        got = len(first) + read_n(s, (8 << 20) - len(first), into=h)
        os.unlink(p)
        got += read_n(s, BIG - got, into=h)
        s.close()
        self.assertEqual(got, BIG)
        self.assertEqual(h.hexdigest(), hashlib.sha256(self.big).hexdigest())
        self.assertEqual(gh.curl(self.srv.url("/pub/gone.bin")).status, 404)
        self.assert_serving()

    def test_clients_vanish_mid_stream(self):
        # The baseline comes after a first round: every I/O thread makes its
        # io_uring ring when it first opens a file as somebody.
        base = None
        for i in range(50):
            if i == 10:
                base = settled_fds(self.srv.pid)
            s, _, _ = start_stream(self.srv.port, "/pub/big.bin")
            read_n(s, 1 << 20)
            rst_close(s) if i % 2 else s.close()
        n = wait_fds(self.srv.pid, base)
        print(f"\n50 clients gone after 1 MiB (half with a reset): guised descriptors {base} -> {n}", flush=True)
        self.assertLessEqual(n, base, f"descriptors left behind by vanished clients: {fd_targets(self.srv.pid)}")
        self.assert_serving()


class TlsFaults(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/a.txt", "public\n")
        make_big_file(cls.work.join("pub", "big.bin"), 64 << 20)
        cls.cert, key = make_cert(cls.work)
        cfg = gh.Config(authentication="anonymous", tls_certificate=cls.cert, tls_key=key)
        cfg.point("pub", cls.work.join("pub"))
        cls.srv = cls.start_guised_class(cfg, tls=True)
        cls.ctx = ssl.create_default_context(cafile=cls.cert)

    def client_hello(self):
        """The bytes of a real ClientHello (Python's ssl over memory BIOs)."""
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.ctx.wrap_bio(inc, out, server_hostname="localhost")
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        return out.read()

    def assert_serving(self):
        self.assertTrue(self.srv.running())
        r = gh.curl(self.srv.url("/pub/a.txt"), cacert=self.cert)
        self.assertEqual((r.status, r.body), (200, b"public\n"))

    def test_clients_vanish_mid_handshake(self):
        hello = self.client_hello()
        self.assert_serving()
        self.assert_serving()
        base = None
        for i in range(300):
            if i == 30:
                base = settled_fds(self.srv.pid)
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=5)
            kind = i % 3
            if kind == 0:
                s.sendall(hello)  # the whole ClientHello, then gone
            elif kind == 1:
                s.sendall(hello[: len(hello) // 2])  # half of it
            if i % 2:
                rst_close(s)
            else:
                s.close()
        n = wait_fds(self.srv.pid, base)
        print(f"\n300 TLS clients gone mid-handshake: guised descriptors {base} -> {n}", flush=True)
        self.assertLessEqual(n, base, "descriptors left behind by half-made handshakes")
        self.assert_serving()

    def test_clients_vanish_mid_stream(self):
        base = None
        for i in range(26):
            if i == 6:
                base = settled_fds(self.srv.pid)
            s, _, _ = start_stream(self.srv.port, "/pub/big.bin", tls_ctx=self.ctx)
            read_n(s, 1 << 20)
            rst_close(s) if i % 2 else s.close()
        n = wait_fds(self.srv.pid, base)
        print(f"\n26 TLS clients gone after 1 MiB: guised descriptors {base} -> {n}", flush=True)
        self.assertLessEqual(n, base, f"descriptors left behind by vanished TLS clients: {fd_targets(self.srv.pid)}")
        self.assert_serving()


# ---- a full disk under the access log ---------------------------------------------------------


class AccessLogDiskFull(gh.GuiseTestCase):
    def test_full_disk(self):
        gh.require_root("mounting a tmpfs")
        self.work.write("pub/a.txt", "public\n")
        mnt = self.work.mkdir("logfs")
        # The log's file system belongs to the account guised writes it as.
        uid, gid = gh.service_ids()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size=64k,mode=0755,uid={uid},gid={gid}", "tmpfs", mnt],
                       check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        log = os.path.join(mnt, "access.log")
        cfg = gh.Config(authentication="anonymous", access_log=log)
        cfg.point("pub", self.work.join("pub"))
        srv = gh.Guised(self.work, cfg, name="diskfull")
        srv.start()
        self.addCleanup(srv.stop_clean)  # runs before the umount
        self.assertEqual(gh.curl(srv.url("/pub/a.txt")).status, 200)
        srv.wait_for_access(r"GET /pub/a\.txt")
        filler = os.path.join(mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"x" * 512) > 0:
                pass
        except OSError:
            pass  # ENOSPC: full
        finally:
            os.close(fd)
        start = len(srv.events())
        for _ in range(200):
            r = gh.curl(srv.url("/pub/a.txt"))
            self.assertEqual((r.status, r.body), (200, b"public\n"))
        self.assertTrue(srv.running())
        m = srv.wait_for_event(r"warning server\[400\] access log .*(No space|ENOSPC).*", start=start)
        print(f"\n200 requests answered 200 with the log's disk full; event: {m.group(0)}", flush=True)
        # Room again: lines are written again, and that is said too.
        os.unlink(filler)
        start = len(srv.events())
        gh.curl(srv.url("/pub/a.txt?after"))
        srv.wait_for_access(r"GET /pub/a\.txt ")
        srv.wait_for_event(r"access log .* written again after \d+ lost line", start=start)


# ---- SIGHUP with broken configurations under load --------------------------------------------------


@unittest.skipUnless(shutil.which("wrk"), "wrk not installed")
class ReloadUnderLoad(gh.GuiseTestCase):
    def test_sighup_good_and_broken_under_load(self):
        self.work.write("pub/a.txt", "public\n")
        users = digest_users(self.work)
        good = gh.Config(authentication="anonymous digest", authorization="fs-acl", state_directory=self.work.path)
        good.plugin("digest", user_file=users, account="nobody")
        good.point("pub", self.work.join("pub"))
        broken = [good.copy() for _ in range(3)]
        broken[0].server["min-uid"] = "0"  # bad value
        broken[1].extra = "[publishing-point \"x\"]\npath = /nonexistent/guise\n"  # missing path
        broken[2].server["authentication"] = "anonymous no-such-plugin"  # unknown plug-in
        srv = self.start_guised(good)
        wrk = subprocess.Popen(["wrk", "-t2", "-c64", "-d8s", "--timeout", "5s", srv.url("/pub/a.txt")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1)
        done = {"reloaded": 0, "refused": 0}
        for i in range(12):
            cfg = good if i % 2 else broken[(i // 2) % 3]
            m = srv.reload(cfg, timeout=10)
            done["refused" if "refused" in m.group(0) else "reloaded"] += 1
            time.sleep(0.4)
        out, _ = wrk.communicate(timeout=30)
        print(f"\nreloads under load: {done}; wrk:\n{out}", flush=True)
        self.assertEqual(done, {"reloaded": 6, "refused": 6})
        self.assertNotIn("Socket errors", out)
        self.assertNotIn("Non-2xx", out)
        self.assertRegex(out, r"\d+ requests in")
        self.assertTrue(srv.running())
        self.assertEqual(gh.curl(srv.url("/pub/a.txt")).status, 200)


# ---- SIGTERM while clients wait on hanging plug-ins, under load -----------------------------

STALL_PLUGIN = os.path.join(gh.BUILD_DIR, "tests", "integration", "guise-stall.so")


def read_until_close(port, data, timeout=30):
    """Raw request; everything received until the server closes (or None on a socket error)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            got = b""
            while True:
                c = s.recv(65536)
                if not c:
                    return got
                got += c
    except OSError:
        return None


@unittest.skipUnless(os.path.exists(PAM_WRAPPER) and os.path.exists(PAM_MATRIX), "pam_wrapper not installed")
class ShutdownUnderLoad(gh.GuiseTestCase):
    """SIGTERM while 16 clients wait on a plug-in call that never completes
    (the stall test plug-in: a hanging GSSAPI stand-in), 8 on a PAM check
    that hangs (the stack sleeps 6 s, pam-timeout is 2 s), and 8 threads
    fetch an anonymous file in a loop. Every
    waiting client gets an answer (503 or PAM's 401), none is left hanging,
    the process exits 0, and the shutdown takes shutdown-timeout plus what
    PAM's deadline still needs, never the hang."""

    def test_sigterm(self):
        w = self.work
        w.write("pub/a.txt", "public\n")
        svc = w.mkdir("pam.d")
        passdb = w.write("pam.d/passdb", "slow:slow secret:guise\n")
        hang = w.write("pam.d/hang.sh", "#!/bin/sh\nsleep 6\nexit 0\n", mode=0o755)
        w.write("pam.d/guise", f"auth required {PAM_EXEC} quiet {hang}\nauth required {PAM_MATRIX} passdb={passdb}\n"
                f"account required {PAM_MATRIX} passdb={passdb}\n")
        w.write("pam.d/other", f"auth required {PAM_DENY}\naccount required {PAM_DENY}\n")
        wrapper = w.write(
            "guised-pam.sh",
            "#!/bin/sh\n"
            f"export LD_PRELOAD={PAM_WRAPPER} PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR={svc}\n"
            "export UID_WRAPPER_DISABLE_DEEPBIND=1\n"
            'export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"\n'
            f'exec {gh.GUISED} "$@"\n',
            mode=0o755,
        )
        # 24 calls that never end from one address: above the default
        # max-client-jobs, which is not what this drill is about.
        cfg = gh.Config(authentication="anonymous", auth_failure_delay=0, shutdown_timeout=1,
                        state_directory=w.path, workers=8, max_client_jobs=64)
        cfg.server["load"] = STALL_PLUGIN
        cfg.plugin("stall", mode="never")
        cfg.plugin("basic", backend="pam", pam_service="guise", pam_timeout=2, allow_plaintext="true",
                   account="nobody", cache_ttl=0)
        cfg.point("pub", w.join("pub"))
        cfg.point("stall", w.join("pub"), authentication="stall")
        cfg.point("pam", w.join("pub"), authentication="basic")
        saved = gh.GUISED
        gh.GUISED = wrapper
        try:
            srv = gh.Guised(w, cfg, name="shutdown-load")
            srv.start()
        finally:
            gh.GUISED = saved
        self.addCleanup(srv.kill)

        answers, threads = {}, []

        def client(key, data):
            answers[key] = read_until_close(srv.port, data)

        for i in range(16):
            req = b"GET /stall/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Stall %d\r\n\r\n" % i
            threads.append(threading.Thread(target=client, args=(f"stall{i}", req)))
        for i in range(8):
            req = b"GET /pam/a.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic c2xvdzpzbG93IHNlY3JldA==\r\n\r\n"
            threads.append(threading.Thread(target=client, args=(f"pam{i}", req)))
        stop = threading.Event()
        load = {"ok": 0, "refused": 0, "other": 0}

        def loader():
            while not stop.is_set():
                got = read_until_close(srv.port, b"GET /pub/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=10)
                if got is None:
                    load["refused"] += 1  # after the listener closed
                elif got.startswith(b"HTTP/1.1 200 "):
                    load["ok"] += 1
                else:
                    load["other"] += 1

        loaders = [threading.Thread(target=loader) for _ in range(8)]
        for t in threads + loaders:
            t.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=60)
        took = time.monotonic() - t0
        stop.set()
        for t in threads + loaders:
            t.join(30)
        rc = srv.stop()
        statuses = sorted(set((a or b"none")[:12] for a in answers.values()))
        print(f"\nSIGTERM with 16 stalled + 8 PAM-hung clients under load: exit {rc} after {took:.2f} s; "
              f"answers {statuses}; load: {load}", flush=True)
        self.assertEqual(rc, 0, srv.events()[-3000:])
        self.assertEqual(len(answers), 24)
        for i in range(16):
            self.assertTrue((answers[f"stall{i}"] or b"").startswith(b"HTTP/1.1 503 "), answers[f"stall{i}"])
        for i in range(8):
            self.assertTrue((answers[f"pam{i}"] or b"").startswith(b"HTTP/1.1 401 "), answers[f"pam{i}"])
        self.assertEqual(load["other"], 0, load)
        self.assertGreater(load["ok"], 0)
        self.assertRegex(srv.events(), r"16 request\(s\) still waiting answered now")
        self.assertNotRegex(srv.events(), r"AddressSanitizer|LeakSanitizer|runtime error")
        self.assertLess(took, 15.0 if SANITIZED else 6.0)


if __name__ == "__main__":
    gh.main()

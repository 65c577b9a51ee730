"""Resource limits: request-target length (414), header size (a 4xx from
libmicrohttpd), connections per address, total connections and idle
connections; the server survives every one of them."""

import socket
import time

import guise_harness as gh


def open_idle(port, n):
    """n keep-alive connections, each proven accepted by one answered request,
    so each holds a slot. A connection refused because an earlier probe
    (the harness's readiness check) still held a slot is retried."""
    socks = []
    deadline = time.monotonic() + 5
    while len(socks) < n:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(b"GET /pub/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while not data.endswith(b"hello\n"):
                c = s.recv(4096)
                if not c:
                    raise ConnectionResetError
                data += c
            socks.append(s)
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return socks


def refused(port, timeout=5):
    """True when a new connection is closed, or left waiting, without an answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /pub/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = gh._read_all(s)
    except (ConnectionResetError, BrokenPipeError):
        return True
    return not data.startswith(b"HTTP/1.1 200")


class Limits(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/hello.txt", "hello\n")
        cfg = gh.Config(
            authentication="anonymous",
            authorization="fs-acl",
            max_uri_length=256,
            max_header_size=4096,
            max_connections_per_ip=3,
            idle_timeout=2,
        )
        cfg.point("pub", cls.work.join("pub"))
        cls.srv = cls.start_guised_class(cfg)

    def ok(self):
        r = gh.curl(self.srv.url("/pub/hello.txt"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello\n")

    def test_uri_at_the_limit_is_served(self):
        target = "/pub/" + "a" * (256 - len("/pub/"))
        self.assertEqual(len(target), 256)
        self.assertEqual(gh.http_request(self.srv.port, "GET", target).status, 404)

    def test_uri_over_the_limit_414(self):
        for target in ("/pub/" + "a" * 252, "/pub/hello.txt" + "/x" * 200, "/pub/" + "%41" * 100):
            with self.subTest(length=len(target)):
                self.assertGreater(len(target), 256)
                self.assertEqual(gh.http_request(self.srv.port, "GET", target).status, 414)
        self.ok()

    def test_query_is_bounded_by_the_request_buffer(self):
        # max-uri-length is the longest request *path* (docs/CONFIGURATION.md);
        # the query is bounded by the request buffer (max-header-size + 8 KiB).
        r = gh.http_request(self.srv.port, "GET", "/pub/hello.txt?" + "q" * 400)
        self.assertEqual(r.status, 200)
        r = gh.http_request(self.srv.port, "GET", "/pub/hello.txt?" + "q" * 20000)
        self.assertTrue(400 <= r.status < 500, r.status)
        self.ok()

    def test_huge_uri_beyond_buffer(self):
        r = gh.http_request(self.srv.port, "GET", "/pub/" + "b" * 20000)
        self.assertGreaterEqual(r.status, 400)
        self.assertLess(r.status, 500)
        self.ok()

    def test_huge_header_4xx(self):
        for headers in (
            {"X-Big": "v" * 20000},
            {f"X-H{i}": "v" * 100 for i in range(200)},
            {"Cookie": "c=" + "z" * 12000},
        ):
            with self.subTest(n=len(headers)):
                r = gh.http_request(self.srv.port, "GET", "/pub/hello.txt", headers=headers)
                self.assertTrue(400 <= r.status < 500, r.status)
                self.assertIn(r.status, (400, 413, 431))
                self.assertNotIn(b"hello\n", r.body)
        self.ok()

    def test_header_within_limit_served(self):
        r = gh.http_request(self.srv.port, "GET", "/pub/hello.txt", headers={"X-Medium": "m" * 3000})
        self.assertEqual(r.status, 200)

    def test_connections_per_ip(self):
        socks = open_idle(self.srv.port, 3)
        try:
            self.assertTrue(refused(self.srv.port), "a 4th connection from one address was accepted")
        finally:
            for s in socks:
                s.close()
        time.sleep(0.3)
        self.ok()

    def test_idle_connection_closed(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        try:
            t0 = time.monotonic()
            data = gh._read_all(s)  # blocks until the server closes
            waited = time.monotonic() - t0
        finally:
            s.close()
        self.assertEqual(data, b"")
        self.assertGreaterEqual(waited, 1.0)
        self.assertLess(waited, 6.0)

    def test_slow_request_closed(self):
        # Half a request then silence: the idle timeout applies too.
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        try:
            s.sendall(b"GET /pub/hello.txt HTTP/1.1\r\n")
            t0 = time.monotonic()
            gh._read_all(s)
            self.assertLess(time.monotonic() - t0, 6.0)
        finally:
            s.close()
        self.ok()


class TotalConnections(gh.GuiseTestCase):
    def test_max_connections(self):
        self.work.write("pub/hello.txt", "hello\n")
        cfg = gh.Config(authentication="anonymous", max_connections=2, io_threads=1)
        cfg.point("pub", self.work.join("pub"))
        srv = self.start_guised(cfg)
        socks = open_idle(srv.port, 2)
        try:
            # libmicrohttpd stops accepting at the limit: the connection
            # waits in the backlog and gets no answer.
            self.assertTrue(refused(srv.port, timeout=1.5), "a 3rd connection was served")
        finally:
            for s in socks:
                s.close()
        time.sleep(0.3)
        self.assertEqual(gh.curl(srv.url("/pub/hello.txt")).status, 200)


if __name__ == "__main__":
    gh.main()

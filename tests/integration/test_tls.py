"""HTTPS with a certificate generated for the test (openssl req -x509):
curl and Python's ssl module verify it, plain HTTP to the TLS port gets no
content, playlists name https:// URLs, and a key that does not match the
certificate stops the server from starting."""

import socket
import ssl
import subprocess
import warnings

import guise_harness as gh


def make_cert(work, name, cn="localhost"):
    cert, key = work.join(f"{name}.crt"), work.join(f"{name}.key")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    # root-made, read by the service account guised switches to
    return gh.service_readable(cert), gh.service_readable(key)


class Tls(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("pub/hello.txt", "hello over tls\n")
        w.write("pub/song.mp3", b"ID3\x03\x00" + b"\x00" * 32)
        cls.cert, cls.key = make_cert(w, "server")
        cfg = gh.Config(authentication="anonymous hello", tls_certificate=cls.cert, tls_key=cls.key)
        gh.hello_config(cfg, account="nobody")
        cfg.point("pub", w.join("pub"))
        cfg.point("private", w.join("pub"), authentication="hello")
        cls.srv = cls.start_guised_class(cfg, tls=True)

    def test_https_with_curl(self):
        r = gh.curl(self.srv.url("/pub/hello.txt"), cacert=self.cert)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello over tls\n")

    def test_https_by_name(self):
        r = gh.curl(
            f"https://localhost:{self.srv.port}/pub/hello.txt",
            "--resolve",
            f"localhost:{self.srv.port}:127.0.0.1",
            cacert=self.cert,
        )
        self.assertEqual(r.status, 200)

    def test_untrusted_certificate_refused_by_curl(self):
        with self.assertRaises(gh.CurlError) as cm:
            gh.curl(self.srv.url("/pub/hello.txt"))
        self.assertEqual(cm.exception.rc, 60)  # peer certificate cannot be authenticated

    def test_python_ssl_client(self):
        ctx = gh.tls_context(self.cert)
        r = gh.http_request(self.srv.port, "GET", "/pub/hello.txt", tls_context=ctx, server_hostname="localhost")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello over tls\n")
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                self.assertIn(t.version(), ("TLSv1.2", "TLSv1.3"))
                self.assertEqual(dict(x[0] for x in t.getpeercert()["subject"])["commonName"], "localhost")

    def test_old_protocols_refused(self):
        ctx = gh.tls_context(self.cert)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with self.assertRaises((ssl.SSLError, OSError)):
            gh.http_request(self.srv.port, "GET", "/pub/hello.txt", tls_context=ctx, server_hostname="localhost")

    def test_plain_http_to_tls_port_fails(self):
        with self.assertRaises(gh.CurlError):
            gh.curl(f"http://127.0.0.1:{self.srv.port}/pub/hello.txt")
        raw = gh.raw_request(
            self.srv.port, b"GET /pub/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=3
        )
        self.assertNotIn(b"hello over tls", raw)
        self.assertFalse(raw.startswith(b"HTTP/1.1 200"))
        # The server keeps serving TLS clients.
        self.assertEqual(gh.curl(self.srv.url("/pub/hello.txt"), cacert=self.cert).status, 200)

    def test_playlist_urls_are_https(self):
        r = gh.curl(self.srv.url("/pub/?format=m3u"), cacert=self.cert)
        self.assertEqual(r.status, 200)
        self.assertIn(f"https://127.0.0.1:{self.srv.port}/pub/song.mp3", r.text.splitlines())
        self.assertNotIn("http://", r.text)

    def test_authentication_over_tls(self):
        self.assertEqual(gh.curl(self.srv.url("/private/hello.txt"), cacert=self.cert).status, 401)
        r = gh.curl(
            self.srv.url("/private/hello.txt"), cacert=self.cert, headers={"Authorization": gh.hello_auth("alice")}
        )
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello over tls\n")


class TlsMisconfigured(gh.GuiseTestCase):
    def run_guised(self, cert, key, test_only=False):
        port = gh.free_port()
        cfg = gh.Config(listen=f"127.0.0.1:{port}", authentication="anonymous", tls_certificate=cert, tls_key=key)
        cfg.point("pub", self.work.path)
        g = gh.Guised(self.work, cfg, name=f"bad-tls-{port}")
        g.write_config()
        args = [gh.GUISED] + (["-t"] if test_only else []) + ["-c", g.config_path]
        return subprocess.run(args, capture_output=True, text=True, timeout=20), g

    def test_key_not_matching_certificate(self):
        cert, _ = make_cert(self.work, "one")
        _, key2 = make_cert(self.work, "two")
        p, _ = self.run_guised(cert, key2)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"(?i)certificate and the given key do not match")

    def test_missing_key_file(self):
        cert, _ = make_cert(self.work, "three")
        p, g = self.run_guised(cert, self.work.join("no-such.key"), test_only=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("key 'tls-key'", p.stderr)
        self.assertIn("no-such.key", p.stderr)


if __name__ == "__main__":
    gh.main()

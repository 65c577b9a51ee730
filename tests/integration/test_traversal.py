"""Path traversal: nothing outside a publishing point is ever served,
whatever the encoding, and symlinks cannot lead out of it. The secret file
next to the point is readable by every account (0644 in 0755 directories),
so only the server's path handling stands between a client and it."""

import os

import guise_harness as gh

SECRET = b"TOP-SECRET-7f3a9c-never-serve-me"
PASSWD_MARK = b"root:x:0:0"


class Traversal(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("secret/secret.txt", SECRET + b"\n")
        w.write("pub/ok.txt", "public\n")
        w.write("pub/sub/deep.txt", "deep\n")
        w.write("pub/%2e%2e", "a file literally named %2e%2e\n")
        # Symlinks: inside the point (served), and out of it (never).
        w.symlink("pub/inside-link.txt", "sub/deep.txt")
        w.symlink("pub/link-passwd", "/etc/passwd")
        w.symlink("pub/link-secret", "../secret/secret.txt")
        w.symlink("pub/link-abs", w.join("secret/secret.txt"))
        w.symlink("pub/link-dir", "../secret")
        w.symlink("pub/sub/link-up", "../../secret/secret.txt")
        w.symlink("pub/link-proc", "/proc/self/root/etc/passwd")
        cfg = gh.Config(authentication="anonymous", authorization="fs-acl")
        cfg.point("pub", w.join("pub"))
        cls.srv = cls.start_guised_class(cfg)
        # The test is meaningful only if the secret is reachable by path.
        with open(w.join("pub", "..", "secret", "secret.txt"), "rb") as f:
            assert SECRET in f.read()

    def assertRefused(self, r, allowed=(400, 404)):
        self.assertIn(r.status, allowed, r)
        data = r.body + repr(r.headers).encode()
        self.assertNotIn(SECRET, data)
        self.assertNotIn(PASSWD_MARK, data)
        if hasattr(r, "raw"):
            self.assertNotIn(SECRET, r.raw)
            self.assertNotIn(PASSWD_MARK, r.raw)

    def curl(self, target):
        return gh.curl(f"http://127.0.0.1:{self.srv.port}{target}", path_as_is=True)

    def raw(self, target, method="GET"):
        return gh.http_request(self.srv.port, method, target)

    # positive controls: the point works, links inside it work
    def test_controls(self):
        self.assertEqual(self.curl("/pub/ok.txt").body, b"public\n")
        r = self.curl("/pub/inside-link.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"deep\n")

    TARGETS = [
        "/pub/../secret/secret.txt",
        "/pub/sub/../../secret/secret.txt",
        "/pub/./../secret/secret.txt",
        "/pub/%2e%2e/secret/secret.txt",
        "/pub/%2E%2e/secret/secret.txt",
        "/pub/.%2e/secret/secret.txt",
        "/pub/%2E%2e%2fsecret%2fsecret.txt",
        "/pub/sub%2f..%2f..%2fsecret%2fsecret.txt",
        "/pub/..%2fsecret/secret.txt",
        "/pub/..%5csecret%5csecret.txt",
        "/pub/%5c..%5c..%5csecret%5csecret.txt",
        "/pub/ok.txt%00/../../secret/secret.txt",
        "/pub/%00",
        "/pub/%c0%ae%c0%ae/secret/secret.txt",
        "/pub/%e0%80%ae%e0%80%ae/secret/secret.txt",
        "/pub/%252e%252e/secret/secret.txt",
        "/pub/%25%32%65%25%32%65/secret/secret.txt",
        "/pub/..;/secret/secret.txt",
        "/pub/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/pub/../../../../../../etc/passwd",
        "/../../../../etc/passwd",
        "/pub/link-dir/secret.txt",
    ]

    def test_encodings_with_curl(self):
        for t in self.TARGETS:
            with self.subTest(target=t):
                self.assertRefused(self.curl(t))

    def test_encodings_with_raw_socket(self):
        for t in self.TARGETS:
            with self.subTest(target=t):
                self.assertRefused(self.raw(t))

    def test_dot_segments_are_400(self):
        # Refused outright (not normalised away).
        for t in ("/pub/../secret/secret.txt", "/pub/%2e%2e/secret/secret.txt", "/pub/sub/./deep.txt"):
            with self.subTest(target=t):
                self.assertEqual(self.raw(t).status, 400)

    def test_encoded_separators_are_400(self):
        for t in ("/pub/sub%2fdeep.txt", "/pub/sub%2Fdeep.txt", "/pub/sub%5cdeep.txt", "/pub/ok.txt%00"):
            with self.subTest(target=t):
                self.assertEqual(self.raw(t).status, 400)

    def test_raw_only_targets(self):
        # Things curl would rewrite or refuse to send.
        for t in (
            "/pub/..\\secret\\secret.txt",
            "/pub/sub\\..\\..\\secret\\secret.txt",
            "pub/../secret/secret.txt",
            "../secret/secret.txt",
            "*",
            f"http://127.0.0.1:{self.srv.port}/pub/../secret/secret.txt",
            "/pub/\x01../secret/secret.txt",
            "/pub/..\t/secret/secret.txt",
        ):
            with self.subTest(target=t):
                r = self.raw(t)
                self.assertRefused(r, allowed=(400, 404, 505))

    def test_double_encoding_decodes_once(self):
        # %252e%252e is the literal name "%2e%2e": a real file here, served.
        r = self.raw("/pub/%252e%252e")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"a file literally named %2e%2e\n")

    def test_symlinks_out_of_point_404(self):
        for t in (
            "/pub/link-passwd",
            "/pub/link-secret",
            "/pub/link-abs",
            "/pub/link-dir/secret.txt",
            "/pub/link-dir/",
            "/pub/sub/link-up",
            "/pub/link-proc",
        ):
            with self.subTest(target=t):
                r = self.raw(t)
                self.assertEqual(r.status, 404, r)
                self.assertRefused(r)

    def test_symlinks_hidden_or_harmless_in_listing(self):
        r = self.curl("/pub/?format=json")
        self.assertEqual(r.status, 200)
        self.assertNotIn(SECRET, r.body)
        self.assertNotIn(PASSWD_MARK, r.body)
        # An escaping link is never listed with the target's size.
        import json

        for e in json.loads(r.body)["entries"]:
            if e["name"].startswith("link-"):
                self.assertNotEqual(e.get("size"), os.path.getsize("/etc/passwd"), e)

    def test_server_survives(self):
        for t in self.TARGETS:
            self.raw(t)
        self.assertEqual(self.curl("/pub/ok.txt").status, 200)
        self.assertTrue(self.srv.running())
        # Refusals are logged as events.
        self.srv.wait_for_event(r"refused request path|leaves the publishing point")


if __name__ == "__main__":
    gh.main()

"""The small-file cache (content-cache-ttl, content-cache-entries) through the
real guised and curl.

What it must do: keep a small file's bytes for the identity that opened it,
for at most the TTL; never answer another identity from that entry; never
keep a refusal (a new grant shows at once); leave large files alone.

Each server runs with io-threads = 1, so that every connection is served by
the same I/O thread and therefore the same per-thread table: a test that
expects a cached answer then gets one whatever connection curl opens.
"""

import os
import time

import guise_harness as gh
from guise_harness import ALICE

TTL_MS = 1500


class CacheSemantics(gh.GuiseTestCase):
    """Anonymous content; runs as any user (impersonation off without root)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.mkdir("media")
        cls.sock = w.join("admin.sock")
        cfg = gh.Config(authentication="anonymous", authorization="fs-acl", io_threads=1,
                        content_cache_ttl=TTL_MS, admin_listen=cls.sock)
        cfg.point("media", w.join("media"))
        cls.srv = cls.start_guised_class(cfg, name="cached")
        off = gh.Config(authentication="anonymous", authorization="fs-acl", io_threads=1,
                        content_cache_ttl=0, admin_listen="none")
        off.point("media", w.join("media"))
        cls.off = cls.start_guised_class(off, name="uncached")

    def get(self, path, srv=None, **kw):
        return gh.curl((srv or self.srv).url("/media/" + path), **kw)

    def rewrite(self, name, data):
        """Rewrites in place (same inode) with a new mtime."""
        p = self.work.join("media", name)
        with open(p, "wb") as f:
            f.write(data)
        t = time.time() + 10
        os.utime(p, (t, t))

    def test_edit_shows_after_the_ttl_with_a_matching_etag(self):
        self.work.write("media/edit.txt", b"one")
        r1 = self.get("edit.txt")
        self.assertEqual((r1.status, r1.body), (200, b"one"))
        t0 = time.monotonic()
        self.rewrite("edit.txt", b"two!")
        r2 = self.get("edit.txt")
        if time.monotonic() - t0 < TTL_MS / 1000 * 0.8:
            # Within the TTL the cached bytes come with their own validators.
            self.assertEqual((r2.status, r2.body), (200, b"one"))
            self.assertEqual(r2.header("ETag"), r1.header("ETag"))
            self.assertEqual(r2.header("Content-Length"), "3")
        time.sleep(TTL_MS / 1000 + 0.3)
        r3 = self.get("edit.txt", headers={"If-None-Match": r1.header("ETag")})
        self.assertEqual((r3.status, r3.body), (200, b"two!"))
        self.assertNotEqual(r3.header("ETag"), r1.header("ETag"))

    def test_ranges_and_head_come_from_the_entry(self):
        self.work.write("media/range.bin", bytes(range(200)))
        self.assertEqual(self.get("range.bin").status, 200)
        r = self.get("range.bin", headers={"Range": "bytes=10-19"})
        self.assertEqual((r.status, r.body), (206, bytes(range(10, 20))))
        self.assertEqual(r.header("Content-Range"), "bytes 10-19/200")
        h = gh.http_request(self.srv.port, "HEAD", "/media/range.bin")
        self.assertEqual((h.status, h.header("Content-Length"), h.raw.endswith(b"\r\n\r\n")), (200, "200", True))

    def test_without_cache_an_edit_shows_at_once(self):
        self.work.write("media/live.txt", b"one")
        self.assertEqual(self.get("live.txt", srv=self.off).body, b"one")
        self.rewrite("live.txt", b"two!")
        self.assertEqual(self.get("live.txt", srv=self.off).body, b"two!")

    def test_missing_files_are_not_remembered(self):
        self.assertEqual(self.get("later.txt").status, 404)
        self.work.write("media/later.txt", b"here now")
        r = self.get("later.txt")
        self.assertEqual((r.status, r.body), (200, b"here now"))

    def test_large_files_are_not_cached(self):
        big = os.urandom(64 << 10)
        self.work.write("media/big.bin", big)
        self.assertEqual(self.get("big.bin").body, big)
        big2 = os.urandom(64 << 10)
        self.rewrite("big.bin", big2)
        self.assertEqual(self.get("big.bin").body, big2)

    def test_metrics_count_hits(self):
        self.work.write("media/counted.txt", b"counted")
        hits0 = gh.metric(self.sock, "guise_content_cache_lookups_total", '{result="hit"}')
        self.assertIsNotNone(hits0)
        for _ in range(5):
            self.assertEqual(self.get("counted.txt").body, b"counted")
        hits1 = gh.metric(self.sock, "guise_content_cache_lookups_total", '{result="hit"}')
        # The first request fills the entry; the other four may find it
        # (unless the machine stalled past the TTL between two of them).
        self.assertGreaterEqual(hits1 - hits0, 1)
        self.assertLessEqual(hits1 - hits0, 4)


class SharedAnswers(gh.GuiseTestCase):
    """A whole small file's answer is built once per cache entry and queued
    again for the identity's identical requests. The same entry serves the
    anonymous identity and a hello user mapped to the same account (one
    token): their answers differ in Cache-Control, which must never leak
    from one to the other; HEAD, ranges and validators still answer as
    without sharing, and every answer carries the full set of headers."""

    HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Accept-Ranges",
               "X-Content-Type-Options", "Server")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.mkdir("media")
        w.write("media/clip.m3u8", b"#EXTM3U\n#EXT-X-VERSION:3\n")
        cls.sock = w.join("admin.sock")
        cfg = gh.Config(authorization="fs-acl", io_threads=1, content_cache_ttl=60000,
                        admin_listen=cls.sock)
        gh.hello_config(cfg, account="nobody")
        cfg.plugin("anonymous", account="nobody")
        cfg.point("media", w.join("media"))
        cls.srv = cls.start_guised_class(cfg, name="shared")
        cls.url = cls.srv.url("/media/clip.m3u8")

    def anonymous(self, **kw):
        return gh.curl(self.url, **kw)

    def hello(self, **kw):
        return gh.curl(self.url, headers={"Authorization": gh.hello_auth("alice")}, **kw)

    def headers_of(self, r):
        return {h: r.header(h) for h in self.HEADERS}

    def test_answers_alternate_without_leaking_privacy(self):
        body = b"#EXTM3U\n#EXT-X-VERSION:3\n"
        first = self.anonymous()
        self.assertEqual((first.status, first.body), (200, body))
        want = self.headers_of(first)
        self.assertTrue(all(want.values()), want)
        self.assertEqual(want["Content-Type"], "application/vnd.apple.mpegurl")
        hits0 = gh.metric(self.sock, "guise_content_cache_lookups_total", '{result="hit"}')
        for i in range(3):
            a = self.anonymous()
            self.assertEqual((a.status, a.body), (200, body))
            self.assertEqual(self.headers_of(a), want)
            self.assertIsNone(a.header("Cache-Control"), f"anonymous answer {i} says private")
            h = self.hello()
            self.assertEqual((h.status, h.body), (200, body))
            self.assertEqual(self.headers_of(h), want)
            self.assertEqual(h.header("Cache-Control"), "private", f"hello answer {i}")
        hits1 = gh.metric(self.sock, "guise_content_cache_lookups_total", '{result="hit"}')
        # One token, one entry: every request after the first found it.
        self.assertEqual(hits1 - hits0, 6)

    def test_head_range_and_validators_after_sharing(self):
        self.assertEqual(self.anonymous().status, 200)
        self.assertEqual(self.anonymous().status, 200)
        h = gh.http_request(self.srv.port, "HEAD", "/media/clip.m3u8")
        self.assertEqual((h.status, h.header("Content-Length")), (200, "25"))
        self.assertTrue(h.raw.endswith(b"\r\n\r\n"), h.raw[-40:])
        r = self.anonymous(headers={"Range": "bytes=1-6"})
        self.assertEqual((r.status, r.body, r.header("Content-Range")), (206, b"EXTM3U", "bytes 1-6/25"))
        etag = self.anonymous().header("ETag")
        r = self.anonymous(headers={"If-None-Match": etag})
        self.assertEqual((r.status, r.body), (304, b""))
        r = self.anonymous()
        self.assertEqual((r.status, len(r.body)), (200, 25))


class CacheIsolation(gh.GuiseTestCase):
    """As root, with impersonation: one server, two identities (anonymous as
    nobody, hello as guise-t-alice), files the kernel lets only one of them
    read. The cache must never carry bytes across identities or keep a
    refusal."""

    MODE = "auto"

    @classmethod
    def setUpClass(cls):
        gh.require_root("the content cache with impersonation")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        w = cls.work
        w.mkdir("c", mode=0o755, owner="root", group="root")
        cfg = gh.Config(authorization="fs-acl", impersonation=cls.MODE, io_threads=1,
                        content_cache_ttl=TTL_MS, auth_failure_delay=0, auth_lockout_failures=0)
        gh.hello_config(cfg, account=ALICE, authentication="anonymous hello")
        cfg.point("c", w.join("c"))
        cls.srv = cls.start_guised_class(cfg)

    def get(self, name, user=None):
        headers = {"Authorization": gh.hello_auth(user)} if user else None
        return gh.curl(self.srv.url("/c/" + name), headers=headers)

    def test_alice_entry_never_reaches_anonymous(self):
        secret = b"alice's secret\n"
        self.work.write("c/mine.txt", secret, mode=0o600, owner=ALICE, group=ALICE)
        for i in range(20):
            r = self.get("mine.txt", user="alice")
            self.assertEqual((r.status, r.body), (200, secret), f"alice, round {i}")
            r = self.get("mine.txt")
            self.assertEqual(r.status, 401, f"anonymous, round {i}")
            self.assertNotIn(secret, r.body)

    def test_anonymous_entry_does_not_stand_for_alice_either(self):
        # Readable by others, not by its owner alice: the kernel says no to
        # alice even while nobody's entry is fresh.
        self.work.write("c/not-alice.txt", b"others\n", mode=0o004, owner=ALICE, group=ALICE)
        for _ in range(5):
            self.assertEqual(self.get("not-alice.txt").body, b"others\n")
            self.assertEqual(self.get("not-alice.txt", user="alice").status, 403)

    def test_revocation_is_seen_within_the_ttl(self):
        p = self.work.write("c/revoked.txt", b"public for now\n", mode=0o644, owner=ALICE, group=ALICE)
        self.assertEqual(self.get("revoked.txt").status, 200)
        os.chmod(p, 0o600)
        time.sleep(TTL_MS / 1000 + 0.3)
        r = self.get("revoked.txt")
        self.assertEqual(r.status, 401)
        self.assertNotIn(b"public for now", r.body)

    def test_a_grant_is_seen_at_once(self):
        p = self.work.write("c/granted.txt", b"granted\n", mode=0o600, owner=ALICE, group=ALICE)
        self.assertEqual(self.get("granted.txt").status, 401)
        os.chmod(p, 0o644)
        r = self.get("granted.txt")
        self.assertEqual((r.status, r.body), (200, b"granted\n"))


class CacheIsolationSyscalls(CacheIsolation):
    MODE = "syscalls"


if __name__ == "__main__":
    gh.main()

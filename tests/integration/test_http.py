"""Anonymous access over HTTP with curl: listings of the server and of a
publishing point in every format, redirects, GET/HEAD, byte ranges,
validators and conditional requests, MIME types, methods."""

import email.utils
import json
import os
import socket
import time

import guise_harness as gh

# Expected Content-Type per extension (the server's built-in table, which
# wins over /etc/mime.types).
MIME = {
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "ts": "video/mp2t",
    "m3u8": "application/vnd.apple.mpegurl",
    "mpd": "application/dash+xml",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "txt": "text/plain; charset=utf-8",
    "html": "text/html; charset=utf-8",
}

DATA = bytes((i * 7 + 3) % 256 for i in range(1000))


CACHE_TTL_MS = 100


class AnonymousHttp(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        w.write("media/hello.txt", "hello, world\n")
        w.write("media/data.bin", DATA)
        w.write("media/clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
        w.write("media/song.mp3", b"ID3\x03\x00" + b"\x00" * 64)
        gh.make_wav(w.join("media/tone.wav"))
        w.mkdir("media/sub dir")
        w.write("media/sub dir/inner.txt", "inner\n")
        for ext in MIME:
            w.write(f"types/file.{ext}", f"content of .{ext}\n")
        w.write("single/only.mp3", b"ID3\x03\x00single")
        # A short small-file cache: test_etag_changes_with_content waits it
        # out (tests/integration/test_cache.py tests the cache itself).
        cfg = gh.Config(authentication="anonymous", authorization="fs-acl", content_cache_ttl=CACHE_TTL_MS)
        cfg.point("media", w.join("media"))
        cfg.point("types", w.join("types"))
        cfg.point("song", w.join("single/only.mp3"))
        cls.srv = cls.start_guised_class(cfg)

    def get(self, path, *args, **kw):
        return gh.curl(self.srv.url(path), *args, **kw)

    # ---- bodies and listings ----

    def test_get_file_200_with_body(self):
        r = self.get("/media/hello.txt")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello, world\n")
        self.assertEqual(r.header("Content-Length"), "13")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")

    def test_binary_file_exact_bytes(self):
        r = self.get("/media/data.bin")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, DATA)

    def test_single_file_point(self):
        r = self.get("/song")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"ID3\x03\x00single")
        self.assertEqual(r.header("Content-Type"), "audio/mpeg")
        # A single-file point has nothing below it.
        self.assertEqual(self.get("/song/x").status, 404)

    def test_unknown_point_404(self):
        self.assertEqual(self.get("/nosuchpoint/hello.txt").status, 404)

    def test_missing_file_404(self):
        self.assertEqual(self.get("/media/nope.txt").status, 404)

    def test_root_lists_points_html(self):
        r = self.get("/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        for name in ("media", "types", "song"):
            self.assertIn(f'href="/{name}', r.text)

    def test_root_lists_points_json(self):
        r = self.get("/?format=json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/json")
        doc = json.loads(r.body)
        names = {e["name"]: e for e in doc["entries"]}
        self.assertEqual(set(names), {"media", "types", "song"})
        self.assertEqual(names["media"]["type"], "directory")
        self.assertEqual(names["media"]["href"], "/media/")
        self.assertEqual(names["song"]["type"], "file")

    def test_root_lists_points_m3u(self):
        r = self.get("/?format=m3u")
        self.assertEqual(r.status, 200)
        lines = r.text.splitlines()
        self.assertEqual(lines[0], "#EXTM3U")
        # Only playable files: the single-file point, with an absolute URL.
        self.assertIn(f"http://127.0.0.1:{self.srv.port}/song", lines)
        self.assertFalse(any(line.endswith("/media/") for line in lines))

    def test_point_index_html_has_players(self):
        r = self.get("/media/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        t = r.text
        self.assertRegex(t, r'<video[^>]*src="/media/clip\.mp4"')
        self.assertRegex(t, r'<audio[^>]*src="/media/song\.mp3"')
        self.assertRegex(t, r'<audio[^>]*src="/media/tone\.wav"')
        self.assertNotRegex(t, r'<(audio|video)[^>]*hello\.txt')
        self.assertIn('href="/media/sub%20dir/"', t)

    def test_point_index_json(self):
        r = self.get("/media/?format=json")
        self.assertEqual(r.status, 200)
        doc = json.loads(r.body)
        self.assertEqual(doc["path"], "/media/")
        ents = {e["name"]: e for e in doc["entries"]}
        self.assertEqual(ents["data.bin"]["size"], 1000)
        self.assertEqual(ents["data.bin"]["type"], "file")
        self.assertEqual(ents["sub dir"]["type"], "directory")
        self.assertEqual(ents["tone.wav"]["mime"], "audio/wav")
        self.assertEqual(ents["hello.txt"]["href"], "/media/hello.txt")
        st = os.stat(self.work.join("media/data.bin"))
        self.assertEqual(ents["data.bin"]["mtime"], int(st.st_mtime))

    def test_point_index_m3u(self):
        r = self.get("/media/?format=m3u")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "audio/x-mpegurl")
        lines = r.text.splitlines()
        self.assertEqual(lines[0], "#EXTM3U")
        urls = [line for line in lines if line and not line.startswith("#")]
        base = f"http://127.0.0.1:{self.srv.port}/media/"
        self.assertEqual(sorted(urls), sorted(base + n for n in ("clip.mp4", "song.mp3", "tone.wav")))
        self.assertTrue(any(line.startswith("#EXTINF:") for line in lines))

    def test_subdirectory_index(self):
        r = self.get("/media/sub%20dir/?format=json")
        self.assertEqual(r.status, 200)
        self.assertEqual([e["name"] for e in json.loads(r.body)["entries"]], ["inner.txt"])
        self.assertEqual(self.get("/media/sub%20dir/inner.txt").body, b"inner\n")

    def test_bad_index_format_400(self):
        self.assertEqual(self.get("/media/?format=xml").status, 400)

    def test_directory_without_slash_redirects(self):
        r = self.get("/media")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "/media/")
        r = self.get("/media/sub%20dir")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "/media/sub%20dir/")

    # ---- HEAD ----

    def test_head_has_headers_no_body(self):
        r = gh.http_request(self.srv.port, "HEAD", "/media/data.bin")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "1000")
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertEqual(r.body, b"", "HEAD answer carries a body")
        g = self.get("/media/data.bin")
        self.assertEqual(r.header("ETag"), g.header("ETag"))

    def test_head_with_curl(self):
        r = self.get("/media/hello.txt", head=True)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "13")

    # ---- ranges ----

    def test_range_first_bytes(self):
        r = self.get("/media/data.bin", headers={"Range": "bytes=0-99"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), "bytes 0-99/1000")
        self.assertEqual(r.body, DATA[:100])
        self.assertEqual(r.header("Content-Length"), "100")

    def test_range_middle(self):
        r = self.get("/media/data.bin", "-r", "500-509")
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), "bytes 500-509/1000")
        self.assertEqual(r.body, DATA[500:510])

    def test_range_suffix(self):
        r = self.get("/media/data.bin", headers={"Range": "bytes=-100"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), "bytes 900-999/1000")
        self.assertEqual(r.body, DATA[900:])

    def test_range_open_ended(self):
        r = self.get("/media/data.bin", headers={"Range": "bytes=990-"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), "bytes 990-999/1000")
        self.assertEqual(r.body, DATA[990:])

    def test_range_end_past_size_is_clamped(self):
        r = self.get("/media/data.bin", headers={"Range": "bytes=995-5000"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), "bytes 995-999/1000")
        self.assertEqual(r.body, DATA[995:])

    def test_range_unsatisfiable_416(self):
        r = self.get("/media/data.bin", headers={"Range": "bytes=1000-1100"})
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("Content-Range"), "bytes */1000")
        self.assertNotIn(DATA[:50], r.body)

    def test_range_syntax_error_ignored(self):
        r = self.get("/media/data.bin", headers={"Range": "bytes=abc"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, DATA)

    def test_if_range_matching_etag(self):
        etag = self.get("/media/data.bin").header("ETag")
        self.assertTrue(etag)
        r = self.get("/media/data.bin", headers={"Range": "bytes=10-19", "If-Range": etag})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, DATA[10:20])

    def test_if_range_other_etag_sends_all(self):
        r = self.get("/media/data.bin", headers={"Range": "bytes=10-19", "If-Range": '"not-the-etag"'})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, DATA)
        self.assertIsNone(r.header("Content-Range"))

    def test_if_range_date(self):
        lm = self.get("/media/data.bin").header("Last-Modified")
        r = self.get("/media/data.bin", headers={"Range": "bytes=0-9", "If-Range": lm})
        self.assertEqual(r.status, 206)
        old = email.utils.formatdate(time.time() - 86400 * 400, usegmt=True)
        r = self.get("/media/data.bin", headers={"Range": "bytes=0-9", "If-Range": old})
        self.assertEqual(r.status, 200)

    # ---- validators ----

    def test_validators_present(self):
        r = self.get("/media/data.bin")
        self.assertRegex(r.header("ETag") or "", r'^"[^"]+"$')
        st = os.stat(self.work.join("media/data.bin"))
        self.assertEqual(r.header("Last-Modified"), email.utils.formatdate(int(st.st_mtime), usegmt=True))
        self.assertEqual(r.header("Accept-Ranges"), "bytes")

    def test_if_none_match_304(self):
        etag = self.get("/media/data.bin").header("ETag")
        r = self.get("/media/data.bin", headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        r = self.get("/media/data.bin", headers={"If-None-Match": '"other"'})
        self.assertEqual(r.status, 200)
        r = self.get("/media/data.bin", headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 304)

    def test_if_modified_since_304(self):
        lm = self.get("/media/data.bin").header("Last-Modified")
        r = self.get("/media/data.bin", headers={"If-Modified-Since": lm})
        self.assertEqual(r.status, 304)
        old = email.utils.formatdate(time.time() - 86400 * 400, usegmt=True)
        r = self.get("/media/data.bin", headers={"If-Modified-Since": old})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, DATA)

    def test_if_none_match_wins_over_if_modified_since(self):
        lm = self.get("/media/data.bin").header("Last-Modified")
        r = self.get("/media/data.bin", headers={"If-None-Match": '"other"', "If-Modified-Since": lm})
        self.assertEqual(r.status, 200)

    def test_if_match_failure_412(self):
        r = self.get("/media/data.bin", headers={"If-Match": '"other"'})
        self.assertEqual(r.status, 412)

    def test_etag_changes_with_content(self):
        p = self.work.write("media/changing.txt", "one")
        e1 = self.get("/media/changing.txt").header("ETag")
        with open(p, "w") as f:
            f.write("two!")
        os.utime(p, (time.time() + 5, time.time() + 5))
        time.sleep(CACHE_TTL_MS / 1000 + 0.1)
        r = self.get("/media/changing.txt", headers={"If-None-Match": e1})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"two!")
        self.assertNotEqual(r.header("ETag"), e1)

    # ---- types and methods ----

    def test_mime_types(self):
        for ext, want in MIME.items():
            with self.subTest(ext=ext):
                r = self.get(f"/types/file.{ext}")
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("Content-Type"), want)

    def test_post_405_with_allow(self):
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            with self.subTest(method=method):
                args = ["--data", "x=1"] if method in ("POST", "PUT") else []
                r = self.get("/media/hello.txt", *args, method=method)
                self.assertEqual(r.status, 405)
                self.assertEqual(r.header("Allow"), "GET, HEAD")
                self.assertNotIn(b"hello, world", r.body)

    def test_keep_alive_several_requests(self):
        line = gh.raw_request(
            self.srv.port,
            b"GET /media/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /media/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        self.assertEqual(line.count(b"HTTP/1.1 200 OK"), 2)
        self.assertEqual(line.count(b"hello, world\n"), 2)

    def test_access_log_line(self):
        self.get("/media/hello.txt", headers={"User-Agent": "integration-agent"})
        self.srv.wait_for_access(
            r'^127\.0\.0\.1 anonymous \S+ \[[^]]+\] "GET /media/hello\.txt HTTP/1\.1" 200 13 "-" '
            r'"integration-agent" Anonymous media \d+$'
        )


def exchange(port, data, timeout=3.0):
    """Sends raw bytes; returns (everything received, closed by the server)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        while True:
            try:
                c = s.recv(65536)
            except socket.timeout:
                return got, False
            except ConnectionResetError:
                return got, True
            if not c:
                return got, True
            got += c


class RequestFraming(gh.GuiseTestCase):
    """Request-smuggling primitives (issue 14): a head whose body framing is
    ambiguous gets 400 and the connection closed, before libmicrohttpd
    (0.9.75, which is lenient here) interprets it. Raw bytes, no client
    library in between."""

    HEAD = b"GET /pub/a.txt HTTP/1.1\r\nHost: x\r\n"
    NEXT = b"GET /pub/a.txt HTTP/1.1\r\nHost: x\r\n\r\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work.write("pub/a.txt", "a\n")
        cfg = gh.Config(authentication="anonymous", max_header_size=8192)
        cfg.point("pub", cls.work.join("pub"))
        cls.srv = cls.start_guised_class(cfg)

    def assertRefused(self, fields, status=400, body=b""):
        got, closed = exchange(self.srv.port, self.HEAD + fields + b"\r\n" + body + self.NEXT)
        self.assertTrue(got.startswith(b"HTTP/1.1 %d " % status), got[:200])
        self.assertTrue(closed, "the connection stayed open")
        # Nothing after the refused head was taken for a request.
        self.assertEqual(got.count(b"HTTP/1.1 200 "), 0, got)
        self.assertIn(b"\r\nConnection: close\r\n", got)
        return got

    def test_two_different_content_lengths(self):
        got = self.assertRefused(b"Content-Length: 5\r\nContent-Length: 42\r\n", body=b"hello")
        self.assertEqual(got.count(b"HTTP/1.1 "), 1, got)

    def test_two_equal_content_lengths(self):
        self.assertRefused(b"Content-Length: 5\r\nContent-Length: 5\r\n", body=b"hello")

    def test_content_length_with_chunked(self):
        self.assertRefused(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", body=b"0\r\n\r\n")

    def test_space_before_colon(self):
        self.assertRefused(b"Content-Length : 42\r\n")

    def test_unknown_transfer_coding(self):
        self.assertRefused(b"Transfer-Encoding: xchunked\r\n")

    def test_chunked_with_trailing_space(self):
        self.assertRefused(b"Transfer-Encoding: chunked \r\n", body=b"0\r\n\r\n")

    def test_coding_list(self):
        self.assertRefused(b"Transfer-Encoding: gzip, chunked\r\n", body=b"0\r\n\r\n")

    def test_signed_content_length(self):
        # libmicrohttpd refuses this one itself, before guised sees it.
        self.assertRefused(b"Content-Length: +5\r\n", body=b"hello")

    def test_event_names_the_reason(self):
        start = len(self.srv.events())
        self.assertRefused(b"Content-Length: 1\r\nContent-Length: 2\r\n", body=b"x")
        self.srv.wait_for_event(r"refused request: Content-Length appears more than once", start=start)

    def test_header_over_max_header_size(self):
        # 9,000 bytes of one field against max-header-size = 8192.
        self.assertRefused(b"X-Big: " + b"a" * 9000 + b"\r\n", status=431)

    def test_header_just_under_max_header_size_passes(self):
        got, _ = exchange(self.srv.port, self.HEAD + b"X-Big: " + b"a" * 7000 + b"\r\nConnection: close\r\n\r\n")
        self.assertTrue(got.startswith(b"HTTP/1.1 200 "), got[:200])

    def test_single_chunked_body_stays_legal(self):
        # The broadcast ingest's chunked PUT/POST bodies: one valid coding
        # keeps the connection (here a GET with an empty chunked body).
        got, closed = exchange(self.srv.port, self.HEAD + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + self.NEXT)
        self.assertTrue(got.startswith(b"HTTP/1.1 200 "), got[:200])
        self.assertEqual(got.count(b"HTTP/1.1 200 "), 2, got)

    def test_single_content_length_stays_legal(self):
        got, closed = exchange(self.srv.port, self.HEAD + b"Content-Length: 0\r\n\r\n" + self.NEXT)
        self.assertEqual(got.count(b"HTTP/1.1 200 "), 2, got)


class ActiveContentAndIndexes(gh.GuiseTestCase):
    """Issue 14, low and info findings: HTML and SVG from a point never run
    live on the server's origin unless the point says active-content = on;
    redirects and M3U URLs never come from what the client wrote."""

    PAGE = b"<html><script>fetch('/other/secret.txt')</script></html>\n"
    SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.work
        for d in ("site", "off", "on"):
            w.write(f"{d}/page.html", cls.PAGE)
            w.write(f"{d}/pic.svg", cls.SVG)
            w.write(f"{d}/a.txt", "a\n")
            w.write(f"{d}/song.mp3", b"ID3\x03\x00" + b"\x00" * 64)
        cfg = gh.Config(authentication="anonymous")
        cfg.point("site", w.join("site"))
        cfg.point("off", w.join("off"), active_content="off")
        cfg.point("on", w.join("on"), active_content="on")
        cls.srv = cls.start_guised_class(cfg)
        pub = gh.Config(authentication="anonymous", public_url="https://media.example:8443/")
        pub.point("site", w.join("site"))
        cls.pub = cls.start_guised_class(pub, name="public-url")

    def get(self, srv, target, headers=None):
        return gh.http_request(srv.port, "GET", target, headers)

    def test_html_and_svg_are_sandboxed_by_default(self):
        for name, ctype in (("page.html", "text/html"), ("pic.svg", "image/svg+xml")):
            r = self.get(self.srv, f"/site/{name}")
            self.assertEqual(r.status, 200)
            self.assertTrue(r.header("Content-Type").startswith(ctype), r.header("Content-Type"))
            self.assertEqual(r.header("Content-Security-Policy"), "sandbox")
        # Twice more: the small-file cache's shared answer carries it too.
        for _ in range(2):
            self.assertEqual(self.get(self.srv, "/site/page.html").header("Content-Security-Policy"), "sandbox")

    def test_active_content_off_serves_markup_as_text(self):
        r = self.get(self.srv, "/off/page.html")
        self.assertEqual((r.status, r.body), (200, self.PAGE))
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(r.header("Content-Security-Policy"), "sandbox")

    def test_active_content_on_is_live(self):
        r = self.get(self.srv, "/on/page.html")
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertIsNone(r.header("Content-Security-Policy"))

    def test_other_types_are_untouched(self):
        for name in ("a.txt", "song.mp3"):
            self.assertIsNone(self.get(self.srv, f"/site/{name}").header("Content-Security-Policy"))

    def test_double_slash_redirect_stays_on_this_host(self):
        for target in ("//site", "///site", "//site//"):
            r = self.get(self.srv, target)
            if r.status == 301:
                self.assertEqual(r.header("Location"), "/site/", target)
        r = self.get(self.srv, "//site")
        self.assertEqual((r.status, r.header("Location")), (301, "/site/"))

    def test_m3u_without_public_url_varies_on_host(self):
        r = self.get(self.srv, "/site/?format=m3u")
        self.assertEqual(r.status, 200)
        self.assertIn(f"http://127.0.0.1:{self.srv.port}/site/song.mp3".encode(), r.body)
        self.assertIn("Host", (r.header("Vary") or ""))
        self.assertEqual(r.header("Cache-Control"), "no-cache")

    def test_m3u_with_public_url_ignores_host(self):
        raw = gh.raw_request(self.pub.port, b"GET /site/?format=m3u HTTP/1.1\r\nHost: evil.example\r\n"
                             b"Connection: close\r\n\r\n")
        r = gh.parse_response(raw)
        self.assertEqual(r.status, 200)
        self.assertIn(b"https://media.example:8443/site/song.mp3", r.body)
        self.assertNotIn(b"evil.example", r.body)
        self.assertIsNone(r.header("Vary"))

    def test_anonymous_listings_say_no_cache(self):
        for fmt in ("html", "json"):
            r = self.get(self.srv, f"/site/?format={fmt}")
            self.assertEqual((r.status, r.header("Cache-Control")), (200, "no-cache"), fmt)

    def test_empty_if_range_sends_everything(self):
        r = self.get(self.srv, "/site/a.txt", [("Range", "bytes=0-0"), ("If-Range", "")])
        self.assertEqual((r.status, r.body), (200, b"a\n"))
        r = self.get(self.srv, "/site/a.txt", [("Range", "bytes=0-0")])
        self.assertEqual((r.status, r.body), (206, b"a"))


if __name__ == "__main__":
    gh.main()

"""Broadcast publishing points through the real guised, with real encoders
and players (ffmpeg, ffprobe, curl, raw sockets), as root so that the kernel
decides who publishes and who watches:

- ffmpeg pushes a test pattern (lavfi testsrc + sine, -re, H.264 + AAC in
  MPEG-TS) with HTTP PUT and Digest; the playlist and segments are created
  as the publisher's account (owner checked), the live playlist slides, it
  ends with #EXT-X-ENDLIST, the recording is complete and decodes;
- ffprobe decodes the HLS playlist and ffmpeg the progressive stream
  (/POINT/live) as an account the directory's default ACL lets read; an
  account it does not gets 403 for the playlist, a segment and the
  progressive stream, in the same run;
- refusals: wrong password (401), an account without pp-acl write (403),
  an account pp-acl allows but the kernel refuses (no write permission on
  the directory: 403 and an event naming the kernel's refusal), a second
  publisher (409), an unknown content type (415), a body that is not a
  stream (400 and an event), a stalled publisher (cut off, event), a
  publisher killed mid-stream (playlist ended, event), takeover;
- SIGHUP during a live stream: it keeps going; an Icecast source
  (ffmpeg -f mp3 icecast://, Basic) played by ffmpeg.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

import guise_harness as gh

REALM = "live-it"
PW = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
GUISECTL = gh.GUISECTL


def digest_users(work):
    import hashlib

    lines = "".join(f"{u}:{REALM}:{hashlib.md5(f'{u}:{REALM}:{p}'.encode()).hexdigest()}\n" for u, p in PW.items())
    return work.write("users.digest", lines, mode=0o600)


def push(url, seconds, extra=(), fmt="mpegts"):
    """An ffmpeg encoder pushing a live test pattern for `seconds`."""
    cmd = [FFMPEG, "-nostdin", "-loglevel", "error", "-re",
           "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
           "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
           "-c:a", "aac", "-b:a", "64k", "-f", fmt, "-method", "PUT", *extra, url]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_file(path, timeout=15, contains=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                data = f.read()
            if contains is None or contains in data:
                return data
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{path} did not appear" + (f" with {contains!r}" if contains else ""))


def decoded_frames(url, seconds=None, kind="v"):
    """Frames ffprobe decodes from url (video by default)."""
    cmd = [FFPROBE, "-v", "error", "-select_streams", f"{kind}:0", "-count_frames",
           "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"]
    if seconds:
        cmd += ["-read_intervals", f"%+{seconds}"]
    p = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=60)
    m = re.search(r"(\d+)", p.stdout)  # the first stream's count
    return int(m.group(1)) if m else 0


def digest_header(port, method, uri, user):
    """An Authorization header for one request, from a fresh challenge."""
    import hashlib

    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(f"{method} {uri} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    head = s.recv(65536).decode()
    s.close()
    nonce = re.search(r'nonce="([^"]+)"', head).group(1)
    ha1 = hashlib.md5(f"{user}:{REALM}:{PW[user]}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    cnonce = "0a4f113b"
    resp = hashlib.md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", '
            f'algorithm=MD5, qop=auth, nc=00000001, cnonce="{cnonce}", response="{resp}"')


def auth_url(srv, user, path):
    return srv.url(path).replace("://", f"://{user}:{PW[user]}@", 1)


@unittest.skipUnless(FFMPEG and FFPROBE, "needs ffmpeg and ffprobe")
class Broadcast(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        gh.require_root("creating live files as the publisher's account")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        w = cls.work
        w.mkdir("state", mode=0o700)
        digest_users(w)
        w.write("accounts.map", f"alice {gh.ALICE}\nbob {gh.BOB}\ncarol {gh.CAROL}\n", mode=0o600)
        # Who watches is said with a default ACL: staff reads what the
        # publisher creates, others do not; staff may write (publish).
        for name in ("lecture", "locked", "stall", "takeover", "garbage", "hup"):
            w.mkdir(name, mode=0o2775, group=gh.STAFF)
            subprocess.run(["setfacl", "-d", "-m", f"u::rw,g::r,o::-,g:{gh.STAFF}:r,m::r", w.join(name)],
                           check=True)
        cfg = gh.Config(authentication="digest", authorization="fs-acl", realm=REALM,
                        state_directory=w.join("state"), auth_failure_delay=0,
                        auth_lockout_failures=0, impersonation="auto")
        cfg.server["admin-listen"] = w.join("admin.sock")
        # MD5 only: the user file holds MD5 HA1s (curl takes the first challenge)
        cfg.plugin("digest", user_file=w.join("users.digest"), account_map=w.join("accounts.map"),
                   algorithms="MD5")
        common = dict(type="broadcast", source="push", authorization="pp-acl",
                      hls_segment_seconds=1, hls_window=4)
        cfg.point("lecture", w.join("lecture"), write="user:alice", record="yes", **common)
        # pp-acl lets bob publish here, the kernel does not (bob is not staff)
        cfg.point("locked", w.join("locked"), write="user:alice user:bob", **common)
        cfg.point("stall", w.join("stall"), write="user:alice", stall_timeout=2, **common)
        cfg.point("takeover", w.join("takeover"), write="user:alice user:carol", takeover="yes",
                  **common)
        cfg.point("garbage", w.join("garbage"), write="user:alice", **common)
        cfg.point("hup", w.join("hup"), write="user:alice", **common)
        cls.cfg = cfg
        cls.srv = cls.start_guised_class(cfg)

    def put(self, user, point, data=b"", ctype="video/mp2t", password=None):
        # a file, not stdin: curl sends the body again after the challenge
        body_file = self.work.join(f"body-{point}-{user}")
        with open(body_file, "wb") as f:
            f.write(data)
        args = ["--digest", "-u", f"{user}:{password or PW[user]}", "--data-binary", f"@{body_file}"]
        if ctype:
            args += ["-H", f"Content-Type: {ctype}"]
        cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", "PUT", *args,
               self.srv.url(f"/{point}/")]
        p = subprocess.run(cmd, capture_output=True, timeout=30)
        body, _, code = p.stdout.rpartition(b"\n")
        return int(code or 0), body.decode(errors="replace")

    def test_publish_watch_and_record(self):
        d = self.work.join("lecture")
        enc = push(auth_url(self.srv, "alice", "/lecture/"), 8)
        try:
            wait_file(os.path.join(d, "index.m3u8"), contains=b"#EXTINF")
            self.srv.wait_for_event(r"point lecture: publisher alice \(account guise-t-alice\) from 127\.0\.0\.1 connected")
            # created as the publisher, readable by staff through the default ACL
            st = os.stat(os.path.join(d, "index.m3u8"))
            self.assertEqual(st.st_uid, gh.TestAccounts.uid(gh.ALICE))
            # one publisher at a time
            code, body = self.put("alice", "lecture", b"\x47" * 188 * 10)
            self.assertEqual(code, 409, body)
            self.assertIn("already has a publisher", body)
            self.srv.wait_for_event(r"point lecture: publisher alice .* refused: the point already has a publisher")
            # the admin interface sees the publisher and the stream
            sock = self.work.join("admin.sock")
            p = subprocess.run([GUISECTL, "-s", sock, "points"], capture_output=True, text=True, timeout=30)
            self.assertRegex(p.stdout, r"lecture .* live alice as guise-t-alice, \d+ listener")
            p = subprocess.run([GUISECTL, "-s", sock, "--json", "points"], capture_output=True, text=True,
                               timeout=30)
            live = next(x for x in json.loads(p.stdout)["points"] if x["name"] == "lecture")["live"]
            self.assertEqual(live["publisher"]["format"], "mpegts")
            self.assertIn("h264 320x240", live["publisher"]["codecs"])
            self.assertGreater(live["publisher"]["bytes_in"], 0)
            self.assertEqual(gh.metric(sock, "guise_live_up", '{point="lecture"}'), 1)
            self.assertGreater(gh.metric(sock, "guise_live_segments_written_total", '{point="lecture"}'), 0)
            # an authorized viewer decodes the progressive stream and HLS
            self.assertGreater(decoded_frames(auth_url(self.srv, "carol", "/lecture/live"), seconds=2), 10)
            self.assertGreater(gh.metric(sock, "guise_live_bytes_out_total", '{point="lecture"}'), 0)
            self.assertGreater(decoded_frames(auth_url(self.srv, "carol", "/lecture/index.m3u8"), seconds=2), 10)
            # bob may not read what alice created: refused in the same run
            r = gh.curl(self.srv.url("/lecture/index.m3u8"), "--digest", "-u", f"bob:{PW['bob']}")
            self.assertEqual(r.status, 403)
            seg = next(n for n in os.listdir(d) if n.startswith("seg-"))
            r = gh.curl(self.srv.url(f"/lecture/{seg}"), "--digest", "-u", f"bob:{PW['bob']}")
            self.assertEqual(r.status, 403)
            r = gh.curl(self.srv.url("/lecture/live"), "--digest", "-u", f"bob:{PW['bob']}")
            self.assertEqual(r.status, 403)
            r = gh.curl(self.srv.url(f"/lecture/{seg}"), "--digest", "-u", f"carol:{PW['carol']}")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body[0], 0x47)
            self.assertEqual(r.header("Cache-Control"), "private, max-age=86400, immutable")
            r = gh.curl(self.srv.url("/lecture/index.m3u8"), "--digest", "-u", f"carol:{PW['carol']}")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Cache-Control"), "private, no-cache")
            self.assertIn(b"#EXTM3U", r.body)
        finally:
            _, err = enc.communicate(timeout=60)
        self.assertEqual(enc.returncode, 0, err)
        self.srv.wait_for_event(r"point lecture: publisher alice .* disconnected \(finished\)", timeout=10)
        pl = wait_file(os.path.join(d, "index.m3u8"), contains=b"#EXT-X-ENDLIST").decode()
        self.assertLessEqual(pl.count("#EXTINF"), 4)  # the sliding window
        segs = [n for n in os.listdir(d) if n.startswith("seg-")]
        self.assertLessEqual(len(segs), 4 + 3)  # older segments removed
        recs = [n for n in os.listdir(d) if n.startswith("recording-")]
        self.assertEqual(len(recs), 1, os.listdir(d))
        self.assertTrue(recs[0].endswith(".ts"))
        rec = os.path.join(d, recs[0])
        self.assertEqual(os.stat(rec).st_uid, gh.TestAccounts.uid(gh.ALICE))
        # the recording is the whole event: 8 s at 25 fps
        self.assertGreaterEqual(decoded_frames(rec), 190)
        # and an on-demand item for staff
        self.assertGreaterEqual(decoded_frames(auth_url(self.srv, "carol", f"/lecture/{recs[0]}")), 190)

    def test_refusals(self):
        ts = b"\x47" * 188 * 4
        code, _ = self.put("alice", "locked", ts, password="wrong")
        self.assertEqual(code, 401)
        code, body = self.put("bob", "lecture", ts)
        self.assertEqual(code, 403, body)
        # pp-acl says yes, the kernel says no: bob cannot write in the directory
        code, body = self.put("bob", "locked", ts)
        self.assertEqual(code, 403, body)
        self.assertIn("kernel refused", body)
        self.srv.wait_for_event(r"point locked: publisher bob \(account guise-t-bob\) from 127\.0\.0\.1 refused: "
                                r"the kernel refused creating a file in the point's directory as account guise-t-bob: Permission denied")
        self.assertEqual([n for n in os.listdir(self.work.join("locked"))], [])
        code, body = self.put("alice", "locked", b"<html></html>", ctype="text/html")
        self.assertEqual(code, 415, body)
        # a publishing method on a file below the point
        r = gh.curl(self.srv.url("/locked/x.ts"), "--digest", "-u", f"alice:{PW['alice']}", "-X", "PUT",
                    "--data-binary", "x")
        self.assertEqual(r.status, 404)

    def test_garbage_body(self):
        junk = os.urandom(6 << 20)
        code, body = self.put("alice", "garbage", junk)
        self.assertIn(code, (400, 0), body)  # 0: cut off while still sending
        self.srv.wait_for_event(r"point garbage: publisher alice .* disconnected \(bad-stream\)", timeout=20)
        # the point is free again
        enc = push(auth_url(self.srv, "alice", "/garbage/"), 2)
        _, err = enc.communicate(timeout=60)
        self.assertEqual(enc.returncode, 0, err)

    def test_stalled_publisher(self):
        # a real start of a stream, then silence
        sample = self.work.join("sample.ts")
        subprocess.run([FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=160x120:rate=25", "-t", "1", "-c:v", "libx264", "-preset",
                        "ultrafast", "-f", "mpegts", sample], check=True)
        data = open(sample, "rb").read()
        auth = digest_header(self.srv.port, "PUT", "/stall/", "alice")
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=20)
        s.sendall((f"PUT /stall/ HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                   "Content-Type: video/mp2t\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
        s.sendall(b"%x\r\n" % len(data) + data + b"\r\n")
        self.srv.wait_for_event(r"point stall: publisher alice .* disconnected \(stalled\): no data from the publisher for 2000 ms",
                                timeout=15)
        # the server cut the connection
        s.settimeout(10)
        rest = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                rest += b
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        wait_file(self.work.join("stall", "index.m3u8"), contains=b"#EXT-X-ENDLIST", timeout=5)

    def test_killed_publisher_and_takeover(self):
        d = self.work.join("takeover")
        enc = push(auth_url(self.srv, "alice", "/takeover/"), 30)
        wait_file(os.path.join(d, "index.m3u8"), contains=b"#EXTINF")
        # carol takes over (takeover = yes): alice's stream ends, carol's goes on
        enc2 = push(auth_url(self.srv, "carol", "/takeover/"), 3)
        self.srv.wait_for_event(r"point takeover: publisher carol .* takes over from alice")
        self.srv.wait_for_event(r"point takeover: publisher alice .* disconnected \(stopped\): replaced by another publisher",
                                timeout=10)
        enc.wait(timeout=20)
        _, err = enc2.communicate(timeout=60)
        self.assertEqual(enc2.returncode, 0, err)
        self.srv.wait_for_event(r"point takeover: publisher carol .* disconnected \(finished\)", timeout=10)
        self.assertEqual(os.stat(os.path.join(d, "index.m3u8")).st_uid, gh.TestAccounts.uid(gh.CAROL))
        # a publisher killed mid-stream: the point goes offline, playlist ended
        enc = push(auth_url(self.srv, "alice", "/takeover/"), 30)
        time.sleep(3)
        wait_file(os.path.join(d, "index.m3u8"), contains=b"#EXTINF")
        enc.kill()
        enc.wait()
        self.srv.wait_for_event(r"point takeover: publisher alice .* disconnected \(stopped\): the publisher's connection closed",
                                timeout=15)
        pl = wait_file(os.path.join(d, "index.m3u8"), contains=b"#EXT-X-ENDLIST")
        self.assertIn(b"#EXTINF", pl)
        r = gh.curl(self.srv.url("/takeover/live"), "--digest", "-u", f"carol:{PW['carol']}")
        self.assertEqual(r.status, 503)
        # an administrator cuts a publisher
        n0 = len(self.srv.events())
        enc = push(auth_url(self.srv, "alice", "/takeover/"), 30)
        self.srv.wait_for_event(r"point takeover: publisher alice .* connected", start=n0, timeout=10)
        time.sleep(2)
        p = subprocess.run([GUISECTL, "-s", self.work.join("admin.sock"), "points", "disconnect", "takeover"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.srv.wait_for_event(r"point takeover: publisher alice .* disconnected \(stopped\): disconnected by an administrator",
                                timeout=10)
        enc.wait(timeout=20)

    def test_sighup_keeps_stream(self):
        d = self.work.join("hup")
        enc = push(auth_url(self.srv, "alice", "/hup/"), 7)
        wait_file(os.path.join(d, "index.m3u8"), contains=b"#EXTINF")
        before = set(os.listdir(d))
        self.srv.reload(self.cfg)
        _, err = enc.communicate(timeout=60)
        self.assertEqual(enc.returncode, 0, err)
        self.srv.wait_for_event(r"point hup: publisher alice .* disconnected \(finished\)", timeout=10)
        # segments kept coming after the reload, from the same stream
        self.assertTrue(set(n for n in os.listdir(d) if n.startswith("seg-")) - before)
        self.assertEqual(len(re.findall(r"point hup: publisher alice .* connected", self.srv.events())), 1)


def base_config(w):
    cfg = gh.Config(authentication="digest", authorization="fs-acl", realm=REALM,
                    state_directory=w.join("state"), auth_failure_delay=0,
                    auth_lockout_failures=0, impersonation="auto")
    cfg.plugin("digest", user_file=w.join("users.digest"), account_map=w.join("accounts.map"),
               algorithms="MD5")
    return cfg


@unittest.skipUnless(FFMPEG and FFPROBE, "needs ffmpeg and ffprobe")
class AudioSlowAndShutdown(gh.GuiseTestCase):
    """Icecast-style audio sources (PUT audio/mpeg with ice-* headers, the
    legacy SOURCE method), a slow listener dropped while a fast one plays,
    and SIGTERM during a live stream."""

    @classmethod
    def setUpClass(cls):
        gh.require_root("creating live files as the publisher's account")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        w = cls.work
        w.mkdir("state", mode=0o700)
        digest_users(w)
        w.write("accounts.map", f"alice {gh.ALICE}\nbob {gh.BOB}\ncarol {gh.CAROL}\n", mode=0o600)
        for name in ("radio", "source", "slow", "term"):
            w.mkdir(name, mode=0o2775, group=gh.STAFF)
        cls.mp3 = w.join("tone.mp3")
        subprocess.run([FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "sine=frequency=440:sample_rate=44100", "-t", "3", "-c:a", "libmp3lame",
                        "-b:a", "128k", cls.mp3], check=True)

    def config(self):
        w = self.work
        cfg = base_config(w)
        cfg.server["admin-listen"] = w.join(f"admin-{self._testMethodName}.sock")
        common = dict(type="broadcast", authorization="pp-acl", write="user:alice",
                      hls_segment_seconds=1, hls_window=4)
        cfg.point("radio", w.join("radio"), **common)
        cfg.point("source", w.join("source"), record="yes", **common)
        # a small ring: a listener 64 KiB behind is dropped
        cfg.point("slow", w.join("slow"), fanout_bytes=65536, burst_bytes=0, **common)
        cfg.point("term", w.join("term"), record="yes", **common)
        return cfg

    def test_audio_put_with_ice_headers(self):
        srv = self.start_guised(self.config())
        enc = subprocess.Popen([FFMPEG, "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
                                "sine=frequency=440:sample_rate=44100", "-t", "8", "-c:a", "libmp3lame",
                                "-b:a", "128k", "-f", "mp3", "-method", "PUT", "-content_type", "audio/mpeg",
                                "-headers", "ice-name: Test radio\r\nice-public: 0\r\n",
                                auth_url(srv, "alice", "/radio/")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            srv.wait_for_event(r"point radio: publisher alice \(account guise-t-alice\) .* connected")
            wait_file(self.work.join("radio", "index.m3u8"), contains=b"#EXTINF")
            url = auth_url(srv, "carol", "/radio/live")
            p = subprocess.run([FFPROBE, "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0",
                                url], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.stdout.strip(), "mp3")
            self.assertGreater(decoded_frames(url, seconds=2, kind="a"), 20)
        finally:
            _, err = enc.communicate(timeout=60)
        self.assertEqual(enc.returncode, 0, err)
        srv.wait_for_event(r"point radio: publisher alice .* disconnected \(finished\)", timeout=10)

    def test_legacy_source_method(self):
        srv = self.start_guised(self.config())
        data = open(self.mp3, "rb").read()
        auth = digest_header(srv.port, "SOURCE", "/source/", "alice")
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
        s.sendall((f"SOURCE /source/ HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                   f"Content-Type: audio/mpeg\r\nice-name: legacy\r\nContent-Length: {len(data)}\r\n\r\n").encode()
                  + data)
        raw = b""
        while b"\r\n\r\n" not in raw:
            b = s.recv(65536)
            if not b:
                break
            raw += b
        s.close()
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw[:200])
        srv.wait_for_event(r"point source: publisher alice .* disconnected \(finished\)", timeout=10)
        recs = [n for n in os.listdir(self.work.join("source")) if n.startswith("recording-")]
        self.assertEqual(len(recs), 1)
        self.assertTrue(recs[0].endswith(".mp3"))
        self.assertGreater(decoded_frames(self.work.join("source", recs[0]), kind="a"), 100)

    def test_slow_listener_dropped(self):
        srv = self.start_guised(self.config())
        enc = push(auth_url(srv, "alice", "/slow/"), 12, extra=("-b:v", "2M"))
        try:
            wait_file(self.work.join("slow", "index.m3u8"), contains=b"#EXTINF")
            # a listener with a tiny receive buffer that reads 1 KiB a second
            auth = digest_header(srv.port, "GET", "/slow/live", "carol")
            slow = socket.socket()
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.connect(("127.0.0.1", srv.port))
            slow.sendall(f"GET /slow/live HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n".encode())
            slow.settimeout(1)
            # a fast listener keeps playing meanwhile
            fast = subprocess.Popen([FFPROBE, "-v", "error", "-select_streams", "v:0", "-count_frames",
                                     "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
                                     "-read_intervals", "%+6", auth_url(srv, "carol", "/slow/live")],
                                    stdout=subprocess.PIPE, text=True)
            got, closed = 0, False
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not closed:
                try:
                    b = slow.recv(1024)
                    closed = not b
                    got += len(b)
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    closed = True
                time.sleep(1)
                if re.search(r"point slow: listener carol from 127\.0\.0\.1 dropped: too slow", srv.events()):
                    break
            srv.wait_for_event(r"point slow: listener carol from 127\.0\.0\.1 dropped: too slow for the stream",
                               timeout=5)
            slow.close()
            out, _ = fast.communicate(timeout=60)
            frames = re.search(r"(\d+)", out)
            self.assertGreater(int(frames.group(1)) if frames else 0, 60)  # 6 s at 25 fps
            self.assertEqual(gh.metric(self.work.join("admin-test_slow_listener_dropped.sock"), "guise_live_listeners_dropped_total",
                                       '{point="slow"}'), 1)
        finally:
            enc.communicate(timeout=60)

    def test_sigterm_during_stream(self):
        srv = self.start_guised(self.config())
        d = self.work.join("term")
        enc = push(auth_url(srv, "alice", "/term/"), 60)
        wait_file(os.path.join(d, "index.m3u8"), contains=b"#EXTINF")
        listener = subprocess.Popen([FFMPEG, "-nostdin", "-loglevel", "error", "-i",
                                     auth_url(srv, "carol", "/term/live"), "-c", "copy", "-f", "mpegts",
                                     self.work.join("listened.ts")], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        time.sleep(3)
        self.assertEqual(srv.stop(), 0)
        self.assertRegex(srv.events(), r"point term: publisher alice .* disconnected \(stopped\): the server is stopping")
        enc.wait(timeout=20)
        listener.wait(timeout=20)
        pl = open(os.path.join(d, "index.m3u8"), "rb").read()
        self.assertIn(b"#EXT-X-ENDLIST", pl)
        recs = [n for n in os.listdir(d) if n.startswith("recording-")]
        self.assertEqual(len(recs), 1, os.listdir(d))
        self.assertFalse(recs[0].endswith(".part"))
        self.assertGreater(decoded_frames(os.path.join(d, recs[0])), 50)
        self.assertGreater(decoded_frames(self.work.join("listened.ts")), 25)


if __name__ == "__main__":
    gh.main()

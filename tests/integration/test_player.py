"""The HLS player (root only: impersonation and test accounts decide).

A folder of the point "media" holds an HLS stream as ffmpeg writes it
(index.m3u8 and .ts segments of H.264/AAC, 10 s), owned by guise-t-alice with
mode 0750, so guise-t-bob may not read it. Viewers sign in with Digest (a
user file; an account map gives alice and bob their OS accounts).

- Headless Chromium (playwright-core, as test_browser.py installs it) opens
  the folder page as alice: one item for the playlist (no row, no <video>
  per segment), follows its Play link to the player page (index.m3u8?view=
  player) and the <video> element's currentTime passes 1 s, played by native
  HLS or hls.js (from /.guise/hls.min.js). A screenshot of the player page is
  saved in the work directory and must not be blank.
- /.guise/hls.min.js and /.guise/player.js are public, immutable, with an
  ETag and 304 on If-None-Match.
- bob is refused the player page as he is refused the playlist (403).
- An MPEG-TS file outside an HLS folder gets "Open in VLC/mpv" (?view=m3u)
  and a download link instead of a dead <video>; JSON keeps the segments.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess

import guise_harness as gh
from guise_harness import ALICE, BOB
from test_browser import BROWSER_SRC, CHROMIUM, ensure_playwright

REALM = "player-it"
PW = {"alice": "alice-pw", "bob": "bob-pw"}


def ha1_line(user, password):
    return f"{user}:{REALM}:" + hashlib.md5(f"{user}:{REALM}:{password}".encode()).hexdigest() + "\n"


def make_hls(directory):
    """10 s of test pattern and tone as H.264/AAC HLS (2 s segments)."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "10",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-g", "50", "-c:a", "aac",
         "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
         os.path.join(directory, "index.m3u8")],
        check=True, timeout=120)


class Player(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        gh.require_root("the player's permission checks")
        if not shutil.which("ffmpeg"):
            raise gh.unittest.SkipTest("ffmpeg not installed")
        super().setUpClass()
        cls.accounts = gh.TestAccounts().acquire()
        cls.addClassCleanup(cls.accounts.release)
        w = cls.work
        w.mkdir("media", mode=0o755, owner="root", group="root")
        hls = w.mkdir("media/lecture", mode=0o755)
        make_hls(hls)
        cls.segments = sorted(os.path.basename(p) for p in glob.glob(os.path.join(hls, "*.ts")))
        shutil.copy(os.path.join(hls, cls.segments[0]), w.join("media/recording.ts"))
        w.write("media/notes.txt", "notes\n", mode=0o644)
        for p in [hls] + glob.glob(os.path.join(hls, "*")):
            shutil.chown(p, ALICE, ALICE)
            os.chmod(p, 0o750 if os.path.isdir(p) else 0o640)
        w.mkdir("state", mode=0o700)
        w.write("users.digest", ha1_line("alice", PW["alice"]) + ha1_line("bob", PW["bob"]), mode=0o600)
        w.write("accounts.map", f"alice {ALICE}\nbob {BOB}\n", mode=0o644)
        gh.service_readable(w.join("users.digest"))
        gh.service_readable(w.join("accounts.map"))
        cfg = gh.Config(authentication="digest", authorization="fs-acl", realm=REALM,
                        state_directory=w.join("state"), impersonation="auto",
                        auth_failure_delay=0)
        cfg.plugin("digest", user_file=w.join("users.digest"), account_map=w.join("accounts.map"),
                   algorithms="MD5")
        cfg.point("media", w.join("media"))
        cls.cfg = cfg
        cls.srv = cls.start_guised_class(cfg)

    def get(self, path, user=None, headers=None):
        args = ["--digest", "-u", f"{user}:{PW[user]}"] if user else []
        return gh.curl(self.srv.url(path), *args, headers=headers)

    # -- the assets --
    def test_assets_public_and_immutable(self):
        for name in ("hls.min.js", "player.js"):
            r = self.get("/.guise/" + name)  # no credentials: public
            self.assertEqual(r.status, 200, r)
            self.assertIn("javascript", r.header("Content-Type"))
            cc = r.header("Cache-Control")
            self.assertIn("public", cc)
            self.assertIn("immutable", cc)
            self.assertGreaterEqual(int(re.search(r"max-age=(\d+)", cc).group(1)), 86400 * 30)
            etag = r.header("ETag")
            self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
            with open(os.path.join(gh.BUILD_DIR, "assets", name), "rb") as f:
                self.assertEqual(r.body, f.read())
            again = self.get("/.guise/" + name, headers={"If-None-Match": etag})
            self.assertEqual(again.status, 304, again)
            self.assertEqual(again.body, b"")
        self.assertIn(b"Hls", self.get("/.guise/hls.min.js").body)
        put = gh.curl(self.srv.url("/.guise/player.js"), "--data-binary", "x", method="PUT")
        self.assertEqual(put.status, 405, put)
        for bad in ("/.guise/", "/.guise/nope.js", "/.guise/hls.min.js/x", "/.guise"):
            self.assertIn(self.get(bad).status, (400, 404), bad)

    def test_without_hlsjs_native_only(self):
        """An install built without npm: guised -t and the event log say so,
        the page offers native HLS only and says what to do otherwise."""
        d = self.work.mkdir("assets-no-hlsjs", mode=0o755)
        shutil.copy(os.path.join(gh.BUILD_DIR, "assets", "player.js"), d)
        os.chmod(os.path.join(d, "player.js"), 0o644)
        cfg = self.cfg.copy()
        cfg.server["assets-dir"] = d
        srv = self.start_guised(cfg)
        self.assertTrue(srv.wait_for_event(r"no hls\.min\.js in the assets directory"))
        t = gh.curl(srv.url("/media/lecture/index.m3u8?view=player"), "--digest", "-u",
                    f"alice:{PW['alice']}").text
        self.assertNotIn("hls.min.js", t)
        self.assertIn('data-hlsjs="no"', t)
        self.assertEqual(gh.curl(srv.url("/.guise/hls.min.js")).status, 404)
        self.assertEqual(gh.curl(srv.url("/.guise/player.js")).status, 200)
        p = subprocess.run([gh.GUISED, "-t", "-c", srv.config_path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("has no hls.min.js", p.stderr)
        self.assertIn("native HLS only", p.stderr)

    # -- refusals --
    def test_player_page_refused_like_the_file(self):
        ok = self.get("/media/lecture/index.m3u8?view=player", "alice")
        self.assertEqual(ok.status, 200, ok)
        self.assertIn('data-hls-src="/media/lecture/index.m3u8"', ok.text)
        self.assertIn("script-src 'self'", ok.header("Content-Security-Policy"))
        # Its scripts carry the assets' version, and are served with it.
        for src in re.findall(r'<script src="([^"]+)"', ok.text):
            self.assertRegex(src, r"^/\.guise/(hls\.min|player)\.js\?v=[0-9a-f]{16}$")
            self.assertEqual(self.get(src).status, 200, src)
        self.assertEqual(len(re.findall(r"<script", ok.text)), 2)
        self.assertEqual(self.get("/media/lecture/index.m3u8", "bob").status, 403)
        no = self.get("/media/lecture/index.m3u8?view=player", "bob")
        self.assertEqual(no.status, 403, no)
        self.assertNotIn(b"data-hls-src", no.body)
        self.assertEqual(self.get("/media/lecture/index.m3u8?view=player").status, 401)
        self.assertEqual(self.get("/media/lecture/?view=player", "bob").status, 403)

    def test_unknown_view(self):
        self.assertEqual(self.get("/media/notes.txt?view=nope", "alice").status, 400)

    # -- listings --
    def test_hls_folder_is_one_item(self):
        r = self.get("/media/lecture/", "alice")
        self.assertEqual(r.status, 200, r)
        t = r.text
        self.assertEqual(t.count('<tr class="file hls">'), 1)
        self.assertNotRegex(t, r"<(video|audio)")
        for s in self.segments:
            self.assertNotIn(f">{s}</a>", t)
        self.assertIn(f"{len(self.segments)} HLS segment files", t)
        self.assertIn('href="/media/lecture/index.m3u8?view=player"', t)
        j = json.loads(self.get("/media/lecture/?format=json", "alice").body)
        names = sorted(e["name"] for e in j["entries"])
        self.assertEqual(names, sorted(self.segments + ["index.m3u8"]))

    def test_mpegts_gets_links_not_a_dead_player(self):
        t = self.get("/media/", "alice").text
        self.assertNotRegex(t, r"<video[^>]*recording\.ts")
        self.assertIn('href="/media/recording.ts?view=m3u">Open in VLC/mpv</a>', t)
        self.assertIn('download href="/media/recording.ts">Download</a>', t)
        m = self.get("/media/recording.ts?view=m3u", "alice")
        self.assertEqual(m.status, 200, m)
        self.assertTrue(m.header("Content-Type").startswith("audio/x-mpegurl"))
        self.assertEqual(m.text, f"#EXTM3U\n#EXTINF:-1,recording.ts\n{self.srv.url('/media/recording.ts')}\n")
        page = self.get("/media/recording.ts?view=player", "alice").text
        self.assertNotIn("<video", page)
        self.assertIn("Browsers cannot play this format", page)

    # -- the browser --
    def test_chromium_plays_the_hls_folder(self):
        out = self.play_in_chromium("native")
        # Debian's Chromium has native HLS (canPlayType "maybe"): player.js uses it.
        if out["player"]["video"]["nativeHls"]:
            self.assertEqual(out["player"]["video"]["engine"], "native", out)

    def test_chromium_plays_with_hlsjs(self):
        out = self.play_in_chromium("no-native")
        self.assertEqual(out["player"]["video"]["engine"], "hls.js", out)
        # hls.js fetched the playlist and segments itself (XHR/fetch), as alice.
        self.assertIn(self.srv.url("/media/lecture/index.m3u8"), [r["url"] for r in out["requests"]])

    def play_in_chromium(self, mode):
        if not os.path.exists(CHROMIUM):
            self.skipTest("chromium not installed")
        modules = ensure_playwright()
        shot = self.work.join(f"shot-player-{mode}.png")
        p = subprocess.run(
            ["node", os.path.join(BROWSER_SRC, "check_player.cjs"), self.srv.url("/media/lecture/"),
             "index.m3u8", shot, "alice", PW["alice"], mode],
            capture_output=True, text=True, timeout=120, env=dict(os.environ, NODE_PATH=modules))
        self.assertEqual(p.returncode, 0, f"node failed:\n{p.stdout}\n{p.stderr}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        print("player check:", json.dumps({k: out[k] for k in ("folder", "player", "screenshot")}), flush=True)
        f = out["folder"]
        self.assertEqual(f["status"], 200, out)
        self.assertEqual(f["fileRows"], 1, out)  # the playlist, not one per segment
        self.assertEqual(f["videos"] + f["audios"], 0, out)
        self.assertEqual(out["player"]["status"], 200, out)
        v = out["player"]["video"]
        self.assertTrue(v["found"], out)
        self.assertIsNone(v["error"], out)
        self.assertIsNone(v["hlsError"], out)
        self.assertIn(v["engine"], ("native", "hls.js"), out)
        self.assertGreater(v["currentTime"], 1.0, out)
        self.assertEqual((v["width"], v["height"]), (320, 240), out)
        urls = [r["url"] for r in out["requests"]]
        if v["engine"] == "hls.js":
            self.assertTrue(any(u.startswith(self.srv.url("/.guise/hls.min.js?v=")) for u in urls), urls)
        # Segments were fetched, as alice, and served.
        segs = [r for r in out["requests"] if r["url"].endswith(".ts")]
        self.assertTrue(segs, urls)
        self.assertTrue(all(r["status"] in (200, 206) for r in segs), segs)
        self.assertEqual(out["errors"], [], out)
        s = out["screenshot"]
        self.assertGreater(os.path.getsize(shot), 1000)
        self.assertGreater(s["colours"], 16, s)  # the test pattern's colours and the text
        self.assertGreater(s["darkFraction"], 0.01, s)
        self.assertLess(s["darkFraction"], 0.95, s)
        artifacts = os.environ.get("GUISE_ARTIFACTS") or os.path.join(gh.BUILD_DIR, "test-artifacts")
        os.makedirs(artifacts, exist_ok=True)
        shutil.copy(shot, os.path.join(artifacts, f"player-hls-{mode}.png"))
        return out


if __name__ == "__main__":
    gh.main()

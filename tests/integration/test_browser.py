"""A real browser: headless Chromium (driven by playwright-core from node)
opens the HTML index of a public publishing point holding a 1 s 440 Hz WAV
file; the page's <audio> element must load the file (metadata, duration
~1 s, no error) and play it to the end, and a screenshot of the page must
not be blank.

playwright-core is installed with npm (exact version, package-lock.json in
tests/integration/browser/) into the build directory the first time. The
test skips, loudly, only when /usr/bin/chromium is absent."""

import json
import os
import shutil
import subprocess

import guise_harness as gh

CHROMIUM = "/usr/bin/chromium"
BROWSER_SRC = os.path.join(gh.SOURCE_DIR, "tests", "integration", "browser")
BROWSER_BUILD = os.path.join(gh.BUILD_DIR, "tests", "integration", "browser")


def ensure_playwright():
    """Installs playwright-core into the build directory unless it is there
    already (at the locked version); returns the node_modules directory."""
    os.makedirs(BROWSER_BUILD, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        src, dst = os.path.join(BROWSER_SRC, name), os.path.join(BROWSER_BUILD, name)
        with open(src, "rb") as f:
            want = f.read()
        have = None
        if os.path.exists(dst):
            with open(dst, "rb") as f:
                have = f.read()
        if have != want:
            with open(dst, "wb") as f:
                f.write(want)
            shutil.rmtree(os.path.join(BROWSER_BUILD, "node_modules"), ignore_errors=True)
    modules = os.path.join(BROWSER_BUILD, "node_modules")
    if not os.path.isdir(os.path.join(modules, "playwright-core")):
        p = subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=BROWSER_BUILD,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if p.returncode != 0:
            raise RuntimeError(f"npm ci failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return modules


class Browser(gh.GuiseTestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CHROMIUM):
            print("SKIP: chromium not installed (apt-get install -y chromium)", flush=True)
            raise gh.unittest.SkipTest("chromium not installed")
        super().setUpClass()
        cls.modules = ensure_playwright()
        w = cls.work
        gh.make_wav(w.join("pub/tone.wav"), seconds=1.0, freq=440.0)
        w.write("pub/readme.txt", "a text file\n")
        w.mkdir("pub/more")
        cfg = gh.Config(authentication="anonymous", authorization="fs-acl")
        cfg.point("pub", w.join("pub"))
        cls.srv = cls.start_guised_class(cfg)

    def run_check(self, url, name):
        shot = self.work.join(f"shot-{self._testMethodName}.png")
        env = dict(os.environ, NODE_PATH=self.modules)
        p = subprocess.run(
            ["node", os.path.join(BROWSER_SRC, "check_media.cjs"), url, name, shot],
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
        )
        self.assertEqual(p.returncode, 0, f"node failed:\n{p.stdout}\n{p.stderr}")
        out = json.loads(p.stdout.strip().splitlines()[-1])
        out["shot"] = shot
        return out

    def test_audio_element_loads_and_plays(self):
        out = self.run_check(self.srv.url("/pub/"), "tone.wav")
        self.assertEqual(out["status"], 200, out)
        self.assertTrue(out["contentType"].startswith("text/html"), out)
        a = out["audio"]
        self.assertTrue(a["found"], out)
        self.assertEqual(a["src"], self.srv.url("/pub/tone.wav"))
        self.assertIsNone(a["error"], out)
        self.assertGreaterEqual(a["readyState"], 1, out)
        self.assertAlmostEqual(a["duration"], 1.0, delta=0.05, msg=out)
        self.assertNotIn("playError", a, out)
        self.assertEqual(a["ended"], "ended", out)
        self.assertIsNone(a["errorAfterPlay"], out)
        self.assertEqual(out["errors"], [], out)
        self.assertTrue(all(r["status"] in (200, 206) for r in out["requests"]), out["requests"])
        # The browser fetched the file, with ranges, and got what it asked.
        wav = [r for r in out["requests"] if r["url"].endswith("/pub/tone.wav")]
        self.assertTrue(wav, out["requests"])
        for r in wav:
            self.assertIn(r["status"], (200, 206), r)
            if r["status"] == 206:
                self.assertIsNotNone(r["range"], r)

    def test_screenshot_not_blank(self):
        out = self.run_check(self.srv.url("/pub/"), "tone.wav")
        s = out["screenshot"]
        self.assertTrue(os.path.getsize(out["shot"]) > 1000, s)
        self.assertGreaterEqual(s["width"], 800)
        self.assertGreater(s["colours"], 8, s)  # text, links and the player
        self.assertGreater(s["darkFraction"], 0.001, s)  # there is text on it
        self.assertLess(s["darkFraction"], 0.9, s)

    def test_server_root_page(self):
        out = self.run_check(self.srv.url("/"), "tone.wav")
        self.assertEqual(out["status"], 200)
        self.assertFalse(out["audio"]["found"])  # the root lists points only
        self.assertEqual(out["errors"], [], out)
        self.assertEqual([r["status"] for r in out["requests"]], [200], out)
        self.assertGreater(out["screenshot"]["colours"], 2)


if __name__ == "__main__":
    gh.main()

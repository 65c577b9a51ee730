// Opens a guised folder page holding an HLS stream in headless Chromium as a
// signed-in viewer (Playwright's httpCredentials answer Basic or Digest),
// reports how the page lists it, follows its "Play" link to the player page
// and reports whether the <video> element plays (currentTime past 1 s), which
// engine played it (native or hls.js), and how varied a screenshot of the
// player page is. One JSON object on stdout; test_player.py asserts.
//
//   node check_player.cjs FOLDER_URL PLAYLIST_NAME SCREENSHOT.png USER PASSWORD [no-native]
//
// no-native: the page's video.canPlayType answers "" for HLS (Chromium has
// native HLS since 2025), so player.js must take the hls.js path.
'use strict';

const { chromium } = require('playwright-core');

const [url, playlist, shotPath, user, password, mode] = process.argv.slice(2);

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--headless',
  '--autoplay-policy=no-user-gesture-required',
  '--mute-audio',
];

async function shotStats(page, png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let dark = 0, samples = 0;
    for (let i = 0; i < d.length; i += 4 * 3) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      if (d[i] + d[i + 1] + d[i + 2] < 300) dark++;
      samples++;
    }
    return { width: c.width, height: c.height, colours: colours.size, darkFraction: dark / samples };
  }, png.toString('base64'));
}

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  const out = { errors: [], requests: [] };
  try {
    const ctx = await browser.newContext({
      viewport: { width: 900, height: 700 },
      httpCredentials: { username: user, password },
    });
    if (mode === 'no-native') {
      await ctx.addInitScript(() => {
        const orig = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (t) {
          return /mpegurl/i.test(t) ? '' : orig.call(this, t);
        };
      });
    }
    const page = await ctx.newPage();
    page.on('pageerror', (e) => out.errors.push(`pageerror: ${e}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource: .* (401|404) /.test(m.text()))
        out.errors.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => out.requests.push({ url: r.url(), status: r.status() }));

    const resp = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    out.folder = await page.evaluate((name) => ({
      status: null,
      fileRows: document.querySelectorAll('tr.file').length,
      hlsRows: [...document.querySelectorAll('tr.hls a')].map((a) => a.textContent),
      videos: document.querySelectorAll('video').length,
      audios: document.querySelectorAll('audio').length,
      segmentsNote: (document.querySelector('tr.segments') || {}).textContent || null,
      names: [...document.querySelectorAll('td.name > a')].map((a) => a.textContent),
      play: (() => {
        const row = [...document.querySelectorAll('tr.hls')].find(
          (tr) => tr.querySelector('td.name > a').textContent === name);
        const a = row && row.querySelector('a.play');
        return a ? a.href : null;
      })(),
    }), playlist);
    out.folder.status = resp.status();
    if (!out.folder.play) throw new Error('no Play link for ' + playlist);

    const presp = await page.goto(out.folder.play, { waitUntil: 'load', timeout: 15000 });
    out.player = { status: presp.status(), csp: presp.headers()['content-security-policy'] || null };
    out.player.video = await page.evaluate(async () => {
      const v = document.getElementById('player');
      if (!v || v.tagName !== 'VIDEO') return { found: false };
      const info = {
        found: true,
        h264aac: window.MediaSource ?
          MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001e,mp4a.40.2"') : null,
        nativeHls: v.canPlayType('application/vnd.apple.mpegurl'),
      };
      v.muted = true;
      try {
        await v.play();
      } catch (e) {
        info.playError = String(e);
      }
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline && !(v.currentTime > 1.5) && !v.error && !v.dataset.error)
        await new Promise((r) => setTimeout(r, 100));
      info.currentTime = v.currentTime;
      info.engine = v.dataset.engine || null;
      info.error = v.error ? v.error.code : null;
      info.hlsError = v.dataset.error || null;
      info.width = v.videoWidth;
      info.height = v.videoHeight;
      const m = document.getElementById('player-message');
      info.message = m && !m.hidden ? m.textContent : null;
      v.pause();
      return info;
    });
    const png = await page.screenshot({ path: shotPath, fullPage: true });
    // Measured on a blank page: the player page's CSP forbids data: images.
    const blank = await ctx.newPage();
    out.screenshot = await shotStats(blank, png);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`check_player: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});

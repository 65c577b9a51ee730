// Loads a guised directory page in headless Chromium and reports, as one JSON
// object on stdout, whether the page's <audio> element for a given file loads
// and plays, and how varied a screenshot of the page is (a blank page has one
// colour). test_browser.py makes the assertions.
//
//   node check_media.cjs URL FILE_NAME SCREENSHOT.png
'use strict';

const { chromium } = require('playwright-core');

const [url, fileName, shotPath] = process.argv.slice(2);

// Chromium as root needs --no-sandbox; the rest keeps it quiet and offline.
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

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
  const out = { errors: [], requests: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    page.on('pageerror', (e) => out.errors.push(`pageerror: ${e}`));
    page.on('console', (m) => {
      // Chromium asks for /favicon.ico (a 404 here) behind Playwright's back;
      // the statuses of the requests the page made are checked from
      // out.requests instead.
      if (m.type() === 'error' && !/^Failed to load resource: .* 404 /.test(m.text()))
        out.errors.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => out.requests.push({
      url: r.url(),
      status: r.status(),
      range: r.request().headers()['range'] || null,
    }));
    const resp = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    out.status = resp.status();
    out.contentType = resp.headers()['content-type'];
    out.title = await page.title();

    out.audio = await page.evaluate(async (name) => {
      const a = [...document.querySelectorAll('audio')].find(
        (e) => decodeURIComponent(new URL(e.src, location.href).pathname).endsWith('/' + name));
      if (!a) return { found: false, count: document.querySelectorAll('audio').length };
      const waitFor = (events, ms) => new Promise((resolve) => {
        const t = setTimeout(() => resolve('timeout'), ms);
        for (const ev of events) {
          a.addEventListener(ev, () => { clearTimeout(t); resolve(ev); }, { once: true });
        }
      });
      let metadata = 'already';
      if (a.readyState < 1 && !a.error) metadata = await waitFor(['loadedmetadata', 'error'], 10000);
      const info = {
        found: true,
        src: a.currentSrc,
        metadata,
        readyState: a.readyState,
        duration: a.duration,
        error: a.error ? a.error.code : null,
        canPlayWav: a.canPlayType('audio/wav'),
      };
      // Play it to the end: every byte must arrive and decode.
      try {
        a.currentTime = 0;
        await a.play();
        info.ended = await waitFor(['ended', 'error'], 10000);
        info.currentTime = a.currentTime;
      } catch (e) {
        info.playError = String(e);
      }
      info.errorAfterPlay = a.error ? a.error.code : null;
      return info;
    }, fileName);

    const png = await page.screenshot({ path: shotPath, fullPage: true });
    out.screenshot = await page.evaluate(async (b64) => {
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
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`check_media: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});

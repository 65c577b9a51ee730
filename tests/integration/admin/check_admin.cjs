// Opens guised's web administration page in headless Chromium, clicks the
// "Disable" button of one plug-in, waits until the page shows it disabled
// (the page polls the API every 2 s), and reports as one JSON object on
// stdout what it saw and how varied a screenshot is (a blank page has one
// colour). test_admin.py makes the assertions.
//
//   node check_admin.cjs URL AUTHORIZATION PLUGIN SCREENSHOT.png
'use strict';

const { chromium } = require('playwright-core');

const [url, authorization, plugin, shotPath] = process.argv.slice(2);

const ARGS = [
  '--no-sandbox', // Chromium as root
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--headless',
];

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  const out = { errors: [] };
  try {
    // The admin listener authenticates every request through the server
    // scope's plug-ins: here the example "Hello" scheme.
    const context = await browser.newContext({
      viewport: { width: 1100, height: 800 },
      extraHTTPHeaders: { Authorization: authorization },
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => out.errors.push(`pageerror: ${e}`));
    page.on('console', (m) => {
      if (m.type() === 'error') out.errors.push(`console: ${m.text()}`);
    });
    const resp = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    out.status = resp.status();
    out.title = await page.title();
    await page.waitForSelector('body[data-loaded="1"]', { timeout: 10000 });
    out.pluginRows = await page.$$eval('#plugins tbody tr', (rows) => rows.map((r) => r.dataset.plugin));
    out.pointsText = await page.textContent('#points');
    await page.click(`button[data-action="disable"][data-plugin="${plugin}"]`);
    // The page re-renders after the action; the row then offers "Enable".
    await page.waitForSelector(`button[data-action="enable"][data-plugin="${plugin}"]`, { timeout: 10000 });
    out.enableShown = true;
    out.statusText = await page.textContent('#status');

    const png = await page.screenshot({ path: shotPath, fullPage: true });
    // Measured in a blank page: the admin page's CSP forbids data: images.
    const blank = await context.newPage();
    out.screenshot = await blank.evaluate(async (b64) => {
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
      for (let i = 0; i < d.length; i += 4 * 3) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return { width: c.width, height: c.height, colours: colours.size };
    }, png.toString('base64'));
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`check_admin: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});

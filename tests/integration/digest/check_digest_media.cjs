// Opens a Digest-protected guised directory page in headless Chromium, with
// the user and password given to the browser context (Playwright's
// httpCredentials, answered by Chromium's own Digest code), and reports as one
// JSON object on stdout whether the page's <audio> element for FILE_NAME loads
// and plays, and every response the page got with the Digest algorithm of the
// request's Authorization header. test_digest.py makes the assertions.
//
//   node check_digest_media.cjs URL FILE_NAME USER PASSWORD
// USER "-" sends no credentials.
'use strict';

const { chromium } = require('playwright-core');

const [url, fileName, user, password] = process.argv.slice(2);

// The launch flags of tests/integration/browser/check_media.cjs: root needs
// --no-sandbox; the rest keeps Chromium quiet, offline and able to autoplay.
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

function algorithmOf(authorization) {
  if (!authorization) return null;
  const m = /algorithm="?([A-Za-z0-9-]+)/.exec(authorization);
  return m ? m[1] : 'none';
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
  const out = { errors: [], requests: [] };
  try {
    const options = { viewport: { width: 900, height: 600 } };
    if (user !== '-') options.httpCredentials = { username: user, password };
    const context = await browser.newContext(options);
    const page = await context.newPage();
    page.on('pageerror', (e) => out.errors.push(`pageerror: ${e}`));
    const pending = [];
    page.on('response', (r) => {
      pending.push((async () => {
        const headers = await r.request().allHeaders();
        out.requests.push({
          url: r.url(),
          status: r.status(),
          algorithm: algorithmOf(headers['authorization']),
          authInfo: (await r.allHeaders())['authentication-info'] || null,
        });
      })().catch((e) => out.errors.push(`response: ${e}`)));
    });
    let resp;
    try {
      resp = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    } catch (e) {
      // Refused credentials end the navigation with a network error.
      out.gotoError = String(e.message || e).split('\n')[0];
    }
    if (resp) {
      out.status = resp.status();
      out.contentType = resp.headers()['content-type'];
      out.audio = await audioReport(page, fileName);
    }
    await Promise.all(pending);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

// Finds the <audio> element of name, waits for its metadata, plays it to the
// end.
function audioReport(page, name) {
  return page.evaluate(async (name) => {
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
    };
    try {
      a.currentTime = 0;
      await a.play();
      info.ended = await waitFor(['ended', 'error'], 10000);
    } catch (e) {
      info.playError = String(e);
    }
    info.errorAfterPlay = a.error ? a.error.code : null;
    return info;
  }, name);
}

main().catch((e) => {
  process.stderr.write(`check_digest_media: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});

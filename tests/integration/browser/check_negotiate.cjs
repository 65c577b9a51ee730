// Loads one URL in headless Chromium with HTTP Negotiate allowed for the
// URL's host, and reports, as one JSON object on stdout, every response the
// page saw (status, WWW-Authenticate) and the final status and body text.
// The 401 and the retry with the token stay inside Chromium's network stack:
// the page sees only the final answer. Chromium takes its
// Kerberos ticket from KRB5CCNAME / KRB5_CONFIG in its environment.
// test_negotiate.py makes the assertions.
//
//   node check_negotiate.cjs URL ALLOWED_HOST PROFILE_DIR
//
// A persistent context (a real profile in PROFILE_DIR, seeded below), not
// chromium.launch(), whose profile Playwright makes itself (and whose
// contexts are off-the-record, where Chromium's default policy refuses
// ambient authentication - Negotiate with the ticket cache).
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [url, host, profileDir] = process.argv.slice(2);

// As check_media.cjs, plus the Negotiate allowlist: Chromium sends Negotiate
// only to hosts it is told to trust.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--headless',
  `--auth-server-allowlist=${host}`,
];

// On Linux, Chromium's network service runs in a sandbox that cannot load
// libgssapi_krb5 - unless the browser's local state records that a Negotiate
// challenge was seen before, in which case it starts the network service
// unsandboxed. Chromium sets that itself on the first challenge (answered
// 401: ERR_UNSUPPORTED_AUTH_SCHEME) and uses it from the next start; a fresh
// profile gets the flag up front, as a returning user's has it.
function seedLocalState(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'Local State');
  fs.writeFileSync(file, JSON.stringify({ net: { received_http_auth_negotiate_headers: true } }));
}

async function main() {
  seedLocalState(profileDir);
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    env: process.env,
  });
  const out = { responses: [] };
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('response', async (r) => {
      const h = await r.allHeaders();
      out.responses.push({ url: r.url(), status: r.status(), wwwAuthenticate: h['www-authenticate'] || null });
    });
    const resp = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    out.status = resp.status();
    out.body = await resp.text();
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`check_negotiate: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});

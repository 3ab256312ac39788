// Lighthouse (mobile) on four pages of a running Teamroom: the sign-in
// page, an invitation link, the Kiosk and the signed-in Team page.
//
//   cargo xtask run            # in one terminal: serves the demo and a mail catcher
//   cd end2end && npm run lighthouse
//
// Signs in as the demo owner, invites a new address and takes the link from
// the mail the catcher saved (MAIL_SINK_DIR, default ../.data/mail); signs
// in a second time and launches a Kiosk with that session (which ends it);
// then runs Lighthouse with Debian's Chromium on each page, the Team page and
// the Kiosk with their cookies. Prints one table. RUNS (default 1) repeats
// each page and prints every run.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cookiePairs, post as postTo } from './server-api.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const MAIL_DIR = process.env.MAIL_SINK_DIR ?? path.join(here, '..', '.data', 'mail');
const EMAIL = process.env.LIGHTHOUSE_ADMIN ?? 'owner@demo.teamroom.test';
const PASSWORD = process.env.LIGHTHOUSE_PASSWORD ?? 'teamroom demo 2026';
const RUNS = Number(process.env.RUNS ?? '1');

const post = (endpoint, form, cookie) => postTo(BASE, endpoint, form, cookie);

/** The cookies a response sets, as a `Cookie` header. */
function cookiesOf(response) {
  return cookiePairs(response).join('; ');
}

async function signIn() {
  return cookiesOf(await post('sign_in', { email: EMAIL, password: PASSWORD }));
}

const owner = await signIn();
const address = `lighthouse-${Date.now()}@example.test`;
await post('invite_members', { addresses: address, send_email: 'true', all_projects: 'true' }, owner);

let link;
for (let i = 0; i < 100 && !link; i++) {
  for (const name of fs.existsSync(MAIL_DIR) ? fs.readdirSync(MAIL_DIR) : []) {
    const raw = fs.readFileSync(path.join(MAIL_DIR, name), 'utf8');
    if (!raw.includes(address)) continue;
    const text = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    link = text.match(/https?:\/\/[^\s"<>]+\/invite\/[A-Za-z0-9_-]{43}/)?.[0];
  }
  if (!link) await new Promise((r) => setTimeout(r, 200));
}
if (!link) throw new Error(`no invitation mail to ${address} in ${MAIL_DIR}`);
// The mail's link names PUBLIC_URL; measure the server we were given.
link = `${BASE}${new URL(link).pathname}`;

const kiosk = cookiesOf(await post('launch_kiosk', {}, await signIn()));

const pages = [
  ['sign in', `${BASE}/signin`, null],
  ['invitation', link, null],
  ['Kiosk', `${BASE}/kiosk`, kiosk],
  ['Team (signed in)', `${BASE}/team`, owner],
];

const rows = [];
for (const [name, url, cookie] of pages) {
  for (let run = 1; run <= RUNS; run++) {
    const report = path.join(here, 'test-results', `lighthouse-${name.split(' ')[0].toLowerCase()}-${run}.json`);
    fs.mkdirSync(path.dirname(report), { recursive: true });
    execFileSync('npx', ['--yes', 'lighthouse@12.8.2', url,
      '--chrome-path=/usr/bin/chromium', '--chrome-flags=--headless --no-sandbox --disable-gpu',
      '--form-factor=mobile', '--only-categories=performance,accessibility,best-practices',
      ...(cookie ? [`--extra-headers=${JSON.stringify({ Cookie: cookie })}`] : []),
      '--output=json', `--output-path=${report}`, '--quiet'], { stdio: 'inherit' });
    const result = JSON.parse(fs.readFileSync(report, 'utf8'));
    const score = (key) => Math.round(result.categories[key].score * 100);
    const audit = (key) => result.audits[key];
    if (new URL(result.finalDisplayedUrl).pathname !== new URL(url).pathname) {
      throw new Error(`${name}: Lighthouse ended on ${result.finalDisplayedUrl}, not ${url}`);
    }
    rows.push([
      name,
      score('performance'),
      score('accessibility'),
      score('best-practices'),
      `${(audit('largest-contentful-paint').numericValue / 1000).toFixed(1)} s`,
      `${Math.round(audit('total-blocking-time').numericValue)} ms`,
      audit('cumulative-layout-shift').numericValue.toFixed(2),
      `${Math.round(audit('total-byte-weight').numericValue / 1024)} KB`,
    ]);
  }
}

console.log('\n| page | performance | accessibility | best practices | LCP | TBT | CLS | total bytes |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);

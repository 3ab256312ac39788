// Lighthouse (mobile) on the invitation accept page of a running Teamroom.
//
//   cargo xtask run            # in one terminal: serves the demo and a mail catcher
//   cd end2end && npm run lighthouse
//
// Signs in as the demo owner, invites a new address, takes the link from the
// mail the catcher saved (MAIL_SINK_DIR, default ../.data/mail), and runs
// Lighthouse with Debian's Chromium. Prints the scores and the main timings.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const MAIL_DIR = process.env.MAIL_SINK_DIR ?? path.join(here, '..', '.data', 'mail');
const EMAIL = process.env.LIGHTHOUSE_ADMIN ?? 'owner@demo.teamroom.test';
const PASSWORD = process.env.LIGHTHOUSE_PASSWORD ?? 'teamroom demo 2026';

async function post(endpoint, form, cookie) {
  const response = await fetch(`${BASE}/api/${endpoint}`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form),
  });
  if (!response.ok) throw new Error(`${endpoint}: ${response.status} ${await response.text()}`);
  return response;
}

const signedIn = await post('sign_in', { email: EMAIL, password: PASSWORD });
const cookie = signedIn.headers.get('set-cookie').split(';')[0];
const address = `lighthouse-${Date.now()}@example.test`;
await post('invite_members', { addresses: address, send_email: 'true', all_projects: 'true' }, cookie);

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

const report = path.join(here, 'test-results', 'lighthouse-accept.json');
fs.mkdirSync(path.dirname(report), { recursive: true });
execFileSync('npx', ['--yes', 'lighthouse@12.8.2', link,
  '--chrome-path=/usr/bin/chromium', '--chrome-flags=--headless --no-sandbox --disable-gpu',
  '--form-factor=mobile', '--only-categories=performance,accessibility,best-practices',
  '--output=json', `--output-path=${report}`, '--quiet'], { stdio: 'inherit' });
const result = JSON.parse(fs.readFileSync(report, 'utf8'));
console.log(`Lighthouse mobile, ${link.replace(/\/invite\/.*/, '/invite/…')}`);
for (const [key, category] of Object.entries(result.categories)) {
  console.log(`  ${key}: ${Math.round(category.score * 100)}`);
}
for (const audit of ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift']) {
  console.log(`  ${audit}: ${result.audits[audit].displayValue}`);
}

import { chromium } from '@playwright/test';
import * as fs from 'node:fs';
const BASE = 'http://127.0.0.1:3000';
const page_path = process.argv[2] ?? '/team';
const rate = Number(process.argv[3] ?? '4');
const res = await fetch(`${BASE}/api/sign_in`, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email: 'owner@demo.teamroom.test', password: 'teamroom demo 2026' }) });
const cookie = res.headers.getSetCookie().map((l) => l.split(';')[0]).filter((p) => !p.endsWith('='));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 412, height: 823 } });
await context.addCookies(cookie.map((pair) => { const [name, ...v] = pair.split('='); return { name, value: v.join('='), url: BASE }; }));
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Emulation.setCPUThrottlingRate', { rate });
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
await page.goto(BASE + page_path);
await page.waitForSelector('body[data-hydrated]', { timeout: 60000 });
await page.waitForTimeout(1000);
const { profile } = await cdp.send('Profiler.stop');
await browser.close();
fs.writeFileSync('/tmp/prof/cpu.json', JSON.stringify(profile));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map(); const total = new Map();
const dt = profile.timeDeltas; let samples = 0;
profile.samples.forEach((id, i) => {
  const t = dt[i] ?? 0; samples += t;
  const n = byId.get(id); const name = n.callFrame.functionName || '(anon ' + n.callFrame.url.slice(-25) + ')';
  self.set(name, (self.get(name) ?? 0) + t);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const nn = byId.get(cur); const nm = nn.callFrame.functionName || '(anon)';
    if (!seen.has(nm)) { seen.add(nm); total.set(nm, (total.get(nm) ?? 0) + t); }
  }
});
const show = (m, k) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, t]) => `${(t / 1000).toFixed(1)} ms  ${n.slice(0, 160)}`).join('\n');
console.log('SELF\n' + show(self, 40));
console.log('TOTAL\n' + show(total, 80));

// `cargo xtask bench start`: how long a page keeps the main thread busy
// while it starts, in Debian's Chromium with the CPU slowed down 4x (as
// Lighthouse's mobile run assumes), against a server xtask started
// (BASE_URL) on a seeded workspace (EMAIL / PASSWORD). Prints a markdown
// table.
//
// The link is Lighthouse's mobile one (150 ms round trips, 1.6 Mbit/s
// down; NETWORK=fast for the loopback as it is). Each load is traced
// (Chromium's own trace events). "Blocking" is Lighthouse's total
// blocking time computed on that trace: the part over 50 ms of every
// main-thread task after the first contentful paint, up to a second and
// a half after the page hydrated. "Busy" is every main-thread task from
// the navigation on. The floor is the sign-in page with its script and
// wasm refused: the same HTML and stylesheet, no app.
import { chromium } from '@playwright/test';
import { cookiePairs, post as postTo } from './server-api.mjs';

const base = process.env.BASE_URL;
const email = process.env.EMAIL;
const password = process.env.PASSWORD;
const loads = Number(process.env.LOADS ?? 10);
const slowdown = Number(process.env.CPU_SLOWDOWN ?? 4);
// NETWORK=fast: the loopback as it is; else a phone's link (below).
const phoneNetwork = process.env.NETWORK !== 'fast';
const AFTER_HYDRATION_MS = 1500;

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const post = (endpoint, form, cookie) => postTo(base, endpoint, form, cookie);

/** The cookies a response sets, for a browser context. */
function cookiesOf(response) {
  return cookiePairs(response).map((pair) => {
    const at = pair.indexOf('=');
    return { name: pair.slice(0, at), value: pair.slice(at + 1), url: base };
  });
}

const asHeader = (cookies) => cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
const signIn = async () => cookiesOf(await post('sign_in', { email, password }));

/** Top-level tasks of the page's main thread, in ms, and its first paint
 * (null when the trace has none). */
function tasksOf(trace) {
  const events = JSON.parse(trace.toString()).traceEvents;
  const mainThreads = new Set(
    events
      .filter((event) => event.ph === 'M' && event.name === 'thread_name' && event.args?.name === 'CrRendererMain')
      .map((event) => `${event.pid}:${event.tid}`),
  );
  const paint = events.find((event) => event.name === 'firstContentfulPaint');
  const counts = new Map();
  for (const event of events) {
    const key = `${event.pid}:${event.tid}`;
    if (event.ph === 'X' && mainThreads.has(key) && (!paint || event.pid === paint.pid)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // The page's renderer: the one that painted, else the busiest.
  const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!main) throw new Error('no renderer main thread in the trace');
  const pid = Number(main.split(':')[0]);
  const candidates = events
    .filter((event) => event.ph === 'X' && `${event.pid}:${event.tid}` === main)
    .filter((event) => event.name === 'RunTask' || event.name === 'ThreadControllerImpl::RunTask')
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // Nested task events are parts of the outer one.
  const tasks = [];
  let end = -Infinity;
  for (const event of candidates) {
    if (event.ts >= end) {
      tasks.push({ start: event.ts / 1000, duration: (event.dur ?? 0) / 1000 });
      end = event.ts + (event.dur ?? 0);
    }
  }
  // The page's own navigation: the last one to start before it painted.
  const navigation = events
    .filter((event) => event.pid === pid && event.name === 'navigationStart' && (!paint || event.ts <= paint.ts))
    .sort((a, b) => b.ts - a.ts)[0];
  if (!navigation) throw new Error('no navigationStart in the trace');
  return { tasks, navigationAt: navigation.ts / 1000, paintAt: paint ? paint.ts / 1000 : null };
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});

/** One cold load of `path`. Chromium's trace now and then lacks the
 * paint event (a lost trace buffer): such a load is made again. */
async function load(path, cookies, options) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const measured = await tracedLoad(path, cookies, options);
    if (measured) return measured;
    console.error(`bench start: ${path}: no first paint in the trace, loading again`);
  }
  throw new Error(`${path}: no first contentful paint in three traces`);
}

/** One cold load of `path` (a fresh context: nothing cached). */
async function tracedLoad(path, cookies, { refuseCode = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 412, height: 823 }, timezoneId: 'UTC' });
  if (cookies) await context.addCookies(cookies);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  if (refuseCode) await page.route(/\/pkg\/.*\.(?:js|wasm)$/, (route) => route.abort());
  // When the app took over, on the page's clock (a Playwright selector
  // wait would inject its own script into the trace).
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: slowdown });
  if (phoneNetwork) {
    // Lighthouse's mobile link: 150 ms round trips, 1.6 Mbit/s down.
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 150,
      downloadThroughput: (1638.4 * 1024) / 8,
      uploadThroughput: (675 * 1024) / 8,
    });
  }
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'loading', 'blink.user_timing'] });
  await page.goto(base + path, { waitUntil: 'load' });
  // Without its code a page never hydrates: three seconds of looking.
  let hydratedAt = null;
  const deadline = Date.now() + (refuseCode ? 3_000 : 60_000);
  while (Date.now() < deadline) {
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'window.__hydratedAt ?? null', returnByValue: true });
    if (result.value !== null) {
      hydratedAt = result.value;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, AFTER_HYDRATION_MS));
  const trace = await browser.stopTracing();
  await context.close();
  // (With its code refused, the page's import fails: that is the floor.)
  if (!refuseCode && errors.length > 0) throw new Error(`${path}: page error: ${errors.join('; ')}`);
  if (!refuseCode && hydratedAt === null) throw new Error(`${path} did not hydrate within a minute`);
  if (refuseCode && hydratedAt !== null) throw new Error(`${path} hydrated with its code refused`);
  const { tasks, navigationAt, paintAt } = tasksOf(trace);
  if (paintAt === null) return null;
  const until = hydratedAt === null ? Infinity : navigationAt + hydratedAt + AFTER_HYDRATION_MS;
  const afterPaint = tasks.filter((task) => task.start >= paintAt && task.start <= until);
  return {
    blocking: afterPaint.reduce((sum, task) => sum + Math.max(0, task.duration - 50), 0),
    longest: Math.max(0, ...afterPaint.map((task) => task.duration)),
    busy: tasks.filter((task) => task.start >= navigationAt && task.start <= until).reduce((sum, task) => sum + task.duration, 0),
    hydrated: hydratedAt,
  };
}

const admin = await signIn();
// The Kiosk runs on a device cookie; launching it ends the session it came from.
const kiosk = cookiesOf(await post('launch_kiosk', {}, asHeader(await signIn())));

const pages = [
  ['floor: sign in, code refused', '/signin', null, { refuseCode: true }],
  ['sign in', '/signin', null, {}],
  ['Kiosk', '/kiosk', kiosk, {}],
  ['Team (signed in)', '/team', admin, {}],
];

const rows = [];
for (const [name, path, cookies, options] of pages) {
  // One load first: the server's own first answers, the browser's disk.
  await load(path, cookies, options);
  const runs = [];
  for (let run = 0; run < loads; run++) runs.push(await load(path, cookies, options));
  rows.push({ name, runs });
  console.error(`bench start: ${name} done`);
}
await browser.close();

const ms = (value) => (value === null || value === undefined ? '-' : `${value.toFixed(0)} ms`);
const floorBusy = percentile(rows[0].runs.map((run) => run.busy), 50);
const link = phoneNetwork ? "a phone's link (150 ms round trips, 1.6 Mbit/s)" : 'the loopback';
console.log(`\nMain thread while a page starts, Chromium at ${slowdown}x CPU slowdown on ${link}, ${loads} cold loads per page (p50 / p95):\n`);
console.log('| page | blocking (TBT) | longest task | busy | busy / floor | hydrated at |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const { name, runs } of rows) {
  const column = (key) => {
    const values = runs.map((run) => run[key]).filter((value) => value !== null);
    return values.length === 0 ? '-' : `${ms(percentile(values, 50))} / ${ms(percentile(values, 95))}`;
  };
  const busy = percentile(runs.map((run) => run.busy), 50);
  console.log(`| ${name} | ${column('blocking')} | ${column('longest')} | ${column('busy')} | ${(busy / floorBusy).toFixed(2)} | ${column('hydrated')} |`);
}

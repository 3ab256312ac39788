// `cargo xtask bench ui`: keystroke to rendered rows on the Team page, in
// Debian's Chromium, against a server xtask started (BASE_URL) on a seeded
// workspace (EMAIL / PASSWORD). Prints a markdown table.
//
// The clock runs inside the page: from the last keydown of a typed word (or
// the filter change, or the "Load more" click) to the first change of the
// table after the answer to that exact request arrived; when the answer
// leaves the rows as they were (a prefix already found them), to the next
// frame after it arrived. Each table also splits the median into the page's
// work before the request left, the request (server and network) and the
// page's work after the answer arrived.
import { chromium } from '@playwright/test';

const base = process.env.BASE_URL;
const email = process.env.EMAIL;
const password = process.env.PASSWORD;
const rounds = Number(process.env.SEARCHES ?? 100);
// What people type into a member search: first and last names, a company
// department, a city, partial words, accents left out.
const WORDS = [
  'marta', 'smith', 'garcia', 'kowal', 'nguyen', 'engineering', 'lisbon', 'pat',
  'jose', 'mueller', 'sofia', 'tanaka', 'support', 'zurich', 'olga', 'design',
  'ana', 'silva', 'noah', 'krakow',
];
const KEY_DELAY_MS = 70;

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });
// A page that fails to load its code would only time out: say why.
page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
page.on('console', (message) => {
  if (message.type() === 'error') console.error(`console: ${message.text().slice(0, 500)}`);
});
page.on('requestfailed', (request) => console.error(`failed: ${request.url()} ${request.failure()?.errorText}`));
await page.addInitScript(() => {
  // Every list_members answer: when its body had fully arrived.
  const bench = { answers: [] };
  window.__bench = bench;
  const original = window.fetch;
  // Server functions are called with a Request; chunks with a URL.
  // The request goes out at once: its body is read from a clone beside it
  // (awaiting that first would delay every request being measured).
  window.fetch = function (input) {
    const isList = input instanceof Request && input.url.includes('/api/list_members');
    if (!isList) return original.apply(window, arguments);
    const sent = performance.now();
    const body = input.clone().text();
    const answered = original.apply(window, arguments);
    // The answer's time is when its response arrived: the page may read
    // and render it before a clone's body is read here, and a time taken
    // after that would miss the rows changing.
    answered
      .then((response) => {
        const at = performance.now();
        return Promise.all([body, response.clone().text()]).then(([text]) => bench.answers.push({ body: text, sent, at }));
      })
      .catch(() => {});
    return answered;
  };
  // Changes to the list (the table, or what replaces it when empty).
  bench.mutations = [];
  const inList = (node) => {
    const element = node.nodeType === 1 ? node : node.parentElement;
    return !!(element && element.closest('.table-wrap, .members-table'));
  };
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver((records) => {
      if (records.some((r) => inList(r.target))) bench.mutations.push(performance.now());
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  // The click itself, not Playwright's scrolling and checks before it.
  document.addEventListener(
    'click',
    (event) => {
      if (event.target && event.target.closest && event.target.closest('.load-more')) bench.lastClick = performance.now();
    },
    true,
  );
  document.addEventListener(
    'input',
    (event) => {
      if (event.target && event.target.name === 'q') bench.lastInput = performance.now();
    },
    true,
  );
});

await page.goto(`${base}/signin`);
await page.waitForSelector('body[data-hydrated="true"]');
await page.getByLabel('Email').fill(email);
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL(/\/team$/);
await page.waitForSelector('.directory-controls[data-ready="true"]');
const search = page.locator('input[name="q"]');

/** Waits for the answer whose request body satisfies `wanted` (a string
 * the body must contain), then for the table to change; answers ms from
 * `start` (a page clock time). */
async function settle(start, wanted) {
  const handle = await page
    .waitForFunction(
    ({ start, wanted }) => {
      const bench = window.__bench;
      const answer = bench.answers.find((a) => a.at >= start && a.body.includes(wanted));
      if (!answer) return null;
      const phases = (end, seen) => ({ total: end - start, sent: answer.sent - start, answered: answer.at - start, seen });
      const changed = bench.mutations.find((t) => t >= answer.at);
      if (changed !== undefined) return phases(changed, true);
      // Rows unchanged by this answer: they were already right.
      if (performance.now() - answer.at > 250) return phases(answer.at + 16, false);
      return null;
    },
    { start, wanted },
    { timeout: 15_000, polling: 'raf' },
  )
    .catch(async (error) => {
      const seen = await page.evaluate(() => ({
        lastInput: window.__bench.lastInput,
        answers: window.__bench.answers.slice(-5),
        mutations: window.__bench.mutations.length,
      }));
      console.error(`no settled answer for ${JSON.stringify(wanted)} after ${start}: ${JSON.stringify(seen)}`);
      throw error;
    });
  return handle.jsonValue();
}

async function typeWord(word) {
  // Start from an empty box and a settled list.
  await search.fill('');
  await page.waitForTimeout(400);
  await search.focus();
  for (const ch of word) {
    await page.keyboard.press(ch);
    await page.waitForTimeout(KEY_DELAY_MS);
  }
  // The last character's input event, on the page's clock.
  return page.evaluate(() => window.__bench.lastInput);
}

const searches = [];
for (let i = 0; i < rounds; i++) {
  const word = WORDS[i % WORDS.length];
  const lastKey = await typeWord(word);
  searches.push(await settle(lastKey, `=${word}`));
}

// A filter change: status Current <-> All, 20 times.
const filters = [];
await search.fill('');
await page.waitForTimeout(400);
for (let i = 0; i < 20; i++) {
  const value = i % 2 === 0 ? 'all' : 'current';
  const start = await page.evaluate(() => performance.now());
  await page.locator('select[name="status"]').selectOption(value);
  filters.push(await settle(start, ''));
  await page.waitForTimeout(200);
}

// "Load more", 20 times down the list.
const more = [];
await page.goto(`${base}/team`);
await page.waitForSelector('.directory-controls[data-ready="true"]');
for (let i = 0; i < 20; i++) {
  const button = page.getByRole('button', { name: 'Load more' });
  const before = await page.evaluate(() => window.__bench.lastClick ?? 0);
  await button.click();
  const start = await page.evaluate(() => window.__bench.lastClick);
  if (!(start > before)) throw new Error('the Load more click was not seen');
  more.push(await settle(start, 'after='));
  await page.waitForTimeout(100);
}
await browser.close();

const ms = (value) => `${value.toFixed(1)} ms`;
const row = (what, runs) => {
  const totals = runs.map((r) => r.total);
  const median = (pick) => percentile(runs.map(pick), 50);
  const before = median((r) => r.sent);
  const request = median((r) => r.answered - r.sent);
  const after = median((r) => r.total - r.answered);
  const seen = runs.filter((r) => r.seen).length;
  return `| ${what} | ${runs.length} | ${ms(percentile(totals, 50))} | ${ms(percentile(totals, 95))} | ${ms(Math.max(...totals))} | ${ms(before)} / ${ms(request)} / ${ms(after)} | ${seen} |`;
};
console.log('| action | n | p50 | p95 | max | median split: page before request / request / page after answer | rows seen changing |');
console.log('|---|---:|---:|---:|---:|---|---:|');
console.log(row('typed word: last keystroke to rows', searches));
console.log(row('status filter change to rows', filters));
console.log(row('"Load more" click to appended rows', more));

import { test, expect, type Page } from './fixtures';
import { ADMIN, PASSWORD, hydrated, membersReady, signUp, unique } from './helpers';

/**
 * Names of the page splits the page has fetched so far: a page of its own
 * (`member`, `sign_in`, ...) or a group of pages sharing one split
 * (`signed_in_page`, `signed_out_page`, and `signed_in_frame`: the frame
 * with the Team page).
 */
function watchPageChunks(page: Page): string[] {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const match = request.url().match(/\/pkg\/split_(?:__(\w+?)_route_view_|(signed_in_page|signed_out_page|signed_in_frame)_)/);
    if (match) fetched.push(match[1] ?? match[2]);
  });
  return fetched;
}

test('Team -> member card -> Time -> Reports -> Team loads each split once, when first pointed at, with no page error', async ({ page }) => {
  const chunks = watchPageChunks(page);
  await signUp(page, unique('chunks'), 'Chunk Walker');
  // The Team page's code is the frame's split: no split of its own.
  expect(chunks).toContain('signed_in_frame');
  expect(chunks).not.toContain('team');
  // The Team page does not carry the other signed-in pages.
  expect(chunks).not.toContain('signed_in_page');

  // Pointing at a member's name (a path with an id) fetches the card's code
  // before the click.
  const memberLink = page.locator('.members-table tbody tr').first().locator('a.member-name');
  await memberLink.hover();
  await expect.poll(() => chunks.includes('member')).toBe(true);
  await memberLink.click();
  await expect(page).toHaveURL(/\/team\/members\//);
  await expect(page.getByTestId('member-actions')).toBeVisible();
  await expect(page.locator('#member-name')).toHaveText('Chunk Walker');

  // Pointing at Time fetches the code of every other signed-in page.
  const timeLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Time' });
  await timeLink.hover();
  await expect.poll(() => chunks.includes('signed_in_page')).toBe(true);
  await timeLink.click();
  await expect(page).toHaveURL(/\/time$/);
  await expect(page.getByTestId('timer-bar')).toBeVisible();

  // Reports, and Team again, need nothing more (the warm-up's fetch and the
  // page's own use of a split are two requests; nothing after that).
  const pageFetches = chunks.length;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page).toHaveURL(/\/reports/);
  await expect(page.getByRole('heading', { level: 1, name: 'Summary report' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await membersReady(page);
  expect(chunks.slice(pageFetches)).toEqual([]);
});

/** Transfer sizes of the fetches of a page's own split, oldest first. */
function splitFetches(page: Page, route: string): Promise<number[]> {
  const pattern = ['signed_in_page', 'signed_out_page', 'signed_in_frame'].includes(route) ? `/pkg/split_${route}_` : `/pkg/split___${route}_route_view_`;
  return page.evaluate(
    (pattern) =>
      performance
        .getEntriesByType('resource')
        .filter((entry) => new RegExp(pattern).test(entry.name))
        .map((entry) => (entry as PerformanceResourceTiming).transferSize),
    pattern,
  );
}

test("the Team page's dialogs, bulk bar and row menus are fetched when the page is first used, not by loading it, and work", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, unique('on-demand'), 'Otto Demand');
  const name = `Ondine ${Date.now() % 100000}`;
  await page.request.post('/api/add_limited_member', { form: { name }, headers: { accept: 'application/json' } });
  const onDemand: string[] = [];
  page.on('request', (request) => {
    if (/\/pkg\/split_team_on_demand_/.test(request.url())) onDemand.push(request.url());
  });
  // Opened and left alone (as Lighthouse does), the page fetches none of it.
  await page.goto('/team');
  await membersReady(page);
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(1000);
  expect(onDemand).toEqual([]);
  // The closed menus are on the page; what they hold is not.
  await expect(page.locator('.members-table details.row-menu').first()).toBeAttached();
  await expect(page.locator('.row-menu-list')).toHaveCount(0);

  // The first mouse move fetches it, ahead of any click.
  await page.mouse.move(200, 300);
  await expect.poll(() => onDemand.length).toBeGreaterThan(0);

  // A row's menu opens with its actions, and closes empty.
  const row = page.locator('.members-table tbody tr').filter({ hasText: name });
  await row.locator('summary').click();
  const menu = row.getByRole('group', { name: `Actions for ${name}` });
  await expect(menu.getByRole('link', { name: 'Edit profile' })).toBeVisible();
  await expect(menu.getByRole('button', { name: 'Deactivate' })).toBeVisible();
  await row.locator('summary').click();
  await expect(page.locator('.row-menu-list')).toHaveCount(0);

  // The invite dialog, and the bulk bar for a picked row.
  await page.getByRole('button', { name: 'Invite members' }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await row.getByRole('checkbox', { name: `Select ${name}` }).check();
  await expect(page.getByTestId('bulk-bar')).toContainText('1 member selected');
  // Each part's code came once.
  expect(new Set(onDemand).size).toBe(onDemand.length);
});

test('the sign-in page fetches the signed-in frame and the Team page once someone types, and signing in takes them from the cache', async ({ page }) => {
  await page.goto('/signin');
  await hydrated(page);
  // Only looking (as a crawler or Lighthouse does) downloads nothing more;
  // the email field's autofocus does not count as use.
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(1500);
  expect(await splitFetches(page, 'signed_in_frame')).toHaveLength(0);

  await page.getByLabel('Email').fill(ADMIN);
  await expect.poll(async () => (await splitFetches(page, 'signed_in_frame')).length, { timeout: 30_000 }).toBe(1);
  // Only that one (the frame with the Team page): no other page's link was
  // pointed at.
  expect(await splitFetches(page, 'signed_in_page')).toHaveLength(0);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await membersReady(page);
  for (const route of ['signed_in_frame']) {
    const fetches = await splitFetches(page, route);
    expect(fetches.length, route).toBeGreaterThan(0);
    // The last fetch, the one the page ran, came from the HTTP cache.
    expect(fetches[fetches.length - 1], route).toBe(0);
  }
  // Sign in ran an app of its own; the whole app's core, which the Team
  // page runs, was fetched while the person typed, so it too came from the
  // cache.
  const core = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((entry) => /\/pkg\/teamroom\.[^/]+\.wasm$/.test(entry.name))
      .map((entry) => (entry as PerformanceResourceTiming).transferSize),
  );
  expect(core.length).toBeGreaterThan(0);
  expect(core[core.length - 1]).toBe(0);
});

test('a page opened before a deploy reloads itself when its next page\'s chunk is gone', async ({ page }) => {
  // Data saving on, so no warm-up fetch (pointing at the link) can take the
  // one 404 that is meant for the page's own load.
  await page.addInitScript(() => {
    try {
      Object.defineProperty(navigator, 'connection', { value: { saveData: true } });
    } catch {
      // Left as it is: the warm-up then runs, as in the other tests.
    }
  });
  await signUp(page, unique('stale'), 'Stale Tab');
  // The deploy: the old build's signed-in pages' split answers 404 once, as it would
  // after the new build replaced it; the reloaded page gets the new one.
  let refused = 0;
  await page.route(/\/pkg\/split_signed_in_page_/, async (route) => {
    refused += 1;
    await route.fulfill({ status: 404, body: 'gone' });
    await page.unroute(/\/pkg\/split_signed_in_page_/);
  });
  await page.evaluate(() => {
    (window as unknown as { beforeDeploy: boolean }).beforeDeploy = true;
  });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page).toHaveURL(/\/reports/);
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Summary report' })).toBeVisible();
  expect(refused).toBe(1);
  // A full reload happened: the old page's state is gone.
  expect(await page.evaluate(() => (window as unknown as { beforeDeploy?: boolean }).beforeDeploy)).toBeUndefined();
  // And it works: the Reports page answers a click.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Team' }).click();
  await membersReady(page);
});

test('a page paints before it fetches its code, then fetches each of its files once', async ({ page }) => {
  const code = /\/pkg\/[^/?]+\.(?:wasm|js)$/;
  const requested: string[] = [];
  page.on('request', (request) => {
    if (code.test(request.url())) requested.push(request.url());
  });
  // Sign in runs an app of its own (one script, one wasm); sign up the
  // whole app's core and its split.
  for (const [path, own] of [
    ['/signin', /\/pkg\/sign-in-app\.[^/]+\.wasm$/],
    ['/signup', /\/pkg\/split_/],
  ] as const) {
    requested.length = 0;
    await page.goto(path);
    await hydrated(page);
    const timing = await page.evaluate((source) => {
      const pattern = new RegExp(source);
      const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const stylesheet = entries.find((entry) => entry.name.endsWith('.css'));
      const starts = entries.filter((entry) => pattern.test(entry.name)).map((entry) => entry.startTime);
      return { stylesheetEnd: stylesheet?.responseEnd ?? -1, firstCode: Math.min(...starts), files: starts.length };
    }, code.source);
    // On a slow link the stylesheet the first paint waits for has the
    // connection to itself: no script or wasm is asked for before it is in.
    expect(timing.stylesheetEnd, path).toBeGreaterThan(0);
    expect(timing.firstCode, path).toBeGreaterThanOrEqual(timing.stylesheetEnd);
    // The page's own split and the chunks it needs came with the core, as
    // hints; the loader then took each from them rather than asking again.
    expect(requested.some((url) => own.test(url)), path).toBe(true);
    const twice = requested.filter((url, at) => requested.indexOf(url) !== at);
    expect(twice, path).toEqual([]);
  }
});

/**
 * Opens /signin with the page script's first frame never coming (its
 * `requestAnimationFrame` callback is kept, not run), optionally with its
 * one-second backstop dropped as well and the tab reported hidden. Says
 * whether the page hydrated within `wait` ms.
 */
async function startsWithout(
  browser: import('@playwright/test').Browser,
  options: { dropBackstop: boolean; hidden: boolean; wait: number },
): Promise<{ hydrated: boolean; framesAsked: number; backstopsDropped: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(({ dropBackstop, hidden }) => {
    const seen = { framesAsked: 0, backstopsDropped: 0 };
    (window as unknown as { pageScriptSeen: typeof seen }).pageScriptSeen = seen;
    // The page script is inline; the app's own code runs from /pkg/ and
    // keeps its frames and timers.
    const fromPageScript = () => !(new Error().stack ?? '').includes('/pkg/');
    const frame = window.requestAnimationFrame.bind(window);
    window.requestAnimationFrame = (callback) => {
      if (!fromPageScript()) return frame(callback);
      seen.framesAsked += 1;
      return 0;
    };
    if (dropBackstop) {
      const later = window.setTimeout.bind(window);
      window.setTimeout = ((handler: TimerHandler, delay?: number, ...rest: unknown[]) => {
        if (delay === 1000 && fromPageScript()) {
          seen.backstopsDropped += 1;
          return 0;
        }
        return later(handler, delay, ...rest);
      }) as typeof window.setTimeout;
    }
    if (hidden) {
      Object.defineProperty(Document.prototype, 'visibilityState', { get: () => 'hidden' });
      Object.defineProperty(Document.prototype, 'hidden', { get: () => true });
    }
  }, options);
  await page.goto('/signin');
  const hydrated = await page
    .waitForSelector('body[data-hydrated="true"]', { timeout: options.wait })
    .then(() => true)
    .catch(() => false);
  const seen = await page.evaluate(() => (window as unknown as { pageScriptSeen: { framesAsked: number; backstopsDropped: number } }).pageScriptSeen);
  await context.close();
  return { hydrated, ...seen };
}

test('a page whose first frame never comes still starts: after a second when shown, at once when hidden', async ({ browser }) => {
  // The stubs bite: with no frame and no backstop a shown page stays as the
  // server sent it (so the two cases below are the script's own doing).
  const stuck = await startsWithout(browser, { dropBackstop: true, hidden: false, wait: 4000 });
  expect(stuck.framesAsked).toBeGreaterThanOrEqual(1);
  expect(stuck.backstopsDropped).toBe(1);
  expect(stuck.hydrated).toBe(false);

  // Shown, no frame: the one-second backstop starts it.
  const shown = await startsWithout(browser, { dropBackstop: false, hidden: false, wait: 30_000 });
  expect(shown.framesAsked).toBeGreaterThanOrEqual(1);
  expect(shown.hydrated).toBe(true);

  // Hidden (a tab opened in the background): it starts without waiting for
  // a frame or the backstop, neither of which it asks for.
  const hidden = await startsWithout(browser, { dropBackstop: true, hidden: true, wait: 30_000 });
  expect(hidden.hydrated).toBe(true);
  expect(hidden.framesAsked).toBe(0);
  expect(hidden.backstopsDropped).toBe(0);
});

/** Paths of the script and wasm files the page asked for, in order. */
function watchCode(page: Page): string[] {
  const requested: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (/^\/pkg\/[^/]+\.(?:wasm|js)$/.test(url.pathname)) requested.push(url.pathname);
  });
  return requested;
}

const WHOLE_APP = /^\/pkg\/(?:teamroom\.|__wasm_split\.|split_|chunk_)/;

test('sign in and the Kiosk start with an app of their own; a link, or signing in, loads the next page in full in the whole app', async ({ page }) => {
  const requested = watchCode(page);
  await page.goto('/kiosk');
  await hydrated(page);
  expect(requested.filter((file) => file.startsWith('/pkg/kiosk-app.')).length).toBe(2);
  expect(requested.filter((file) => WHOLE_APP.test(file))).toEqual([]);

  requested.length = 0;
  await page.goto('/signin');
  await hydrated(page);
  // One script and one wasm, and nothing of the whole app while nobody
  // has touched the page.
  expect(requested.filter((file) => file.startsWith('/pkg/sign-in-app.')).length).toBe(2);
  expect(requested.filter((file) => WHOLE_APP.test(file))).toEqual([]);
  // It is the page's app that answers: checking as you type works.
  await page.getByLabel('Email').fill('not an address');
  await page.getByLabel('Password').focus();
  await expect(page.locator('#email-error')).toBeVisible();

  // A link to another page: that page, loaded in full (a new document)
  // and running the whole app.
  await page.evaluate(() => {
    (window as unknown as { beforeLink: boolean }).beforeLink = true;
  });
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await expect.poll(() => page.evaluate(() => (window as unknown as { beforeLink?: boolean }).beforeLink ?? 'new document')).toBe('new document');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  expect(requested.some((file) => /^\/pkg\/teamroom\.[^/]+\.wasm$/.test(file))).toBe(true);

  // Back to sign in: its own app again; signing in (the server's redirect)
  // lands on the Team page, whole app.
  await page.goBack();
  await expect(page).toHaveURL(/\/signin$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.evaluate(() => {
    (window as unknown as { beforeSignIn: boolean }).beforeSignIn = true;
  });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await membersReady(page);
  expect(await page.evaluate(() => (window as unknown as { beforeSignIn?: boolean }).beforeSignIn ?? 'new document')).toBe('new document');
  // The whole app runs here: the member card opens in place.
  await page.locator('.members-table tbody tr').first().locator('a.member-name').click();
  await expect(page).toHaveURL(/\/team\/members\//);
  await expect(page.getByTestId('member-actions')).toBeVisible();
});

test("a page app's router, stepped to an address it has no page for, loads that address in full on this origin, whatever its path looks like", async ({ page }) => {
  const requested = watchCode(page);
  await page.goto('/signin');
  await hydrated(page);
  const origin = new URL(page.url()).origin;
  const markDocument = () =>
    page.evaluate(() => {
      (window as unknown as { before: boolean }).before = true;
    });
  // Asked while the new document replaces the old one, evaluate can fail:
  // that is not an answer yet, so the poll asks again.
  const sameDocument = () =>
    page
      .evaluate(() => (window as unknown as { before?: boolean }).before ?? 'new document')
      .catch(() => 'between documents');

  // The back button into an address the page app's router has no route
  // for (no link was clicked, so the click listener never saw it): its
  // fallback loads it in full, in the whole app.
  requested.length = 0;
  await markDocument();
  await page.evaluate(() => {
    history.pushState(null, '', '/signup');
    history.pushState(null, '', '/signin');
    history.back();
  });
  await expect(page).toHaveURL(`${origin}/signup`);
  await expect.poll(sameDocument).toBe('new document');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Create your account' })).toBeVisible();
  expect(requested.some((file) => /^\/pkg\/teamroom\.[^/]+\.wasm$/.test(file))).toBe(true);

  // A path that starts with two slashes (`/.//x` is `//x` once the dot is
  // resolved) would, on its own, be read as another host: it stays here.
  await page.goto('/signin');
  await hydrated(page);
  await markDocument();
  await page.evaluate(() => {
    history.pushState(null, '', '/.//elsewhere.example/x');
    history.pushState(null, '', '/signin');
    history.back();
  });
  await expect.poll(sameDocument).toBe('new document');
  await expect.poll(() => page.url()).toContain('elsewhere.example');
  expect(new URL(page.url()).origin).toBe(origin);
  expect(new URL(page.url()).pathname).toBe('//elsewhere.example/x');
});

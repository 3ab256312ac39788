import { test, expect, type Page } from './fixtures';
import * as path from 'node:path';
import { hydrated, signUp, SHOTS, unique, utcDay } from './helpers';

/** The Time page, hydrated, with the timer bar answering. */
async function openTime(page: Page) {
  await page.goto('/time');
  await hydrated(page);
  await expect(page.getByTestId('timer-bar')).toBeVisible();
}

test('start and stop a timer, see it tick in the header and land in the week', async ({ page }) => {
  await signUp(page, unique('timer'), 'Tess Timer');
  await openTime(page);
  await expect(page.getByText('No time tracked this week')).toBeVisible();

  const what = `Write the release notes ${Date.now()}`;
  await page.getByPlaceholder('What are you working on?').fill(what);
  await page.getByRole('button', { name: 'Start' }).click();
  const clock = page.getByTestId('timer-clock');
  await expect(clock).toHaveText(/^0:00:0\d$/);
  // The header shows the same timer, ticking, and keeps it on other pages.
  const header = page.getByTestId('header-timer');
  await expect(header).toContainText(what);
  await expect(header).toContainText(/0:00:0[2-9]/, { timeout: 10_000 });
  await page.getByRole('link', { name: 'Team', exact: true }).click();
  await expect(page).toHaveURL(/\/team$/);
  await expect(page.getByTestId('header-timer')).toContainText(what);
  await page.getByTestId('header-timer').click();
  await expect(page).toHaveURL(/\/time$/);

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SHOTS, 'time-running-desktop.png'), fullPage: true });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('header-timer')).toHaveCount(0);
  const entry = page.getByTestId('entry').filter({ hasText: what });
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText(/0:00:0[2-9]|0:00:[1-5]\d/);

  // Reload: the entry is stored, not just drawn.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('entry').filter({ hasText: what })).toHaveCount(1);
  await expect(page.getByTestId('header-timer')).toHaveCount(0);
});

test('a typed entry that ends before it starts, or runs past 24 hours, is refused with a message', async ({ page }) => {
  await signUp(page, unique('typed'), 'Tom Typed');
  await openTime(page);
  await page.getByRole('button', { name: 'Add time' }).click();
  const form = page.getByTestId('entry-form');
  await form.getByLabel('Description').fill('Client call');
  // A week ago today (UTC, the member's default zone and the browser's, see
  // playwright.config.ts): always in the previous week, whatever the date.
  const day = utcDay(-7);
  const next = utcDay(-6);
  await form.getByLabel('Start').fill(`${day}T17:00`);
  await form.getByLabel('End').fill(`${day}T09:00`);
  await form.getByRole('button', { name: 'Add entry' }).click();
  await expect(form).toContainText('It ends before it starts');
  await form.getByLabel('End').fill(`${next}T18:00`);
  await expect(form).toContainText('at most 24 hours');
  await form.getByLabel('End').fill(`${day}T18:30`);
  await expect(form.locator('.field-error').filter({ hasText: /\S/ })).toHaveCount(0);
  await form.getByRole('button', { name: 'Add entry' }).click();
  await expect(form).toHaveCount(0);
  // Not in this week; in last week, with its times.
  await expect(page.getByTestId('entry').filter({ hasText: 'Client call' })).toHaveCount(0);
  await page.goto('/time?week=-1');
  await hydrated(page);
  const entry = page.getByTestId('entry').filter({ hasText: 'Client call' });
  await expect(entry).toContainText('17:00 – 18:30');
  await expect(entry).toContainText('1:30:00');
});

for (const [name, viewport] of [
  ['phone', { width: 390, height: 844 }],
  ['desktop', { width: 1280, height: 800 }],
] as const) {
  test(`the Time page fits a ${name}`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await signUp(page, unique(`shot-${name}`), 'Sam Screens');
    await openTime(page);
    await page.getByRole('button', { name: 'Add time' }).click();
    const form = page.getByTestId('entry-form');
    const today = utcDay(0);
    await form.getByLabel('Description').fill('Sprint planning');
    await form.getByLabel('Start').fill(`${today}T00:05`);
    await form.getByLabel('End').fill(`${today}T01:35`);
    await form.getByRole('button', { name: 'Add entry' }).click();
    await expect(page.getByTestId('entry')).toHaveCount(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(SHOTS, `time-${name}.png`), fullPage: true });

    // The summary report counts it under this person, with a total.
    await page.getByRole('link', { name: 'Reports' }).click();
    await expect(page).toHaveURL(/\/reports$/);
    const table = page.getByTestId('report-table');
    await expect(table.locator('tbody tr')).toHaveCount(1);
    await expect(table.locator('tbody tr')).toContainText('Sam Screens');
    await expect(page.getByTestId('report-total')).toHaveText('1:30');
    const csv = await page.request.get((await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')) ?? '');
    expect(await csv.text()).toContain('Sam Screens');
    const reportOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(reportOverflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(SHOTS, `reports-${name}.png`), fullPage: true });
  });
}

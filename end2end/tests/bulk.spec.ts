import { test, expect } from './fixtures';
import * as path from 'node:path';
import { membersReady, signUp, SHOTS, unique } from './helpers';

test('bulk deactivation of a filtered selection reports who was skipped and why', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  // The owner's own name matches the filter too: the rules must skip them.
  await signUp(page, unique('crew-owner'), 'Cara Crew');
  const tag = `Crew${Date.now() % 100000}`;
  for (const n of [1, 2, 3, 4]) {
    const added = await page.request.post('/api/add_limited_member', {
      form: { name: `${tag} Member ${n}` },
      headers: { accept: 'application/json' },
    });
    expect(added.ok()).toBeTruthy();
  }
  await page.request.post('/api/add_limited_member', { form: { name: 'Outside Olga' }, headers: { accept: 'application/json' } });

  await page.goto(`/team?q=crew`);
  await membersReady(page);
  const rows = page.locator('.members-table tbody tr');
  await expect(rows).toHaveCount(5);

  // Shift-click selects a range.
  await rows.nth(0).getByRole('checkbox').click();
  await rows.nth(2).getByRole('checkbox').click({ modifiers: ['Shift'] });
  const bar = page.getByTestId('bulk-bar');
  await expect(bar).toContainText('3 members selected');

  // Then every row of the filtered view.
  await page.getByRole('checkbox', { name: 'Select all members shown' }).check();
  await expect(bar).toContainText('5 members selected');
  await bar.getByLabel('Action').selectOption('deactivate');
  await bar.getByRole('button', { name: 'Apply' }).click();
  await expect(bar.getByRole('alert')).toContainText('Deactivate for 5 members?');
  await bar.getByRole('button', { name: 'Deactivate now' }).click();
  const report = page.getByTestId('bulk-report');
  await expect(report).toContainText('Deactivate: 4 done, 1 skipped.');
  await expect(report).toContainText('Cara Crew');
  await expect(report).toContainText(/yourself|Owner/);
  await page.screenshot({ path: path.join(SHOTS, 'bulk-report-desktop.png'), fullPage: true });

  // The list reloaded: the four are inactive, Olga and the owner are not.
  await page.goto('/team?q=crew&status=inactive');
  await membersReady(page);
  await expect(page.locator('.members-table tbody tr')).toHaveCount(4);
  await page.goto('/team?q=olga');
  await membersReady(page);
  await expect(page.locator('.members-table tbody tr')).toContainText('Active');

  // The audit log has one row per member deactivated, filterable.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  const filters = page.getByTestId('audit-filters');
  await filters.getByLabel('Action').selectOption('member.deactivated');
  await filters.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/action=member\.deactivated/);
  const events = page.getByTestId('audit-table').locator('tbody tr');
  await expect(events).toHaveCount(4);
  await expect(events.first()).toContainText('Cara Crew');
  await expect(events.first()).toContainText(`${tag} Member`);
  await page.screenshot({ path: path.join(SHOTS, 'audit-desktop.png'), fullPage: true });

  // Reactivate them the same way, on a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/team?q=crew&status=inactive');
  await membersReady(page);
  await page.getByRole('checkbox', { name: 'Select all members shown' }).check();
  await page.getByTestId('bulk-bar').getByLabel('Action').selectOption('reactivate');
  await page.getByTestId('bulk-bar').getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('button', { name: 'Reactivate now' }).click();
  await expect(page.getByTestId('bulk-report')).toContainText('Reactivate: 4 done, 0 skipped.');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, 'bulk-report-phone.png'), fullPage: false });
});

test("a row's menu deactivates, then deletes, with the rules' own words", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signUp(page, unique('menu-owner'), 'Mona Menu');
  const name = `Rowan ${Date.now() % 100000}`;
  await page.request.post('/api/add_limited_member', { form: { name }, headers: { accept: 'application/json' } });
  await page.goto(`/team?q=${encodeURIComponent(name)}`);
  await membersReady(page);
  const row = page.locator('.members-table tbody tr').filter({ hasText: name });
  await row.getByRole('button', { name: `Actions for ${name}` }).or(row.locator('summary')).first().click();
  const menu = row.getByRole('group', { name: `Actions for ${name}` });
  await expect(menu.getByRole('link', { name: 'Edit profile' })).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, 'row-menu-desktop.png') });
  await menu.getByRole('button', { name: 'Deactivate' }).click();
  await expect(page.getByTestId('team-notice')).toContainText(`Deactivate: ${name}.`);

  await page.goto(`/team?q=${encodeURIComponent(name)}&status=inactive`);
  await membersReady(page);
  const inactive = page.locator('.members-table tbody tr').filter({ hasText: name });
  await inactive.locator('summary').click();
  await inactive.getByRole('button', { name: 'Delete…' }).click();
  await inactive.getByRole('button', { name: `Delete ${name} for good` }).click();
  await expect(page.getByTestId('team-notice')).toContainText(`Deleted ${name}.`);
  await page.goto(`/team?q=${encodeURIComponent(name)}&status=all`);
  await membersReady(page);
  await expect(page.locator('.members-table tbody tr')).toHaveCount(0);
});

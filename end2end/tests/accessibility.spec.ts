import { test, expect, type Page } from './fixtures';
import AxeBuilder from '@axe-core/playwright';

/** WCAG 2.1 A/AA rules (labels, names, contrast, landmarks...) on a page. */
async function expectNoViolations(page: Page, path: string) {
  await page.goto(path);
  await page.waitForSelector('body[data-hydrated="true"]');
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const found = results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found, `accessibility violations on ${path}`).toEqual([]);
}

test('signed-out pages pass the WCAG A/AA checks', async ({ page }) => {
  await expectNoViolations(page, '/signin');
  await expectNoViolations(page, '/signup');
  await expectNoViolations(page, '/kiosk');
});

test('signed-in pages pass the WCAG A/AA checks, on a desktop and a phone', async ({ page }) => {
  await page.goto('/signup');
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel('Email').fill(`a11y.${Date.now()}@example.com`);
  await page.getByLabel('Full name').fill('Axe Tester');
  await page.getByLabel('Password').fill('quiet lake at dawn');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/team$/);
  for (const path of ['/team', '/time', '/reports', '/settings', '/workspaces/new']) {
    await expectNoViolations(page, path);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoViolations(page, '/team');
  await expectNoViolations(page, '/time');
});

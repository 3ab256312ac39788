import { test, expect, type Page } from './fixtures';
import * as path from 'node:path';
import { hydrated, inviteAndAccept, shiftLocal, signUp, SHOTS, unique, PASSWORD_NEW } from './helpers';

/** Olivia, Owner of her own workspace switched to the Enterprise plan. */
async function enterpriseOwner(page: Page) {
  await signUp(page, unique('olivia'), 'Olivia Owner');
  const plan = await page.request.post('/api/set_plan', {
    form: { plan: 'enterprise', seats: '10' },
    headers: { accept: 'application/json' },
  });
  expect(plan.ok()).toBeTruthy();
}

async function accountMenu(owner: Page, name: string) {
  const row = owner.getByTestId('account-row').filter({ hasText: name });
  await row.locator('summary').click();
  return row;
}

test('the Owner stops a forgotten timer from the Accounts tab and the open page shows it stopped without a reload', async ({ page: owner, browser }) => {
  await enterpriseOwner(owner);
  const miaEmail = unique('mia');
  const { context, page: mia } = await inviteAndAccept(owner, browser, miaEmail, 'Mia Member');

  // Mia starts a timer and leaves her Time page open.
  await mia.goto('/time');
  await hydrated(mia);
  await mia.getByPlaceholder('What are you working on?').fill('Forgotten over lunch');
  await mia.getByRole('button', { name: 'Start' }).click();
  await expect(mia.getByTestId('timer-clock')).toBeVisible();

  await owner.goto('/accounts');
  await hydrated(owner);
  const row = owner.getByTestId('account-row').filter({ hasText: 'Mia Member' });
  await expect(row).toContainText('Forgotten over lunch');
  await owner.setViewportSize({ width: 1280, height: 800 });
  await owner.screenshot({ path: path.join(SHOTS, 'accounts-desktop.png'), fullPage: true });
  const overflow = await owner.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);

  await accountMenu(owner, 'Mia Member');
  await row.getByRole('button', { name: 'Stop timer' }).click();
  const dialog = owner.getByRole('dialog', { name: 'Timer of Mia Member stopped' });
  await expect(dialog).toBeVisible();
  // Mia's open page shows the timer stopped, without a reload.
  await expect(mia.getByTestId('timer-clock')).toHaveCount(0, { timeout: 5000 });
  await expect(mia.getByTestId('header-timer')).toHaveCount(0);

  // The Owner corrects the entry: a bad end says so on its field.
  const start = await dialog.getByLabel('Started').inputValue();
  await dialog.getByLabel('Ended').fill(shiftLocal(start, -60));
  await dialog.getByRole('button', { name: 'Save times' }).click();
  await expect(dialog.locator('#end-error')).toContainText('ends before it starts');
  await dialog.getByLabel('Ended').fill(shiftLocal(start, 90));
  await dialog.getByRole('button', { name: 'Save times' }).click();
  await expect(owner.getByTestId('accounts-notice')).toContainText('Saved the corrected entry of Mia Member');
  await expect(row).toContainText('Not running');

  // The audit log names the Owner's actions.
  await owner.goto('/audit');
  await hydrated(owner);
  await expect(owner.locator('main')).toContainText('Timer stopped by the Owner');
  await expect(owner.locator('main')).toContainText('Entry corrected by the Owner');

  await owner.setViewportSize({ width: 390, height: 844 });
  await owner.goto('/accounts');
  await hydrated(owner);
  await expect(owner.getByTestId('account-row').filter({ hasText: 'Mia Member' })).toBeVisible();
  await owner.screenshot({ path: path.join(SHOTS, 'accounts-phone.png'), fullPage: true });
  const phoneOverflow = await owner.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(phoneOverflow).toBeLessThanOrEqual(0);
  await context.close();
});

test('the Owner sets a password after re-entering their own; the member must choose their own at the next sign-in', async ({ page: owner, browser }) => {
  await enterpriseOwner(owner);
  const miaEmail = unique('mia');
  const { context, page: mia } = await inviteAndAccept(owner, browser, miaEmail, 'Mia Member');

  await owner.goto('/accounts');
  await hydrated(owner);
  const row = await accountMenu(owner, 'Mia Member');
  await row.getByRole('button', { name: 'Set password…' }).click();
  const dialog = owner.getByRole('dialog', { name: 'Set a password for Mia Member' });
  // Wrong own password: said on its field, nothing changed.
  await dialog.getByLabel('Your own password').fill('not my password');
  await dialog.getByLabel('New password for them').fill('owner chosen phrase');
  await dialog.getByLabel('Type it again').fill('owner chosen phrase');
  await dialog.getByRole('button', { name: 'Set password' }).click();
  await expect(dialog.locator('#own-password-error')).toContainText('not your password');
  await dialog.getByLabel('Your own password').fill(PASSWORD_NEW);
  await dialog.getByRole('button', { name: 'Set password' }).click();
  await expect(owner.getByTestId('accounts-notice')).toContainText('must choose their own');

  // Mia is signed out on her next request.
  await mia.goto('/time');
  await expect(mia).toHaveURL(/\/signin/);
  await hydrated(mia);
  await mia.getByLabel('Email').fill(miaEmail);
  await mia.getByLabel('Password').fill('owner chosen phrase');
  await mia.getByRole('button', { name: 'Sign in' }).click();
  await expect(mia).toHaveURL(/\/reset-password\/.+set-by-owner/);
  await expect(mia.getByRole('status').filter({ hasText: 'Your workspace Owner set your password' })).toBeVisible();
  await hydrated(mia);
  await mia.getByLabel('New password').fill('mia chose her own');
  await mia.getByRole('button', { name: 'Save and sign in' }).click();
  await expect(mia).not.toHaveURL(/reset-password|signin/);
  await context.close();
});

test('the Owner logs in as a member with a reason: banner, credentials out of reach, audited as them, told afterwards', async ({ page: owner, browser }) => {
  await enterpriseOwner(owner);
  const miaEmail = unique('mia');
  const { context, page: mia } = await inviteAndAccept(owner, browser, miaEmail, 'Mia Member');

  await owner.goto('/accounts');
  await hydrated(owner);
  const row = await accountMenu(owner, 'Mia Member');
  await row.getByRole('button', { name: 'Log in as user…' }).click();
  const dialog = owner.getByRole('dialog', { name: 'Log in as Mia Member' });
  // A reason with a control character is refused on its field before anything starts.
  await dialog.getByLabel('Reason (optional, shown to them)').fill('checking\tthings');
  await expect(dialog.locator('#view-as-reason-error')).toContainText('plain text on one line');
  await dialog.getByLabel('Reason (optional, shown to them)').fill('Checking her project permissions');
  await dialog.getByRole('button', { name: 'Log in as Mia Member' }).click();

  const banner = owner.getByTestId('impersonation-banner');
  await expect(banner).toContainText('Viewing as Mia Member');
  await hydrated(owner);
  await expect(owner.getByTestId('impersonation-left')).toContainText('min left');
  await owner.setViewportSize({ width: 1280, height: 800 });
  await owner.screenshot({ path: path.join(SHOTS, 'viewing-as-desktop.png') });
  await owner.setViewportSize({ width: 390, height: 844 });
  await owner.screenshot({ path: path.join(SHOTS, 'viewing-as-phone.png') });
  await owner.setViewportSize({ width: 1280, height: 800 });

  // Mia's password, two-factor, sessions and API keys are out of reach.
  await owner.goto('/profile');
  await hydrated(owner);
  await expect(owner.getByTestId('credentials-out-of-reach')).toBeVisible();
  await expect(owner.getByTestId('password')).toHaveCount(0);
  await expect(owner.getByRole('heading', { name: 'API keys', exact: true })).toHaveCount(0);
  const sessions = await owner.request.post('/api/my_sessions', { headers: { accept: 'application/json' } });
  expect(sessions.status()).toBe(409);

  // A change made as Mia is recorded as the Owner acting as her.
  await owner.getByLabel('Weekly summary of tracked time').click();
  await owner.getByRole('button', { name: 'Save profile' }).click();
  await expect(owner.getByText('Profile saved.')).toBeVisible();

  // The Accounts tab is not Mia's: as her, it does not exist.
  await owner.goto('/accounts');
  await expect(owner.getByRole('heading', { name: 'Page not found' })).toBeVisible();

  await owner.getByTestId('impersonation-banner').getByRole('button', { name: 'Back to my view' }).click();
  await expect(owner.getByTestId('impersonation-banner')).toHaveCount(0);
  await owner.goto('/audit');
  await hydrated(owner);
  await expect(owner.locator('main')).toContainText('as Mia Member');
  await expect(owner.locator('main')).toContainText('Checking her project permissions');

  // Mia is told who viewed as her, and why.
  await mia.goto('/team');
  await hydrated(mia);
  await mia.locator('.bell-button').click();
  await expect(mia.getByTestId('bell-notice')).toContainText('Olivia Owner');
  await expect(mia.getByTestId('bell-notice')).toContainText('Checking her project permissions');
  await context.close();
});

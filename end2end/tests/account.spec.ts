import { test, expect } from './fixtures';
import * as path from 'node:path';
import { hydrated, signUp, totp, unique, PASSWORD_NEW, SHOTS } from './helpers';
import { waitForMail } from './mail';

test('forgot password: the sign-in page mails a link, a new password signs in', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const email = unique('forgetful');
  await signUp(page, email, 'Fay Forgetful');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  // A fresh load: the sign-out's own navigation must not race the click.
  await page.goto('/signin');
  await hydrated(page);

  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await hydrated(page);
  await page.getByLabel('Email').fill('not an address');
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.locator('#email-error')).not.toBeEmpty();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByTestId('reset-sent')).toContainText('If an account uses that address');

  const mail = await waitForMail(email, 20_000, '/reset-password/');
  const link = mail.match(/https?:\/\/[^\s"<>]+\/reset-password\/[A-Za-z0-9_-]{43}/)?.[0] ?? '';
  expect(link).not.toBe('');
  await page.goto(new URL(link).pathname);
  await hydrated(page);
  await page.getByLabel('New password').fill('short');
  await expect(page.locator('#password-error')).toContainText('8');
  const fresh = 'a lighthouse at the end of the pier';
  await page.getByLabel('New password').fill(fresh);
  await page.getByRole('button', { name: 'Save and sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  expect(await waitForMail(email, 20_000, 'password was changed')).toContain('reset link');

  // The link was single use.
  await page.goto(new URL(link).pathname);
  await expect(page.getByTestId('reset-dead')).toContainText('expired or was already used');

  // The old password is gone; the new one works.
  await page.goto('/team');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD_NEW);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Email or password is incorrect');
  await page.getByLabel('Password').fill(fresh);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  expect(errors).toEqual([]);
});

test('the sessions list ends another browser, whose next click lands on sign-in', async ({ page, browser }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const email = unique('sessions');
  await signUp(page, email, 'Sid Sessions');

  // The same account, signed in on a phone.
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  });
  const other = await phone.newPage();
  await other.goto('/signin');
  await hydrated(other);
  await other.getByLabel('Email').fill(email);
  await other.getByLabel('Password').fill(PASSWORD_NEW);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await expect(other).toHaveURL(/\/team$/);

  await page.goto('/profile');
  await hydrated(page);
  const sessions = page.getByTestId('session');
  await expect(sessions).toHaveCount(2);
  await expect(sessions.first()).toContainText('This device');
  await expect(sessions.nth(1)).toContainText('Safari on iOS');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByTestId('sessions').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'sessions-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, 'sessions-phone.png'), fullPage: true });

  await sessions.nth(1).getByRole('button', { name: 'End session' }).click();
  await expect(sessions).toHaveCount(1);
  // The phone's next click lands on sign-in.
  await other.getByRole('link', { name: 'Time', exact: true }).click();
  await expect(other).toHaveURL(/\/signin/);
  await phone.close();
  expect(errors).toEqual([]);
});

test('two-factor: enrol with the key shown, then sign in with a code and with a recovery code', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const email = unique('twofactor');
  await signUp(page, email, 'Tess Twofactor');
  await page.goto('/profile');
  await hydrated(page);
  const card = page.getByTestId('two-factor');
  await expect(card).toContainText('Off');
  await card.getByRole('button', { name: 'Set up two-factor' }).click();
  await expect(card.getByTestId('two-factor-qr').locator('svg')).toBeVisible();
  const key = (await card.getByTestId('two-factor-key').textContent()) ?? '';
  expect(key.replace(/-/g, '')).toMatch(/^[A-Z2-7]{32}$/);
  for (const [name, viewport] of [
    ['phone', { width: 390, height: 844 }],
    ['desktop', { width: 1280, height: 800 }],
  ] as const) {
    await page.setViewportSize(viewport);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, name).toBeLessThanOrEqual(0);
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, `two-factor-enrol-${name}.png`), fullPage: true });
  }
  // A wrong code is refused on its field; the right one turns it on.
  await card.getByLabel('Your password').fill(PASSWORD_NEW);
  await card.getByLabel('Code from your app').fill('12ab56');
  await card.getByRole('button', { name: 'Turn on' }).click();
  await expect(card.locator('#tf-code-error')).not.toBeEmpty();
  await card.getByLabel('Code from your app').fill(totp(key));
  await card.getByRole('button', { name: 'Turn on' }).click();
  const codes = card.getByTestId('recovery-codes').locator('code');
  await expect(codes).toHaveCount(10);
  const recovery = (await codes.nth(2).textContent()) ?? '';
  expect(recovery).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
  await expect(card).toContainText('On');
  expect(await waitForMail(email, 20_000, 'Two-factor authentication was turned on')).toContain('Two-factor authentication is on');

  // Sign out; the password alone now leads to the code form.
  await page.goto('/team');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD_NEW);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/signin\/two-factor$/);
  await hydrated(page);
  // The code enrolment used is spent; the app's next one works.
  await page.getByLabel('Code').fill(totp(key, 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await hydrated(page);

  // Again, with a recovery code typed in capitals.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD_NEW);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/signin\/two-factor$/);
  await hydrated(page);
  await page.getByLabel('Code').fill(recovery.toUpperCase());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  expect(await waitForMail(email, 20_000, 'recovery code was just used')).toContain('9 unused recovery codes');
  expect(errors).toEqual([]);
});

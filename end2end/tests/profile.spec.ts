import { test, expect } from './fixtures';
import * as path from 'node:path';
import { hydrated, PASSWORD_NEW, signUp, SHOTS, unique } from './helpers';
import { waitForMail } from './mail';

// A 2x2 PNG; the server crops and scales it to 256 px.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGM4EaABRAwQCgAljgUBqTNxyAAAAABJRU5ErkJggg==',
  'base64',
);

for (const [name, viewport] of [
  ['desktop', { width: 1280, height: 900 }],
  ['phone', { width: 390, height: 844 }],
] as const) {
  test(`edit your own profile and photo on a ${name}`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await signUp(page, unique(`profile-${name}`), 'Pat Profile');
    await page.goto('/profile');
    await hydrated(page);
    const editor = page.getByTestId('profile-editor');
    const capacity = editor.getByLabel('Daily capacity (hours)');
    await expect(capacity).toHaveValue('8');

    // Bad input is named as you type, and nothing is saved.
    await capacity.fill('25');
    await expect(editor).toContainText('between 0 and 24 hours');
    await editor.getByLabel('Billing rate per hour').fill('abc');
    await expect(editor).toContainText('Enter an amount like 45');
    await editor.getByLabel('Billing rate per hour').fill('62.50');
    await capacity.fill('7.5');
    await editor.getByRole('checkbox', { name: 'Fri' }).uncheck();
    await editor.getByRole('button', { name: 'Save profile' }).click();
    await expect(editor.getByRole('status')).toContainText('Profile saved.');

    // A web page renamed .png is refused by its content.
    await editor.locator('input[type=file]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: Buffer.from('<!doctype html><p>hi</p>') });
    await expect(editor).toContainText('not a PNG, JPEG or WebP image');
    await editor.locator('input[type=file]').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
    const photo = editor.getByRole('img', { name: 'Photo of Pat Profile' });
    await expect(photo).toBeVisible();
    expect(await photo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(256);

    // Reloaded, it is all still there.
    await page.reload();
    await hydrated(page);
    await expect(capacity).toHaveValue('7.5');
    await expect(editor.getByLabel('Billing rate per hour')).toHaveValue('62.50');
    await expect(editor.getByRole('checkbox', { name: 'Fri' })).not.toBeChecked();
    await expect(editor.getByRole('img', { name: 'Photo of Pat Profile' })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(SHOTS, `profile-${name}.png`), fullPage: true });
  });
}

test('changing your email waits for the new address to confirm, and the old one is told', async ({ page, browser }) => {
  const old = unique('old-address');
  const fresh = unique('new-address');
  await signUp(page, old, 'Eli Email');
  await page.goto('/profile');
  await hydrated(page);
  await page.getByRole('button', { name: 'Change email' }).click();
  const form = page.getByTestId('email-change');
  await form.getByLabel('New email address').fill(fresh);
  await form.getByLabel('Current password').fill('not my password');
  await form.getByRole('button', { name: 'Send confirmation link' }).click();
  await expect(form).toContainText('not your current password');
  await form.getByLabel('Current password').fill(PASSWORD_NEW);
  await form.getByRole('button', { name: 'Send confirmation link' }).click();
  await expect(form.getByRole('status')).toContainText(`Check ${fresh}`);

  // The link is opened on a phone, signed out.
  const mail = await waitForMail(fresh);
  const link = mail.match(/https?:\/\/[^\s"<>]+\/email-change\/[A-Za-z0-9_-]{43}/)?.[0] ?? '';
  expect(link).not.toBe('');
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const tab = await phone.newPage();
  await tab.goto(new URL(link).pathname);
  await hydrated(tab);
  await tab.getByRole('button', { name: 'Confirm my new address' }).click();
  await expect(tab.getByTestId('email-changed')).toContainText(fresh);
  expect(await waitForMail(old, 20_000, 'was changed')).toContain(`now ${fresh}`);
  await phone.close();

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('profile-editor')).toContainText(fresh);
});

import { test, expect } from './fixtures';
import * as path from 'node:path';
import { hydrated, signUp, SHOTS, unique, PASSWORD_NEW } from './helpers';

test('an owner sees the Kiosk device on Settings and ends it', async ({ page, browser }) => {
  const owner = unique('kiosk-devices');
  await signUp(page, owner, 'Kai Devices');

  // A second device: the owner signs in there and launches the Kiosk.
  const tablet = await (await browser.newContext()).newPage();
  await tablet.goto('/signin');
  await hydrated(tablet);
  await tablet.getByLabel('Email').fill(owner);
  await tablet.getByLabel('Password').fill(PASSWORD_NEW);
  await tablet.getByRole('button', { name: 'Sign in' }).click();
  await expect(tablet).toHaveURL(/\/team$/);
  await tablet.goto('/time');
  await hydrated(tablet);
  await tablet.getByRole('button', { name: 'Launch Kiosk on this device' }).click();
  await tablet.getByRole('button', { name: 'Launch Kiosk', exact: true }).click();
  await expect(tablet).toHaveURL(/\/kiosk$/);
  await tablet.waitForSelector('[data-testid="kiosk"][data-ready="true"]');

  // Settings lists it: who launched it, when, last used.
  await page.goto('/settings');
  await hydrated(page);
  const card = page.getByTestId('kiosk-devices');
  const device = card.getByTestId('kiosk-device');
  await expect(device).toHaveCount(1);
  await expect(device).toContainText('by Kai Devices');
  await expect(device).toContainText('last used');
  await page.screenshot({ path: path.join(SHOTS, 'settings-kiosk-devices.png') });
  await device.getByRole('button', { name: /^End Kiosk on/ }).click();
  await expect(card.getByTestId('no-kiosk-devices')).toBeVisible();

  // The tablet is no longer a Kiosk.
  await tablet.reload();
  await expect(tablet.getByRole('heading', { name: 'This device is not a Kiosk' })).toBeVisible();
});

import { test, expect, devices } from './fixtures';
import * as path from 'node:path';
import { hydrated, membersReady, signUp, SHOTS, unique } from './helpers';

// A tablet held in landscape, touch only.
test.use({ viewport: { width: 1024, height: 768 }, hasTouch: true, isMobile: false, userAgent: devices['iPad (gen 7)'].userAgent });

test('a limited member clocks in at the Kiosk with a wrong, then the right PIN', async ({ page }) => {
  const owner = unique('kiosk-owner');
  await signUp(page, owner, 'Kim Kiosk');
  const name = `Lena Limited ${Date.now() % 100000}`;
  // Add the limited member and give them a PIN from their card.
  await page.getByRole('button', { name: 'Add limited member' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add limited member' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByTestId('team-notice')).toContainText('limited member');
  await page.goto(`/team?status=all&q=${encodeURIComponent(name)}`);
  await membersReady(page);
  await page.locator('.members-table tbody tr').first().locator('a.member-name').click();
  const card = page.getByTestId('member-time');
  await expect(card).toContainText('Not set');
  await card.getByLabel('New Kiosk PIN').fill('12x4');
  await card.getByRole('button', { name: 'Set PIN' }).click();
  await expect(card).toContainText('digits only');
  await card.getByLabel('New Kiosk PIN').fill('2468');
  await card.getByRole('button', { name: 'Set PIN' }).click();
  await expect(card).toContainText(`Kiosk PIN set for ${name}`);

  // Launch the Kiosk from the Time page: the owner is signed out here.
  await page.goto('/time');
  await hydrated(page);
  await page.getByRole('button', { name: 'Launch Kiosk on this device' }).click();
  await page.getByRole('button', { name: 'Launch Kiosk', exact: true }).click();
  await expect(page).toHaveURL(/\/kiosk$/);
  await hydrated(page);
  await page.waitForSelector('[data-testid="kiosk"][data-ready="true"]');
  await expect(page.getByText('Kim Kiosk')).toHaveCount(1); // listed as a member, no account shown
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);

  await page.getByPlaceholder('Type your name').fill(name.slice(0, 8));
  const person = page.getByRole('button', { name: new RegExp(name) });
  await expect(person).toContainText('Out');
  await page.screenshot({ path: path.join(SHOTS, 'kiosk-pick-tablet.png') });
  await person.tap();

  // Wrong PIN by touch.
  for (const digit of ['1', '3', '5', '7']) {
    await page.getByRole('button', { name: digit, exact: true }).tap();
  }
  await page.getByRole('button', { name: 'OK' }).tap();
  await expect(page.getByRole('alert')).toContainText('Wrong PIN. 4 tries left');
  await page.screenshot({ path: path.join(SHOTS, 'kiosk-pin-tablet.png') });

  // Right PIN from a keyboard, no mouse.
  await page.keyboard.type('2468');
  await page.keyboard.press('Enter');
  const done = page.getByTestId('kiosk-done');
  await expect(done).toContainText(`${name}, you're clocked in`);
  await page.screenshot({ path: path.join(SHOTS, 'kiosk-done-tablet.png') });
  await done.getByRole('button', { name: 'Done' }).tap();
  await page.getByPlaceholder('Type your name').fill(name.slice(0, 8));
  await expect(page.getByRole('button', { name: new RegExp(name) })).toContainText('In');

  // Signed-in pages are closed to this device now.
  await page.goto('/team');
  await expect(page).toHaveURL(/\/signin$/);
});

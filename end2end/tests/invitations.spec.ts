import { test, expect, type Page, type Browser } from './fixtures';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hydrated, membersReady, SHOTS, signInAsAdmin } from './helpers';
import { invitationLink, waitForMail } from './mail';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** Invites one address through the dialog and returns the mailed link. */
async function inviteThroughDialog(page: Page, address: string, screenshot?: string): Promise<string> {
  await page.getByRole('button', { name: 'Invite members' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite members' });
  const addresses = dialog.getByLabel('Email addresses');
  // Each address is checked as it is typed.
  await addresses.fill(`${address}, not-an-address, ${address.toUpperCase()}`);
  const checks = dialog.getByTestId('address-checks');
  await expect(checks.locator('.address-valid')).toHaveCount(1);
  await expect(checks.locator('.address-invalid')).toContainText('needs an @');
  await expect(checks.locator('.address-duplicate')).toHaveCount(1);
  await dialog.getByRole('button', { name: /Invite 1 person/ }).click();
  await expect(dialog.getByRole('alert')).toContainText('Fix or remove the invalid addresses');
  await addresses.fill(address);
  if (screenshot) await page.screenshot({ path: path.join(SHOTS, screenshot) });
  await dialog.getByRole('button', { name: 'Invite 1 person' }).click();
  await expect(page.getByTestId('team-notice')).toContainText('Invitation sent to 1 person');
  const mail = await waitForMail(address);
  expect(mail).toContain('E2E Directory');
  expect(mail).toContain('Ada Admin');
  return invitationLink(mail);
}

async function phone(browser: Browser, javaScriptEnabled: boolean) {
  const context = await browser.newContext({ ...PHONE, javaScriptEnabled });
  return { context, page: await context.newPage() };
}

test('an invitation accepted on a phone with JavaScript off', async ({ page, browser }) => {
  const address = `nojs-${Date.now()}@example.test`;
  await signInAsAdmin(page);
  const link = await inviteThroughDialog(page, address, 'invite-dialog-desktop.png');

  const { context, page: mobile } = await phone(browser, false);
  await mobile.goto(new URL(link).pathname);
  await expect(mobile.getByRole('heading', { name: 'Join E2E Directory' })).toBeVisible();
  await expect(mobile.getByText('Ada Admin', { exact: false }).first()).toBeVisible();
  await expect(mobile.getByTestId('invited-email')).toHaveText(address);
  await mobile.screenshot({ path: path.join(SHOTS, 'accept-phone.png'), fullPage: true });

  // A plain form post with a bad password comes back with the reason.
  await mobile.getByLabel('Your full name').fill('Nadia Nojs');
  await mobile.getByLabel('Choose a password').fill('short');
  await mobile.getByRole('button', { name: 'Create account and join' }).click();
  await expect(mobile.getByText(/at least 8 characters/i).first()).toBeVisible();

  await mobile.getByLabel('Your full name').fill('Nadia Nojs');
  await mobile.getByLabel('Choose a password').fill('quiet lake at dawn');
  await mobile.getByRole('button', { name: 'Create account and join' }).click();
  await expect(mobile).toHaveURL(/\/team$/);
  await expect(mobile.locator('.person-name')).toHaveText('Nadia Nojs');
  await expect(mobile.locator('select[name="workspace"] option[selected]')).toHaveText('E2E Directory');

  // The link works once.
  await mobile.goto(new URL(link).pathname);
  await expect(mobile.getByRole('heading', { name: 'Invitation already accepted' })).toBeVisible();
  await context.close();
});

test('an invitation accepted on a phone with JavaScript on', async ({ page, browser }) => {
  const address = `js-${Date.now()}@example.test`;
  await signInAsAdmin(page);
  const link = await inviteThroughDialog(page, address);

  const { context, page: mobile } = await phone(browser, true);
  const code: string[] = [];
  mobile.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (/^\/pkg\/[^/]+\.(?:wasm|js)$/.test(path)) code.push(path);
  });
  await mobile.goto(new URL(link).pathname);
  await hydrated(mobile);
  // The page runs an app of its own: one script and one wasm, none of the
  // whole app's files.
  expect(code.filter((path) => path.startsWith('/pkg/invitation-app.'))).toHaveLength(2);
  expect(code.filter((path) => /^\/pkg\/(?:teamroom\.|__wasm_split\.|split_|chunk_)/.test(path))).toEqual([]);
  // Checked as you type, before anything is sent.
  await mobile.getByLabel('Choose a password').fill('short');
  await expect(mobile.locator('#password-error')).toContainText('at least 8');
  await mobile.getByLabel('Your full name').fill('Jules Script');
  await mobile.getByLabel('Choose a password').fill('quiet lake at dawn');
  await mobile.getByRole('button', { name: 'Create account and join' }).click();
  await expect(mobile).toHaveURL(/\/team$/);
  await expect(mobile.locator('.person-name')).toHaveText('Jules Script');
  // The Team page it landed on runs the whole app.
  await hydrated(mobile);
  expect(code.some((path) => /^\/pkg\/teamroom\.[^/]+\.wasm$/.test(path))).toBe(true);
  await context.close();

  // The admin sees them as an active member now.
  await page.goto(`/team?q=${encodeURIComponent(address)}`);
  await membersReady(page);
  await expect(page.locator('.members-table tbody tr').first()).toContainText('Active');
});

test('a pending member can be re-sent and revoked; limited members need only a name', async ({ page }) => {
  await signInAsAdmin(page);
  const address = `pending-${Date.now()}@example.test`;
  await page.getByRole('button', { name: 'Invite members' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite members' });
  await dialog.getByLabel('Email addresses').fill(address);
  await dialog.getByLabel('Send invitation email').uncheck();
  await dialog.getByRole('button', { name: 'Invite 1 person' }).click();
  await expect(page.getByTestId('team-notice')).toContainText('added as pending');

  await page.goto(`/team?q=${encodeURIComponent(address)}`);
  await membersReady(page);
  const row = page.locator('.members-table tbody tr').first();
  await expect(row).toContainText('Invite not sent');
  await row.getByRole('button', { name: /Send invite/ }).click();
  await expect(page.getByTestId('team-notice')).toContainText('Invitation sent');
  const first = invitationLink(await waitForMail(address));
  await expect(row).toContainText('Invite sent');
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: /Revoke/ }).click();
  await expect(page.getByTestId('team-notice')).toContainText('revoked');
  await page.goto(new URL(first).pathname);
  await expect(page.getByRole('heading', { name: 'This invitation was withdrawn' })).toBeVisible();
  await expect(page.getByText('Ask Ada Admin to send you a new invitation')).toBeVisible();

  await page.goto('/team');
  await membersReady(page);
  await page.getByRole('button', { name: 'Add limited member' }).click();
  const limited = page.getByRole('dialog', { name: 'Add limited member' });
  await limited.getByRole('button', { name: 'Add' }).click();
  await expect(limited.getByRole('alert')).toContainText('Enter your name');
  const name = `Kiosk Kim ${Date.now()}`;
  await limited.getByLabel('Name').fill(name);
  await limited.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByTestId('team-notice')).toContainText('limited member');
  await page.goto(`/team?q=${encodeURIComponent(name)}`);
  await membersReady(page);
  await expect(page.locator('.members-table tbody tr').first()).toContainText('Limited');
});

test('CSV import shows every row, imports with a progress bar, and reports', async ({ page }) => {
  await signInAsAdmin(page);
  await page.goto('/team/import');
  await hydrated(page);
  const stamp = Date.now();

  // File-level problems are refused before anything is written.
  await page.setInputFiles('#import-file', {
    name: 'latin1.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from([...Buffer.from('email,name\nann@x.io,Ren'), 0xe9, ...Buffer.from('e\n')]),
  });
  await expect(page.getByTestId('file-error')).toContainText('not UTF-8');
  await page.setInputFiles('#import-file', {
    name: 'noheader.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('ann@x.io,Ann\n'),
  });
  await expect(page.getByTestId('file-error')).toContainText('looks like data');

  const good = Array.from({ length: 40 }, (_, i) => `csv${stamp}-${i}@example.test,Person ${i},,Imported ${stamp}`);
  const csv = [
    '\ufeffemail,name,role,group',
    ...good,
    `evil${stamp}@example.test,"=HYPERLINK(""http://evil.test"",""x"")",member,`,
    'not-an-address,Nobody,,',
    `csv${stamp}-0@example.test,Twice,,`,
    `boss${stamp}@example.test,Boss,boss,`,
    'admin@e2edir.example.test,Ada,,',
  ].join('\n');
  await page.setInputFiles('#import-file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const preview = page.getByTestId('import-preview');
  await expect(preview.getByTestId('import-summary')).toContainText('41 to invite');
  await expect(preview.getByTestId('import-summary')).toContainText('3 with problems');
  await expect(preview.getByTestId('import-summary')).toContainText('1 already in the workspace');
  await expect(preview.locator('tbody tr')).toHaveCount(45);
  await expect(preview).toContainText(`Imported ${stamp}`);

  // Record whether the progress bar ever showed (it can be quick).
  await page.evaluate(() => {
    (window as unknown as { sawProgress: boolean }).sawProgress = false;
    new MutationObserver(() => {
      if (document.querySelector('#import-progress')) (window as unknown as { sawProgress: boolean }).sawProgress = true;
    }).observe(document.body, { childList: true, subtree: true });
  });
  await page.getByRole('button', { name: 'Import 41 people' }).click();
  const report = page.getByTestId('import-report');
  await expect(report).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { sawProgress: boolean }).sawProgress)).toBe(true);
  await expect(report.getByTestId('import-summary')).toContainText('41 invited');
  await expect(report.locator('tbody tr')).toHaveCount(45);
  await page.screenshot({ path: path.join(SHOTS, 'import-report-desktop.png'), fullPage: true });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    report.getByRole('link', { name: 'Download report (CSV)' }).click(),
  ]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  expect(text.split('\r\n').filter(Boolean)).toHaveLength(46);
  // The formula comes back as text, not as a live formula.
  expect(text).toContain(`"'=HYPERLINK(""http://evil.test"",""x"")"`);
  expect(text).toContain('Already a member');

  await page.goto(`/team?q=${encodeURIComponent(`csv${stamp}-1@`)}`);
  await membersReady(page);
  await expect(page.locator('.members-table tbody tr').first()).toContainText('Pending');
});

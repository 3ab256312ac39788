import { test, expect, type Page } from './fixtures';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SHOTS = path.join(__dirname, '..', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

const PASSWORD = 'quiet lake at dawn';
const unique = (label: string) =>
  `${label}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;

/** The page is interactive once the wasm bundle has hydrated it. */
async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated="true"]');
}

async function signUp(page: Page, email: string, name: string) {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/team$/);
}

test('sign up lands on the Team page as Owner; sign out; wrong password; sign in', async ({ page, context }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Refusals (a wrong password is a 400) are expected; server faults are not.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
  });

  const email = unique('owner');
  await signUp(page, email, 'Grace Hopper');
  await expect(page.getByRole('heading', { name: 'Team', exact: true })).toBeVisible();
  await expect(page.locator('.person-name')).toHaveText('Grace Hopper');
  await expect(page.locator('.person-role')).toHaveText('Owner');
  await expect(page.getByRole('combobox', { name: 'Workspace' })).toHaveValue(/\d+/);
  await expect(page.getByRole('cell', { name: email })).toBeVisible();
  await expect(page.getByText('1 member')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Invite your team' })).toBeVisible();

  // Signed-in page on a phone and on a desktop.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SHOTS, 'team-phone.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'no horizontal scrolling on a phone').toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SHOTS, 'team-desktop.png'), fullPage: true });

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.goto('/team');
  await expect(page).toHaveURL(/\/signin$/);

  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await expect(page).toHaveURL(/\/signin$/);
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === 'teamroom_session')).toBeUndefined();

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await expect(page.locator('.person-name')).toHaveText('Grace Hopper');
  const session = (await context.cookies()).find((c) => c.name === 'teamroom_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Lax');

  expect(errors, 'no console errors').toEqual([]);
});

test('fields are checked as you type, and the server answers for a used email', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  const emailField = page.getByLabel('Email');
  await emailField.fill('not-an-email');
  await page.getByLabel('Full name').focus();
  await expect(page.locator('#email-error')).toHaveText('An email address needs an @, like name@example.com.');
  await expect(emailField).toHaveAttribute('aria-invalid', 'true');

  const password = page.getByLabel('Password');
  await password.fill('short');
  await expect(page.locator('#password-error')).toHaveText('Use at least 8 characters (5 so far).');
  await password.fill('password1');
  await expect(page.locator('#password-error')).toContainText('commonly used');
  await password.fill(PASSWORD);
  await expect(page.locator('#password-error')).toBeEmpty();

  await page.getByLabel('Full name').fill('   ');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#name-error')).toHaveText('Enter your name.');
  await expect(page).toHaveURL(/\/signup$/);

  // An address that already has an account: the server says so on the field.
  const email = unique('taken');
  const other = await page.context().browser()!.newContext();
  const first = await other.newPage();
  await signUp(first, email, 'First Person');
  await other.close();

  await emailField.fill(email.toUpperCase());
  await page.getByLabel('Full name').fill('Second Person');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#email-error')).toHaveText('An account with this email already exists. Sign in instead.');
  await emailField.fill(unique('fresh'));
  await expect(page.locator('#email-error')).toBeEmpty();
});

test('a second workspace appears in the switcher and can be switched to', async ({ page }) => {
  await signUp(page, unique('multi'), 'Ada Lovelace');
  await page.getByRole('combobox', { name: 'Workspace' }).selectOption('new');
  await expect(page).toHaveURL(/\/workspaces\/new$/);
  await page.getByLabel('Workspace name').fill('Analytical Engines');
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await expect(page).toHaveURL(/\/team$/);
  const switcher = page.getByRole('combobox', { name: 'Workspace' });
  await expect(switcher.locator('option:checked')).toHaveText('Analytical Engines');
  // The choice shows at once; the server records it, then the app loads
  // afresh on /team: wait for that load, or the next goto races it.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/switch_workspace') && r.ok()),
    page.waitForEvent('load'),
    switcher.selectOption({ label: "Ada's workspace" }),
  ]);
  await hydrated(page);
  await expect(switcher.locator('option:checked')).toHaveText("Ada's workspace");
  await page.goto('/settings');
  await expect(page.locator('.details dd').first()).toHaveText("Ada's workspace");
  await page.reload();
  await expect(page.getByRole('combobox', { name: 'Workspace' }).locator('option:checked')).toHaveText("Ada's workspace");
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign up, a refused sign-in with its message, and sign in all work as plain forms', async ({ page, context }) => {
    const email = unique('nojs');
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Full name').fill('Linus Plain');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(/\/team$/);
    await expect(page.locator('.person-name')).toHaveText('Linus Plain');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/signin$/);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('wrong password here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/signin\?/);
    await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
    expect((await context.cookies()).find((c) => c.name === 'teamroom_session')).toBeUndefined();

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/team$/);
    await expect(page.locator('.person-name')).toHaveText('Linus Plain');
  });
});

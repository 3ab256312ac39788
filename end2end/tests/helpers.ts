import { expect, type Browser, type Page } from '@playwright/test';
import { invitationLink, waitForMail } from './mail';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

// "E2E Directory", seeded by global-setup.ts: 3,000 members, 100 groups,
// Enterprise plan.
export const ADMIN = 'admin@e2edir.example.test';
export const PASSWORD = 'teamroom demo 2026';
export const SHOTS = path.join(__dirname, '..', 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

/** The app's script has taken over the server-rendered page. */
export async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated="true"]');
}

/** The Members tab's controls answer once their listeners are attached. */
export async function membersReady(page: Page) {
  await hydrated(page);
  await page.waitForSelector('.directory-controls[data-ready="true"]');
}

export async function signInAsAdmin(page: Page) {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await membersReady(page);
}

/** Password of people the tests sign up or invite. */
export const PASSWORD_NEW = 'quiet lake at dawn';
export const unique = (who: string) => `${who}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.test`;

export async function signUp(page: Page, email: string, name: string) {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD_NEW);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await membersReady(page);
}

export async function openMember(owner: Page, address: string) {
  await owner.goto(`/team?status=all&q=${encodeURIComponent(address)}`);
  await membersReady(owner);
  const href = await owner.locator('.members-table tbody tr').first().locator('a.member-name').getAttribute('href');
  await owner.goto(href ?? '/team');
  await hydrated(owner);
  await expect(owner.getByTestId('member-actions')).toBeVisible();
}


/**
 * The UTC calendar day `offsetDays` from today as `YYYY-MM-DD`. Tests that
 * type dates use it instead of literals so they hold on any day: new members
 * track time in UTC, and the browser runs in UTC (playwright.config.ts).
 */
export function utcDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/**
 * A `datetime-local` value (`YYYY-MM-DDTHH:MM`) moved by `minutes`, across
 * midnight and month ends. Tests correct a timer relative to when it started,
 * so they hold at any hour (a fixed "23:00 the same day" is before a timer
 * started at 23:58).
 */
export function shiftLocal(value: string, minutes: number): string {
  const at = new Date(`${value.slice(0, 16)}:00Z`);
  return new Date(at.getTime() + minutes * 60_000).toISOString().slice(0, 16);
}

/**
 * The code an authenticator app shows for a base32 `key` (RFC 6238: SHA-1,
 * 6 digits, 30 s steps), `offsetSteps` steps from now. Computed here, in the
 * test, from the key the page shows, as a person's phone would.
 */
export function totp(key: string, offsetSteps = 0): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = key.toUpperCase().replace(/[^A-Z2-7]/g, '');
  let bits = '';
  for (const c of clean) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Math.floor(Date.now() / 1000 / 30) + offsetSteps;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(message).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value =
    (((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3]) %
    1_000_000;
  return value.toString().padStart(6, '0');
}

/** Invites `address` from the owner's Team page and accepts in a new browser. */
export async function inviteAndAccept(owner: Page, browser: Browser, address: string, name: string) {
  // A click before the page's code has loaded would do nothing.
  await hydrated(owner);
  await owner.getByRole('button', { name: 'Invite members' }).click();
  const dialog = owner.getByRole('dialog', { name: 'Invite members' });
  await dialog.getByLabel('Email addresses').fill(address);
  await dialog.getByRole('button', { name: 'Invite 1 person' }).click();
  await expect(owner.getByTestId('team-notice')).toContainText('Invitation sent');
  const link = invitationLink(await waitForMail(address));
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(new URL(link).pathname);
  await page.getByLabel('Your full name').fill(name);
  await page.getByLabel('Choose a password').fill(PASSWORD_NEW);
  await page.getByRole('button', { name: 'Create account and join' }).click();
  await expect(page).toHaveURL(/\/team$/);
  await hydrated(page);
  return { context, page };
}


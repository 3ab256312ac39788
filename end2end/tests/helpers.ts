import { expect, type Page } from '@playwright/test';
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

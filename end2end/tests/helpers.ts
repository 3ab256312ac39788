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

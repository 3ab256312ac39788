import { test, expect, type Page, type Browser } from './fixtures';
import * as path from 'node:path';
import { hydrated, inviteAndAccept, membersReady, openMember, signUp, SHOTS, unique } from './helpers';

test('owner manages a member signed in elsewhere: role, deactivate, reactivate, transfer, delete', async ({ page: owner, browser }) => {
  owner.on('dialog', (d) => d.accept());
  await signUp(owner, unique('boss'), 'Bea Boss');
  const memberEmail = unique('mia');
  const { context, page: member } = await inviteAndAccept(owner, browser, memberEmail, 'Mia Member');
  // A hydration failure leaves a dead page; it must not happen here.
  const pageErrors: string[] = [];
  member.on('pageerror', (e) => pageErrors.push(e.message));
  await expect(member.locator('.person-role')).toHaveText('Member');

  // A role given on the member card shows on the member's next page.
  await openMember(owner, memberEmail);
  await owner.setViewportSize({ width: 1280, height: 900 });
  await owner.screenshot({ path: path.join(SHOTS, 'member-actions-desktop.png'), fullPage: true });
  await owner.getByRole('button', { name: 'Give the Project manager role' }).click();
  await expect(owner.getByRole('status')).toContainText('Project manager role given');
  await member.reload();
  await hydrated(member);
  await expect(member.locator('.person-role')).toHaveText('Project manager');

  // Deactivated while signed in elsewhere: the member's next click leaves.
  await owner.getByRole('button', { name: 'Deactivate' }).click();
  await expect(owner.getByRole('status')).toContainText('is deactivated');
  await expect(owner.locator('.member-card .badge')).toHaveText('Inactive');
  await member.getByRole('link', { name: 'Time', exact: true }).click();
  await expect(member).toHaveURL(/\/workspaces\/new$/);

  // Reactivated: access comes back, no email needed.
  await owner.getByRole('button', { name: 'Reactivate' }).click();
  await expect(owner.locator('.member-card .badge')).toHaveText('Active');
  await member.goto('/team');
  await expect(member.locator('.person-role')).toHaveText('Project manager');

  // Ownership goes to the member; the roles swap.
  await owner.getByRole('button', { name: 'Transfer ownership…' }).click();
  await expect(owner.getByRole('status')).toContainText('is now the Owner');
  await owner.goto('/team');
  await expect(owner.locator('.person-role')).toHaveText('Admin');
  await member.goto('/team');
  await expect(member.locator('.person-role')).toHaveText('Owner');
  expect(pageErrors).toEqual([]);
  await context.close();

  // A second member: deleting needs deactivation first, then they are gone.
  const goneEmail = unique('gus');
  const second = await inviteAndAccept(owner, browser, goneEmail, 'Gus Gone');
  await second.context.close();
  await openMember(owner, goneEmail);
  await expect(owner.getByRole('button', { name: 'Delete…' })).toHaveCount(0);
  await owner.getByRole('button', { name: 'Deactivate' }).click();
  await owner.getByRole('button', { name: 'Delete…' }).click();
  await expect(owner).toHaveURL(/status=all/);
  await owner.goto(`/team?status=all&q=${encodeURIComponent(goneEmail)}`);
  await membersReady(owner);
  await expect(owner.locator('.members-table tbody tr')).toHaveCount(0);
});

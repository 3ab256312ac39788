import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * Seeds "E2E Directory", a workspace of a few thousand members, with the
 * release server binary cargo-leptos has just built, against the same
 * DATABASE_URL the server under test uses.
 */
export default function globalSetup() {
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(__dirname, '..', process.env.CARGO_TARGET_DIR)
    : path.join(__dirname, '..', 'target');
  const server = path.join(target, 'release', 'server');
  try {
    execFileSync(
      server,
      ['seed-members', '--members', '3000', '--tag', 'e2edir', '--name', 'E2E Directory'],
      { stdio: 'pipe', env: process.env },
    );
  } catch (error) {
    const output = String((error as { stderr?: Buffer }).stderr ?? error);
    // A second run against the same database finds it already there.
    if (!output.includes('was seeded already')) throw new Error(`seeding failed: ${output}`);
  }
}

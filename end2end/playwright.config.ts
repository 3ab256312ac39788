import { defineConfig, devices } from '@playwright/test';

// `cargo xtask test` starts the release server on 127.0.0.1:3000 before running this.
export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  // A stray test.only must not pass CI by skipping everything else.
  forbidOnly: !!process.env.CI,
  // A 2-core machine: one browser at a time keeps timings honest.
  workers: 1,
  retries: 0,
  // A budget against hangs, not a speed claim (speed is in `cargo xtask
  // bench`): journeys over ten pages take 20-28 s on this 2-core machine
  // when it is quiet, and 30 s ran out when a build ran beside them.
  timeout: 60_000,
  // Each expectation's wait, likewise not a speed claim: signing in or up
  // hashes a password (argon2, by design slow), and with a test suite
  // running beside Chromium the landing after it took over the default
  // 5 s twice in 111 tests (run 2 of three on 2026-12-01).
  expect: { timeout: 10_000 },
  reporter: 'list',
  use: {
    baseURL: 'http://127.0.0.1:3000',
    trace: 'off',
    // Members start in UTC; a browser in the machine's zone would offer a
    // different zone and shift typed dates on machines not set to UTC.
    timezoneId: 'UTC',
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download is not reachable here.
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'], channel: undefined } }],
});

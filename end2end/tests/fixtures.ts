import { test as base, expect, type Browser, type BrowserContext } from '@playwright/test';

export { expect, devices } from '@playwright/test';
export type { Page, Browser } from '@playwright/test';

/**
 * Every end-to-end test fails on any uncaught error in any page it opened
 * (a hydration panic, a failed script), in the default context and in the
 * contexts a test makes itself with `browser.newContext()`.
 */
export const test = base.extend<{ failOnPageError: void }>({
  failOnPageError: [
    async ({ context, browser }, use, testInfo) => {
      const errors: string[] = [];
      // Console errors explain a page error (a wasm panic logs its message
      // there before the bare "unreachable"); they are shown, not judged.
      const consoleErrors: string[] = [];
      const watch = (watched: BrowserContext) => {
        const listen = (page: import('@playwright/test').Page) => {
          page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
          page.on('console', (message) => {
            if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text().slice(0, 2000)}`);
          });
        };
        watched.pages().forEach(listen);
        watched.on('page', listen);
      };
      watch(context);
      const original = browser.newContext.bind(browser);
      (browser as Browser).newContext = async (...args: Parameters<Browser['newContext']>) => {
        const made = await original(...args);
        watch(made);
        return made;
      };
      await use();
      (browser as Browser).newContext = original;
      if (errors.length > 0) {
        await testInfo.attach('console errors', { body: consoleErrors.join('\n'), contentType: 'text/plain' });
        console.log(`console errors in "${testInfo.title}":\n${consoleErrors.join('\n')}`);
      }
      expect(errors, `page errors in "${testInfo.title}"`).toEqual([]);
    },
    { auto: true },
  ],
});

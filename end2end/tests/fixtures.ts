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
      const watch = (watched: BrowserContext) => {
        const listen = (page: import('@playwright/test').Page) =>
          page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
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
      expect(errors, `page errors in "${testInfo.title}"`).toEqual([]);
    },
    { auto: true },
  ],
});

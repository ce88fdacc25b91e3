import { test as base, expect } from '@playwright/test';

type Fixtures = {
  /** Console messages a test expects (e.g. the 404 of a page it opens on purpose); anything else fails it. */
  allowedConsoleErrors: RegExp[];
};

/**
 * Every test fails on a console error or an uncaught page error: a hydration mismatch or a panic in the
 * wasm shows up there first.
 */
export const test = base.extend<Fixtures>({
  allowedConsoleErrors: [[], { option: true }],
  page: async ({ page, allowedConsoleErrors }, use) => {
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !allowedConsoleErrors.some((re) => re.test(msg.text()))) {
        errors.push(`console.error: ${msg.text()}`);
      }
    });
    page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
    await use(page);
    expect(errors, 'the page logged errors').toEqual([]);
  },
});

export { expect };

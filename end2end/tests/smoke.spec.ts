import { test, expect } from './fixtures';
import { Shell } from './pages/shell';

test('the shell renders, hydrates and navigates without reloading', async ({ page }) => {
  const shell = new Shell(page);
  await shell.open('/');
  await expect(shell.heading()).toHaveText('Card payments with 3-D Secure');
  await expect(shell.status()).toContainText('Embedded sandbox');
  await expect(shell.status()).toContainText('database OK');

  // A value on window survives only if the router navigates inside the page.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await shell.nav().getByRole('link', { name: 'Shop' }).click();
  await expect(page).toHaveURL(/\/shop$/);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  await shell.nav().getByRole('link', { name: 'Checkout' }).click();
  await expect(page).toHaveURL(/\/checkout$/);
  await expect(shell.heading()).toHaveText('Checkout');
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // The back office is a server-rendered app of its own: the link loads it, starting at sign-in.
  await shell.nav().getByRole('link', { name: 'Merchant' }).click();
  await expect(page).toHaveURL(/\/merchant\/sign-in\?next=/);
  await expect(shell.heading()).toHaveText('Merchant sign-in');
  await expect(page).toHaveTitle('Sign in · Card Checkout');
});

test.describe('an unknown address', () => {
  test.use({ allowedConsoleErrors: [/status of 404/] });

  test('shows the styled 404 page', async ({ page }) => {
    const shell = new Shell(page);
    const response = await shell.open('/no/such/page');
    expect(response?.status()).toBe(404);
    await expect(shell.heading()).toHaveText('Page not found');
    await page.getByRole('link', { name: 'Back to the start page' }).click();
    await expect(shell.heading()).toHaveText('Card payments with 3-D Secure');
  });
});

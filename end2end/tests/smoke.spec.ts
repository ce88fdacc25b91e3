import { test, expect } from './fixtures';
import { Shell } from './pages/shell';

test('the shell renders, hydrates and links to every page', async ({ page }) => {
  const shell = new Shell(page);
  await shell.open('/');
  await expect(shell.heading()).toHaveText('Card payments with 3-D Secure');
  await expect(shell.status()).toContainText('Embedded sandbox');
  await expect(shell.status()).toContainText('database OK');

  // Pages are rendered on the server and only the checkout form hydrates (islands): a link is a page load,
  // which arrives complete, its navigation marking where the shopper is and its status line resolved.
  await shell.nav().getByRole('link', { name: 'Shop' }).click();
  await expect(page).toHaveURL(/\/shop$/);
  await shell.waitForHydration();
  await expect(shell.heading()).toHaveText('Demo shop');
  await expect(shell.nav().getByRole('link', { name: 'Shop' })).toHaveAttribute('aria-current', 'page');
  await expect(shell.status()).toContainText('database OK');

  await shell.nav().getByRole('link', { name: 'Checkout' }).click();
  await expect(page).toHaveURL(/\/checkout$/);
  await shell.waitForHydration();
  await expect(shell.heading()).toHaveText('Checkout');
  await expect(page.getByText('Your cart is empty.')).toBeVisible();

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

import { test, expect } from './fixtures';
import { CheckoutPage, ReceiptPage } from './pages/checkout';
import { BackOffice } from './pages/merchant';
import { Shell } from './pages/shell';

// What a new user sees: the shop's prices in its currency, and a back office whose order list fits the window.

test('the shop shows each price in the shop currency, loaded or reached in the app', async ({ page }) => {
  const shell = new Shell(page);
  await shell.open('/shop');
  await expect(page.getByTestId('price-mug')).toHaveText('EUR 12.00 each');
  await expect(page.getByTestId('price-bag')).toHaveText('EUR 39.00 each');
  // Reached through the app's own navigation, the price comes from the server function instead.
  await shell.nav().getByRole('link', { name: 'Checkout' }).click();
  await shell.nav().getByRole('link', { name: 'Shop' }).click();
  await expect(page.getByTestId('price-tee')).toHaveText('EUR 24.00 each');
});

test('the order list fits a 1280 px window and scrolls in its own box below', async ({ page }) => {
  const checkout = new CheckoutPage(page);
  await checkout.open({ tee: 1 });
  await checkout.pay({ number: '4000000000001000' });
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  const reference = (await receipt.value('order-reference').textContent())!;

  const office = new BackOffice(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  await office.signIn();
  await expect(office.heading()).toHaveText('Orders');
  const table = page.getByRole('region', { name: 'Orders', exact: true });
  const fits = () => table.evaluate((box) => box.scrollWidth <= box.clientWidth);
  expect(await fits()).toBe(true);
  const email = (await page.getByRole('columnheader', { name: 'Email' }).boundingBox())!;
  expect(email.x + email.width, 'the last column ends inside the window').toBeLessThanOrEqual(1280);
  await expect(office.row(reference)).toContainText('Shifted to issuer');

  // Narrower: the table scrolls inside its box, the page itself does not widen, and the order stays in view.
  await page.setViewportSize({ width: 700, height: 800 });
  expect(await fits()).toBe(false);
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  await table.evaluate((box) => (box.scrollLeft = box.scrollWidth));
  await expect(office.row(reference).getByRole('link', { name: reference })).toBeInViewport();
});

import { readFileSync } from 'node:fs';
import { test, expect } from './fixtures';
import { CheckoutPage, ReceiptPage, storedOrder } from './pages/checkout';
import { BackOffice } from './pages/merchant';

/** A shopper pays for `cart` with `card`; returns the order's id and merchant reference. */
async function buy(page: import('@playwright/test').Page, cart: Record<string, number>, card: string) {
  const checkout = new CheckoutPage(page);
  await checkout.open(cart);
  await checkout.pay({ number: card });
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  return { id: receipt.orderId(), reference: (await receipt.value('order-reference').textContent())! };
}

// A refused password (401) or a refused action (422) is a page of its own, with that status.
test.use({ allowedConsoleErrors: [/status of (401|422)/] });

test.describe('signing in', () => {
  test('anonymous visitors are sent to sign in, and a wrong password is refused', async ({ page }) => {
    const office = new BackOffice(page);
    await page.goto('/merchant/orders?status=captured');
    await expect(page).toHaveURL(/\/merchant\/sign-in\?next=%2Fmerchant%2Forders%3Fstatus%3Dcaptured$/);
    await expect(office.heading()).toHaveText('Merchant sign-in');
    await office.signIn(undefined, 'not the password');
    await expect(office.alert()).toHaveText('The email or password is not right.');
    await office.signIn();
    // Signing in comes back to the page first asked for, with its filter.
    await expect(page).toHaveURL(/\/merchant\/orders\?status=captured$/);
    await expect(page.getByLabel('Status')).toHaveValue('captured');
  });
});

test('a merchant finds an order by last four, refunds part of it and signs out', async ({ page }) => {
  const { id, reference } = await buy(page, { tee: 1, cap: 1 }, '4000000000001000');
  const office = new BackOffice(page);
  await office.signIn();
  await expect(office.heading()).toHaveText('Orders');
  await office.search('1000');
  await expect(page).toHaveURL(/q=1000/);
  const row = office.row(reference);
  await expect(row).toContainText('Visa •••• 1000');
  await expect(row).toContainText('EUR 33.00');
  await expect(row).toContainText('Paid');
  await expect(row).toContainText('Enrolled Y · PARes Y · ECI 05');
  await expect(row).toContainText('Shifted to issuer');

  // The CSV export holds what the filtered list shows.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const csv = readFileSync((await download.path())!, 'utf8');
  expect(csv.split('\r\n')[0]).toContain('created_at,order_id,merchant_reference');
  expect(csv).toContain(`${id},${reference},ada@example.com,EUR,33.00,33.00,0.00,captured,verifone,VISA,1000,Y,Y,05,yes`);

  await office.openOrder(reference);
  await expect(office.value('remaining')).toHaveText('EUR 33.00');
  await expect(page.getByTestId('liability-reasons')).toContainText('issuer is liable');
  await office.act('Refund', '5.00');
  await expect(office.result()).toHaveText('Refund of EUR 5.00 done: the provider approved it.');
  await expect(office.value('refunded')).toHaveText('EUR 5.00');
  await expect(office.value('remaining')).toHaveText('EUR 28.00');
  await expect(office.timeline()).toContainText('Refund answered');
  expect(storedOrder(id)).toMatchObject({ status: 'partially_refunded', captured_minor: 3300 });

  // More than remains is refused before anything is sent.
  await page.getByLabel(/^Refund amount/).fill('28.01');
  await page.getByRole('button', { name: 'Refund…' }).click();
  await expect(office.alert()).toHaveText('The refund can be at most EUR 28.00.');
  expect(storedOrder(id)).toMatchObject({ status: 'partially_refunded' });

  await office.signOut();
  await page.goto(`/merchant/orders/${id}`);
  await expect(office.heading()).toHaveText('Merchant sign-in');
});

test.describe('pre-authorizations', () => {
  test.use({ baseURL: `http://127.0.0.1:${process.env.E2E_PREAUTH_PORT}` });

  test('are captured in part or voided, once each', async ({ page }) => {
    const held = await buy(page, { tee: 1 }, '5200000000001005');
    const released = await buy(page, { bag: 1 }, '4000000000001000');
    const office = new BackOffice(page);
    await office.signIn();

    await page.goto(`/merchant/orders/${held.id}`);
    await expect(office.value('remaining')).toHaveText('EUR 24.00 authorized, not captured');
    await office.act('Capture', '20.00');
    await expect(office.result()).toHaveText('Capture of EUR 20.00 done: the provider approved it.');
    await expect(office.value('captured')).toHaveText('EUR 20.00');
    await expect(page.getByRole('button', { name: 'Void…' })).toHaveCount(0);
    expect(storedOrder(held.id, process.env.E2E_PREAUTH_DATABASE)).toMatchObject({ status: 'captured', captured_minor: 2000 });

    await page.goto(`/merchant/orders/${released.id}`);
    await office.act('Void');
    await expect(office.result()).toHaveText('Void of EUR 39.00 done: the provider approved it.');
    await expect(office.heading()).toContainText('Voided');
    await expect(page.getByRole('button', { name: /Capture…|Refund…/ })).toHaveCount(0);
    expect(storedOrder(released.id, process.env.E2E_PREAUTH_DATABASE)).toMatchObject({ status: 'voided', captured_minor: 0 });
  });
});

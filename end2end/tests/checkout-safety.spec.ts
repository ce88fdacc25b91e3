import { test, expect } from './fixtures';
import { CheckoutPage, ReceiptPage, eventKinds, storedOrder } from './pages/checkout';
import { execFileSync } from 'node:child_process';

function ordersByEmail(email: string): number {
  const sql = `SELECT count(*) FROM orders WHERE email = '${email}'`;
  return Number(execFileSync('sqlite3', [process.env.E2E_DATABASE!, sql]).toString().trim());
}

test('every field is checked in the browser and nothing is sent until it is right', async ({ page }) => {
  const checkout = new CheckoutPage(page);
  await checkout.open({ cap: 1 });
  let posts = 0;
  page.on('request', (r) => { if (r.url().includes('/api/checkout/place')) posts++; });
  await checkout.payButton().click();
  await expect(checkout.fieldError('Card number')).toHaveText('enter the card number');
  await expect(checkout.fieldError('First name')).toHaveText('enter your first name');
  await expect(checkout.fieldError('Email')).toContainText('enter an email address');
  await checkout.fillCard({ number: '4000 0000 0000 1001', expiry: '01/20', cvv: '12' });
  await checkout.fillBilling({ email: 'not-an-email' });
  await checkout.payButton().click();
  await expect(checkout.fieldError('Card number')).toHaveText('this card number is not valid; check the digits');
  await expect(checkout.fieldError('Expiry (MM/YY)')).toHaveText('this card has expired');
  await expect(checkout.fieldError('Email')).toContainText('name@example.com');
  await checkout.fillCard({ number: '3400 000000 01007', cvv: '123' });
  await checkout.payButton().click();
  await expect(checkout.fieldError('Security code')).toContainText('4 digits');
  await expect(page.getByText('American Express')).toBeVisible();
  expect(posts).toBe(0);
});

// Every string a JSON body carries, with the key it sits under.
function jsonStrings(value: unknown, key = ''): Array<[string, string]> {
  if (typeof value === 'string') return [[key, value]];
  if (typeof value === 'number') return [[key, String(value)]];
  if (Array.isArray(value)) return value.flatMap((v) => jsonStrings(v, key));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [[k, ''] as [string, string], ...jsonStrings(v, k)]);
  }
  return [];
}

test('the card number and CVV never reach our server', async ({ page }) => {
  const requests: Array<{ url: string; body: string | null }> = [];
  page.on('request', (r) => {
    if (!r.url().includes('/sandbox/')) requests.push({ url: r.url(), body: r.postData() });
  });
  const checkout = new CheckoutPage(page);
  await checkout.open({ tee: 1 });
  await checkout.pay({ number: '4000000000001000', cvv: '737' });
  await new ReceiptPage(page).waitFor();

  const place = requests.find((r) => r.url.includes('/api/checkout/place'));
  expect(place?.body).toBeTruthy();
  for (const { url, body } of requests) {
    expect(url).not.toContain('4000000000001000');
    if (!body) continue;
    expect(body.replace(/\D/g, '')).not.toContain('4000000000001000');
    // A 3-digit CVV can turn up by chance inside a UUID or ciphertext, so look at fields, not raw text.
    for (const [key, text] of jsonStrings(JSON.parse(body))) {
      expect(key).not.toMatch(/cvv|cvc|security|card_number|pan$/i);
      expect(text).not.toBe('737');
    }
  }
  // The only card fields sent are the summary we may keep.
  expect(Object.keys(JSON.parse(place!.body!).input.card).sort()).toEqual(
    ['bin6', 'brand', 'expiry_month', 'expiry_year', 'last4']);
});

test('a double click pays once', async ({ page }) => {
  const checkout = new CheckoutPage(page);
  await checkout.open({ bag: 2 });
  await checkout.fillCard({ number: '4111111111111111' });
  // An email of this run's own, so the count below is this test's orders only.
  const email = `double-click-${Date.now()}@example.com`;
  await checkout.fillBilling({ email });
  await checkout.payButton().dblclick();
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment approved');
  expect(ordersByEmail(email)).toBe(1);
  expect(eventKinds(receipt.orderId()).filter((k) => k === 'payment_requested')).toHaveLength(1);
});

test('the bank service failing (5xx) declines visibly and charges nothing', async ({ page, request }) => {
  await request.post('/sandbox/_control/faults', {
    data: { path: '/verifone/oidc/3ds-service/v2/lookup', fault: 'error', status: 503, body_contains: 'lookup-503@example.com' },
  });
  const checkout = new CheckoutPage(page);
  await checkout.open({ tee: 1 });
  await checkout.fillCard({ number: '4111111111111111' });
  await checkout.fillBilling({ email: 'lookup-503@example.com' });
  await checkout.payButton().click();
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment declined');
  await expect(page.getByText('You have not been charged')).toBeVisible();
  expect(storedOrder(receipt.orderId())).toMatchObject({ status: 'declined', captured_minor: 0 });
  expect(eventKinds(receipt.orderId())).toContain('lookup_failed');
});

test('a payment that times out is confirmed later, without paying twice', async ({ page, request }) => {
  // Seven caps (EUR 63.00) identify this test's payment request to the sandbox.
  await request.post('/sandbox/_control/faults', {
    data: { path: '/verifone/oidc/api/v2/transactions/card', fault: 'slow', delay_ms: 11000, body_contains: '"amount":6300' },
  });
  test.setTimeout(60_000);
  const checkout = new CheckoutPage(page);
  await checkout.open({ cap: 7 });
  await checkout.pay({ number: '4111111111111111' });
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  // The receipt resolves the unknown outcome by resending with the same idempotency key.
  await expect(receipt.heading()).toHaveText('Payment approved');
  const kinds = eventKinds(receipt.orderId());
  expect(kinds).toContain('payment_failed');
  expect(kinds).toContain('payment_resolution');
  expect(kinds.filter((k) => k === 'payment_requested')).toHaveLength(1);
  expect(storedOrder(receipt.orderId())).toMatchObject({ status: 'captured', captured_minor: 6300 });
});

test.describe('pre-authorization mode', () => {
  test.use({ baseURL: `http://127.0.0.1:${process.env.E2E_PREAUTH_PORT}` });

  test('authorizes without capturing', async ({ page }) => {
    const checkout = new CheckoutPage(page);
    await checkout.open({ tee: 1 });
    await expect(checkout.payButton()).toHaveText('Authorize EUR 24.00');
    await checkout.pay({ number: '4000000000001000' });
    const receipt = new ReceiptPage(page);
    await receipt.waitFor();
    await expect(receipt.heading()).toHaveText('Payment authorized');
    expect(storedOrder(receipt.orderId(), process.env.E2E_PREAUTH_DATABASE)).toMatchObject({
      status: 'authorized', capture_mode: 'pre_auth', captured_minor: 0,
    });
  });
});

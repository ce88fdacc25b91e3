import { test, expect } from './fixtures';
import { CheckoutPage, ReceiptPage, storedOrder } from './pages/checkout';
import { BackOffice } from './pages/merchant';

// The shop with Bambora moving the money, in both ways the seed describes: Bambora running 3-D Secure inside its
// payment (its card fields, the bank's page in the modal's frame, term_url), and "own process" (our card form
// encrypted for Verifone's 3-D Secure and tokenized for Bambora). The same page objects as Verifone's specs:
// they do not care which provider's fields or bank page show.

type Config = {
  name: string;
  port: string;
  database: string;
  authenticator: string | null;
  frictionless: string;
  challenge: { card: string; code: string };
};

const CONFIGS: Config[] = [
  {
    name: 'Bambora authenticating',
    port: process.env.E2E_BAMBORA_PORT!,
    database: process.env.E2E_BAMBORA_DATABASE!,
    authenticator: null,
    frictionless: '4030000010001234',
    challenge: { card: '4716519788977219', code: '12345' },
  },
  {
    name: 'Bambora after Verifone 3-D Secure (own process)',
    port: process.env.E2E_OWN_PROCESS_PORT!,
    database: process.env.E2E_OWN_PROCESS_DATABASE!,
    authenticator: 'verifone',
    frictionless: '4000000000001000',
    challenge: { card: '4000000000001091', code: '1234' },
  },
];

for (const config of CONFIGS) {
  test.describe(config.name, () => {
    test.use({ baseURL: `http://127.0.0.1:${config.port}` });

    async function pay(page: import('@playwright/test').Page, card: string, cart: Record<string, number> = { tee: 1 }) {
      const checkout = new CheckoutPage(page);
      await checkout.open(cart);
      await checkout.pay({ number: card });
      return checkout;
    }

    test('a frictionless card pays and the receipt tells the truth', async ({ page }) => {
      await pay(page, config.frictionless);
      const receipt = new ReceiptPage(page);
      await receipt.waitFor();
      await expect(receipt.heading()).toHaveText('Payment approved');
      await expect(receipt.value('amount')).toHaveText('CAD 24.00');
      await expect(receipt.value('threeds')).toContainText('Authenticated without a challenge');
      await expect(receipt.value('liability')).toContainText('Yes');
      expect(storedOrder(receipt.orderId(), config.database)).toMatchObject({
        status: 'captured', currency: 'CAD', provider: 'bambora', authenticator: config.authenticator,
        captured_minor: 2400, liability_shifted: 1,
      });
    });

    test('a challenge passed in the page pays once', async ({ page }) => {
      const checkout = await pay(page, config.challenge.card, { mug: 1 });
      await checkout.answerChallenge(config.challenge.code);
      const receipt = new ReceiptPage(page);
      await receipt.waitFor();
      await expect(receipt.heading()).toHaveText('Payment approved');
      await expect(receipt.value('threeds')).toContainText('Authenticated with a challenge');
      expect(storedOrder(receipt.orderId(), config.database)).toMatchObject({
        status: 'captured', captured_minor: 1200, liability_shifted: 1,
      });
    });

    test('a challenge cancelled at the bank is declined and nothing is charged', async ({ page }) => {
      const checkout = await pay(page, config.challenge.card, { cap: 1 });
      await checkout.cancelChallenge();
      const receipt = new ReceiptPage(page);
      await receipt.waitFor();
      await expect(receipt.heading()).toHaveText('Payment declined');
      await expect(receipt.value('liability')).toContainText('No');
      expect(storedOrder(receipt.orderId(), config.database)).toMatchObject({ status: 'declined', captured_minor: 0 });
    });

    test('the merchant refunds part of a Bambora payment', async ({ page }) => {
      await pay(page, config.frictionless, { bag: 1 });
      const receipt = new ReceiptPage(page);
      await receipt.waitFor();
      const id = receipt.orderId();
      const reference = (await receipt.value('order-reference').textContent())!;
      const office = new BackOffice(page);
      await office.signIn();
      await office.search(reference);
      await office.openOrder(reference);
      await office.act('Refund', '9.00');
      await expect(office.result()).toHaveText('Refund of CAD 9.00 done: the provider approved it.');
      await expect(office.value('remaining')).toHaveText('CAD 30.00');
      expect(storedOrder(id, config.database)).toMatchObject({ status: 'partially_refunded', refunded_minor: 900 });
    });
  });
}

test.describe('test cards', () => {
  test.use({ baseURL: `http://127.0.0.1:${process.env.E2E_BAMBORA_PORT}` });

  test('sandbox mode lists the configured provider\'s test cards, folded', async ({ page }) => {
    const checkout = new CheckoutPage(page);
    await checkout.open({ tee: 1 });
    const list = page.getByText('Test cards (sandbox: no real money moves)');
    await expect(list).toBeVisible();
    await expect(page.getByRole('cell', { name: '4716519788977219' })).toBeHidden();
    await list.click();
    await expect(page.getByRole('row', { name: /4716519788977219.*password 12345/ })).toBeVisible();
  });
});

import { test, expect } from './fixtures';
import { CheckoutPage, ReceiptPage, eventKinds, storedOrder } from './pages/checkout';
import { BackOffice } from './pages/merchant';
import { SavedCards } from './pages/saved-cards';

test('a shopper saves a card, comes back and pays with it, and the merchant charges it', async ({ page }) => {
  const email = `saver-${Date.now()}@example.com`;
  const checkout = new CheckoutPage(page);
  const saved = new SavedCards(page);
  const receipt = new ReceiptPage(page);

  // First visit: a new card, saved.
  await checkout.open({ tee: 1 });
  await checkout.fillCard({ number: '4000 0000 0000 1000' });
  await saved.saveBox().check();
  await checkout.fillBilling({ email });
  await checkout.payButton().click();
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment approved');
  const first = receipt.orderId();
  expect(eventKinds(first)).toContain('card_saved');

  // Back again: the e-mail confirmed with the code from the outbox, the saved card chosen, its code typed.
  await checkout.open({ mug: 1 });
  await saved.confirm(email);
  await expect(saved.card(/^Visa ending 1000/)).toBeChecked();
  await expect(page.getByLabel('Card number')).toBeHidden();
  await saved.payWithSaved(email);
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment approved');
  await expect(receipt.value('card')).toHaveText('Visa •••• 1000');
  expect(storedOrder(receipt.orderId())).toMatchObject({ status: 'captured', card_last4: '1000', liability_shifted: 1 });
  expect(eventKinds(receipt.orderId())).toEqual(expect.arrayContaining(['stored_credential', 'lookup_answered']));

  // The merchant charges the saved card for something more, after confirming.
  const office = new BackOffice(page);
  await page.goto(`/merchant/orders/${first}`);
  await office.signIn();
  await expect(office.value('saved-card')).toContainText('Visa ending 1000');
  await page.getByRole('textbox', { name: 'Amount (EUR)', exact: true }).fill('5.00');
  await page.getByLabel('What it is for').fill('Gift wrapping');
  await page.getByRole('button', { name: 'Charge saved card…' }).click();
  await expect(page.getByTestId('confirm-question')).toContainText('EUR 5.00');
  await page.getByRole('button', { name: 'Confirm charge' }).click();
  await expect(office.heading()).toContainText('Paid');
  await expect(office.value('original-order')).toHaveText(first);
  await expect(office.timeline()).toContainText('Merchant-initiated charge');
  const charged = page.url().split('/').pop()!;
  expect(storedOrder(charged)).toMatchObject({ status: 'captured', amount_minor: 500, authenticator: null });

  // The shopper's session still holds: the card is removed from the checkout (a plain form), and gone.
  await checkout.open({ cap: 1 });
  await saved.remove(/^Visa ending 1000/);
  await expect(page.getByRole('status').filter({ hasText: 'Card removed.' })).toBeVisible();
  await expect(saved.card(/^Visa ending 1000/)).toHaveCount(0);
  await expect(page.getByLabel('Card number')).toBeVisible();
});

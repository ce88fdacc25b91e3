import { test, expect } from './fixtures';
import { CheckoutPage, ReceiptPage, ShopPage, eventKinds, storedOrder } from './pages/checkout';

test('a shopper buys from the shop with a frictionless card', async ({ page }) => {
  const shop = new ShopPage(page);
  await shop.open();
  await shop.choose('Organic T-shirt', 2);
  await shop.choose('Enamel mug', 1);
  await shop.checkout();
  const checkout = new CheckoutPage(page);
  await checkout.waitReady();
  await expect(page.getByTestId('total')).toHaveText('EUR 60.00');
  await checkout.pay({ number: '4000 0000 0000 1000' });
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment approved');
  await expect(receipt.value('amount')).toHaveText('EUR 60.00');
  await expect(receipt.value('card')).toHaveText('Visa •••• 1000');
  await expect(receipt.value('threeds')).toContainText('Authenticated without a challenge');
  await expect(receipt.value('liability')).toContainText('Yes');
  expect(storedOrder(receipt.orderId())).toMatchObject({
    status: 'captured', amount_minor: 6000, currency: 'EUR', card_bin6: '400000', card_last4: '1000',
    liability_shifted: 1, captured_minor: 6000,
  });
  // Reloading the receipt never pays again.
  await page.reload();
  await expect(receipt.heading()).toHaveText('Payment approved');
  expect(eventKinds(receipt.orderId()).filter((k) => k === 'payment_requested')).toHaveLength(1);
});

test('a challenge is shown in the page and 1234 pays', async ({ page }) => {
  const checkout = new CheckoutPage(page);
  await checkout.open({ bag: 1 });
  await checkout.pay({ number: '4000000000001091' });
  await checkout.answerChallenge('1234');
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment approved');
  await expect(receipt.value('threeds')).toContainText('Authenticated with a challenge');
  expect(storedOrder(receipt.orderId())).toMatchObject({ status: 'captured', liability_shifted: 1 });
});

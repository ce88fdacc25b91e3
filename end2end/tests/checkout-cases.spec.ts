import { test, expect } from './fixtures';
import { CheckoutPage, ReceiptPage, eventKinds, storedOrder } from './pages/checkout';

// Every Visa case of the Cardinal matrix (protocol 2.1.0), plus Mastercard and Amex, through the page. The
// shop's policy is the default: without a 3-D Secure answer (U, B, errors, timeouts) the payment is declined.
type Case = {
  card: string;
  name: string;
  challenge?: 'code' | 'continue';
  heading: 'Payment approved' | 'Payment declined';
  threeds: string;
  liability: 'Yes' | 'No';
  stored: { status: string; liability_shifted: number | null };
};

const cases: Case[] = [
  { card: '4000000000001000', name: '1 frictionless success', heading: 'Payment approved', threeds: 'Authenticated without a challenge', liability: 'Yes', stored: { status: 'captured', liability_shifted: 1 } },
  { card: '4000000000001018', name: '2 frictionless failure', heading: 'Payment declined', threeds: 'Not authenticated', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001026', name: '3 attempts stand-in', heading: 'Payment approved', threeds: 'Attempted without a challenge', liability: 'Yes', stored: { status: 'captured', liability_shifted: 1 } },
  { card: '4000000000001034', name: '4 unavailable', heading: 'Payment declined', threeds: 'Unavailable', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001042', name: '5 rejected', heading: 'Payment declined', threeds: 'Rejected by the issuer', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001059', name: '6 not available on lookup', heading: 'Payment declined', threeds: 'No answer', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001067', name: '7 lookup error', heading: 'Payment declined', threeds: 'No answer', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001075', name: '8 lookup timeout', heading: 'Payment declined', threeds: 'Not performed', liability: 'No', stored: { status: 'declined', liability_shifted: null } },
  { card: '4000000000001083', name: '9 bypassed', heading: 'Payment declined', threeds: 'No answer', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001091', name: '10 step-up success', challenge: 'code', heading: 'Payment approved', threeds: 'Authenticated with a challenge', liability: 'Yes', stored: { status: 'captured', liability_shifted: 1 } },
  { card: '4000000000001109', name: '11 step-up failure', challenge: 'code', heading: 'Payment declined', threeds: 'Not authenticated with a challenge', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001117', name: '12 step-up unavailable', challenge: 'continue', heading: 'Payment declined', threeds: 'Unavailable with a challenge', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '4000000000001125', name: '13 error on authentication', challenge: 'continue', heading: 'Payment declined', threeds: 'Unavailable with a challenge', liability: 'No', stored: { status: 'declined', liability_shifted: 0 } },
  { card: '5200000000001005', name: 'Mastercard frictionless', heading: 'Payment approved', threeds: 'ECI 02', liability: 'Yes', stored: { status: 'captured', liability_shifted: 1 } },
  { card: '5200000000001096', name: 'Mastercard step-up', challenge: 'code', heading: 'Payment approved', threeds: 'ECI 02', liability: 'Yes', stored: { status: 'captured', liability_shifted: 1 } },
  { card: '340000000001007', name: 'Amex frictionless', heading: 'Payment approved', threeds: 'ECI 05', liability: 'Yes', stored: { status: 'captured', liability_shifted: 1 } },
  { card: '340000000001098', name: 'Amex step-up', challenge: 'code', heading: 'Payment approved', threeds: 'Authenticated with a challenge', liability: 'Yes', stored: { status: 'captured', liability_shifted: 1 } },
];

for (const c of cases) {
  test(`case ${c.name} (${c.card})`, async ({ page }) => {
    const checkout = new CheckoutPage(page);
    await checkout.open({ tee: 1 });
    await checkout.pay({ number: c.card });
    if (c.challenge === 'code') await checkout.answerChallenge('1234');
    if (c.challenge === 'continue') await checkout.continueChallenge();
    const receipt = new ReceiptPage(page);
    await receipt.waitFor();
    await expect(receipt.heading()).toHaveText(c.heading);
    await expect(receipt.value('threeds')).toContainText(c.threeds);
    await expect(receipt.value('liability')).toContainText(c.liability);
    await expect(receipt.value('amount')).toHaveText('EUR 24.00');
    expect(storedOrder(receipt.orderId())).toMatchObject({ ...c.stored, card_last4: c.card.slice(-4) });
  });
}

test('a wrong code three times declines the payment', async ({ page }) => {
  const checkout = new CheckoutPage(page);
  await checkout.open({ mug: 1 });
  await checkout.pay({ number: '4000000000001091' });
  await checkout.answerChallenge('0000');
  await expect(checkout.bank().getByRole('alert')).toHaveText('That code is not right. 2 attempts left.');
  await checkout.answerChallenge('1111');
  await checkout.answerChallenge('2222');
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment declined');
  await expect(page.getByText('Your bank did not confirm it was you')).toBeVisible();
  expect(storedOrder(receipt.orderId())).toMatchObject({ status: 'declined', liability_shifted: 0, captured_minor: 0 });
});

test('cancelling the challenge declines the payment', async ({ page }) => {
  const checkout = new CheckoutPage(page);
  await checkout.open({ mug: 1 });
  await checkout.pay({ number: '4000000000002503' });
  await checkout.cancelChallenge();
  const receipt = new ReceiptPage(page);
  await receipt.waitFor();
  await expect(receipt.heading()).toHaveText('Payment declined');
  expect(storedOrder(receipt.orderId())).toMatchObject({ status: 'declined' });
  expect(eventKinds(receipt.orderId())).not.toContain('payment_requested');
});

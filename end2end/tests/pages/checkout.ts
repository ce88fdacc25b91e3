import { expect, type FrameLocator, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { Shell } from './shell';

export type Card = { number: string; expiry?: string; cvv?: string; holder?: string };

/** 01 / current year + 3: the expiry the Cardinal test cards need. */
export function testExpiry() {
  return `01/${String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0')}`;
}

export class ShopPage {
  constructor(readonly page: Page) {}

  async open() {
    await new Shell(this.page).open('/shop');
  }

  async choose(product: string, quantity: number) {
    await this.page.getByLabel(`Quantity of ${product}`).fill(String(quantity));
  }

  async checkout() {
    await this.page.getByRole('button', { name: 'Go to checkout' }).click();
    await new Shell(this.page).waitForHydration();
  }
}

export class CheckoutPage {
  constructor(readonly page: Page) {}

  /** Opens the checkout for a cart such as { tee: 1 } and waits until 3-D Secure is ready. */
  async open(cart: Record<string, number>) {
    const query = new URLSearchParams(Object.entries(cart).map(([k, v]) => [k, String(v)])).toString();
    await new Shell(this.page).open(`/checkout?${query}`);
    await this.waitReady();
  }

  async waitReady() {
    await expect(this.payButton()).toBeEnabled();
  }

  payButton() {
    return this.page.getByRole('button', { name: /^(Pay|Authorize) / });
  }

  /** Types the card into the page's own inputs, or into the acquirer's card fields (iframes) when it has them. */
  async fillCard(card: Card) {
    const expiry = card.expiry ?? testExpiry();
    const cvv = card.cvv ?? (card.number.replace(/\D/g, '').startsWith('3') ? '1234' : '123');
    if (await this.page.locator('#cc-number').count()) {
      const field = (id: string) => this.page.frameLocator(`#${id} iframe`).locator('input').first();
      await field('cc-number').pressSequentially(card.number.replace(/\D/g, ''), { delay: 5 });
      await field('cc-expiry').pressSequentially(expiry.replace(/\D/g, ''), { delay: 5 });
      await field('cc-cvv').pressSequentially(cvv, { delay: 5 });
    } else {
      await this.page.getByLabel('Card number').fill(card.number);
      await this.page.getByLabel('Expiry (MM/YY)').fill(expiry);
      await this.page.getByLabel('Security code').fill(cvv);
    }
    await this.page.getByLabel('Name on card').fill(card.holder ?? 'Ada Lovelace');
  }

  async fillBilling(overrides: Partial<Record<'first' | 'last' | 'address' | 'city' | 'email', string>> = {}) {
    await this.page.getByLabel('First name').fill(overrides.first ?? 'Ada');
    await this.page.getByLabel('Last name').fill(overrides.last ?? 'Lovelace');
    await this.page.getByLabel('Address').fill(overrides.address ?? '12 St James Square');
    await this.page.getByLabel('City').fill(overrides.city ?? 'London');
    await this.page.getByLabel('Country').selectOption('GB');
    await this.page.getByLabel('Email').fill(overrides.email ?? 'ada@example.com');
  }

  async pay(card: Card) {
    await this.fillCard(card);
    await this.fillBilling();
    await this.payButton().click();
  }

  challengeDialog() {
    return this.page.getByRole('dialog', { name: 'Confirm the payment with your bank' });
  }

  bank(): FrameLocator {
    return this.page.frameLocator('#challenge-host iframe');
  }

  /** The bank's page for step-ups it cannot do: it only offers Continue. */
  async continueChallenge() {
    await expect(this.challengeDialog()).toBeVisible();
    await this.bank().getByRole('button', { name: 'Continue' }).click();
  }

  async cancelChallenge() {
    await expect(this.challengeDialog()).toBeVisible();
    await this.bank().getByRole('button', { name: 'Cancel' }).click();
  }

  async answerChallenge(code: string) {
    await expect(this.challengeDialog()).toBeVisible();
    await this.bank().getByLabel('Verification code').fill(code);
    await this.bank().getByRole('button', { name: 'Submit' }).click();
  }

  fieldError(label: string) {
    return this.page.locator('.field', { has: this.page.getByLabel(label, { exact: true }) }).locator('.field-error');
  }
}

export class ReceiptPage {
  constructor(readonly page: Page) {}

  async waitFor() {
    await this.page.waitForURL(/\/checkout\/[0-9a-f-]{36}$/, { timeout: 20_000 });
    await new Shell(this.page).waitForHydration();
  }

  orderId() {
    return this.page.url().split('/').pop()!;
  }

  heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  value(testId: string) {
    return this.page.getByTestId(testId);
  }
}

/** The order as SQLite holds it (the app's database of this run). */
export function storedOrder(id: string, database = process.env.E2E_DATABASE!): Record<string, string> {
  const sql = `SELECT status, amount_minor, currency, card_brand, card_bin6, card_last4, liability_shifted,
    captured_minor, refunded_minor, capture_mode, provider, authenticator FROM orders
    WHERE id = '${id.replace(/[^0-9a-f-]/g, '')}'`;
  const out = execFileSync('sqlite3', ['-json', database, sql]).toString();
  return (JSON.parse(out || '[]')[0] ?? {}) as Record<string, string>;
}

export function eventKinds(id: string): string[] {
  const sql = `SELECT kind FROM order_events WHERE order_id = '${id.replace(/[^0-9a-f-]/g, '')}' ORDER BY id`;
  return execFileSync('sqlite3', [process.env.E2E_DATABASE!, sql]).toString().trim().split('\n');
}

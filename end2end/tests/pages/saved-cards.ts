import { expect, type Page } from '@playwright/test';
import { CheckoutPage } from './checkout';

/** The checkout's saved-card part: save a card, confirm the e-mail with the code from the sandbox's outbox,
 *  pay with a saved card (its security code typed again), remove one. */
export class SavedCards {
  constructor(readonly page: Page) {}

  saveBox() {
    return this.page.getByLabel('Save this card for next time');
  }

  /** Asks for a code, reads it in the sandbox's mail outbox (another tab) and confirms the e-mail. Both are
   *  plain forms: each posts and the checkout loads again, live once its Pay button is enabled. */
  async confirm(email: string) {
    await this.page.getByLabel('Your e-mail for saved cards').fill(email);
    await this.page.getByRole('button', { name: 'Send me a code' }).click();
    await expect(this.page.getByRole('status').filter({ hasText: 'a code is on its way' })).toBeVisible();
    await expect(this.page.getByLabel('Code we sent you')).toBeVisible();
    const code = await new Outbox(this.page).codeFor(email);
    await this.page.getByLabel('Code we sent you').fill(code);
    await this.page.getByRole('button', { name: 'Confirm' }).click();
    await expect(this.page.getByRole('status').filter({ hasText: 'Email confirmed.' })).toBeVisible();
    await new CheckoutPage(this.page).waitReady();
  }

  card(label: RegExp) {
    return this.page.getByRole('radio', { name: label });
  }

  /** Removes a saved card with its button in the picker; the checkout loads again. */
  async remove(label: RegExp) {
    await this.page.getByRole('button', { name: new RegExp(`^Remove ${label.source.replace(/^\^/, '')}`) }).click();
    await new CheckoutPage(this.page).waitReady();
  }

  /** Pays with the chosen saved card: only the security code and the name and billing details. */
  async payWithSaved(email: string, cvv = '123') {
    await this.page.getByLabel('Security code').fill(cvv);
    await this.page.getByLabel('Name on card').fill('Ada Lovelace');
    await new CheckoutPage(this.page).fillBilling({ email });
    await new CheckoutPage(this.page).payButton().click();
  }
}

/** The sandbox's mail outbox page. */
export class Outbox {
  constructor(readonly page: Page) {}

  async codeFor(email: string): Promise<string> {
    const tab = await this.page.context().newPage();
    try {
      await tab.goto(`/sandbox/mail?to=${encodeURIComponent(email)}`);
      const newest = tab.getByRole('region', { name: email }).locator('article').first();
      const text = (await newest.innerText()) ?? '';
      const code = /\b(\d{6})\b/.exec(text)?.[1];
      expect(code, text).toBeTruthy();
      return code!;
    } finally {
      await tab.close();
    }
  }
}

import { expect, type Page } from '@playwright/test';
import { MERCHANT } from '../support/credentials';

/** The back office: server-rendered pages with plain forms (no hydration to wait for). */
export class BackOffice {
  constructor(readonly page: Page) {}

  async signIn(email = MERCHANT.email, password = MERCHANT.password) {
    if (!this.page.url().includes('/merchant/sign-in')) await this.page.goto('/merchant/sign-in');
    await this.page.getByLabel('Email').fill(email);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  async signOut() {
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await expect(this.heading()).toHaveText('Merchant sign-in');
  }

  heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  alert() {
    return this.page.getByRole('alert');
  }

  async search(text: string) {
    await this.page.getByLabel('Search').fill(text);
    await this.page.getByRole('button', { name: 'Apply' }).click();
  }

  /** The history row of the order with this merchant reference. */
  row(reference: string) {
    return this.page.getByRole('row').filter({ has: this.page.getByRole('link', { name: reference, exact: true }) });
  }

  async openOrder(reference: string) {
    await this.row(reference).getByRole('link', { name: reference }).click();
    await expect(this.heading()).toContainText(`Order ${reference}`);
  }

  /** Fills the amount (if any), asks, reads the confirmation and confirms. */
  async act(verb: 'Refund' | 'Capture' | 'Void', amount?: string) {
    if (amount !== undefined) await this.page.getByLabel(new RegExp(`^${verb} amount`)).fill(amount);
    await this.page.getByRole('button', { name: `${verb}…` }).click();
    await expect(this.page.getByTestId('confirm-question')).toBeVisible();
    await this.page.getByRole('button', { name: `Confirm ${verb.toLowerCase()}` }).click();
  }

  result() {
    return this.page.getByTestId('action-result');
  }

  value(testId: string) {
    return this.page.getByTestId(testId);
  }

  timeline() {
    return this.page.getByTestId('timeline');
  }
}

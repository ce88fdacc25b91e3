import { expect, type FrameLocator, type Page } from '@playwright/test';

/** A card as the shopper types it: number, expiry as MMYY digits, security code. */
export type TypedCard = { number: string; expiry: string; cvv: string };

/** What `customCheckout.createToken` hands its callback (Custom Checkout reference, "createToken"). */
export type TokenResult = {
  code: string | number;
  token?: string;
  last4?: string;
  expiryMonth?: string;
  expiryYear?: string;
  error?: { field: string; type: string; message: string };
};

/**
 * A merchant's checkout page as the Custom Checkout guide builds one: it loads customcheckout.js from the sandbox,
 * mounts the card-number, cvv and expiry fields, and renders a 302's `contents` in an iframe for the bank.
 */
export function merchantCheckoutHtml(sandboxOrigin: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Merchant checkout</title></head>
<body>
  <h1>Pay for your order</h1>
  <form id="checkout-form">
    <p>Card number</p><div id="card-number"></div>
    <p>Security code</p><div id="card-cvv"></div>
    <p>Expiry</p><div id="card-expiry"></div>
  </form>
  <div id="challenge"></div>
  <script src="${sandboxOrigin}/sandbox/bambora/customcheckout/1/customcheckout.js"></script>
  <script>
    var customCheckout = customcheckout();
    var complete = {};
    customCheckout.on('complete', function (event) {
      complete[event.field] = event.complete === true || event.complete === 'true';
    });
    customCheckout.create('card-number', { placeholder: 'Card number' }).mount('#card-number');
    customCheckout.create('cvv', { placeholder: 'CVV' }).mount('#card-cvv');
    customCheckout.create('expiry', { placeholder: 'MM / YY' }).mount('#card-expiry');
    window.fieldsComplete = function () {
      return complete['card-number'] === true && complete['cvv'] === true && complete['expiry'] === true;
    };
    window.createToken = function () {
      return new Promise(function (resolve) { customCheckout.createToken(resolve); });
    };
    // The 3-D Secure guide: "The merchant's process URL decodes the response redirect and displays the
    // information in the customer's web browser."
    window.showChallenge = function (contents) {
      var frame = document.createElement('iframe');
      frame.id = 'bank-challenge';
      frame.title = 'Confirm the payment with your bank';
      frame.width = '420';
      frame.height = '480';
      frame.srcdoc = decodeURIComponent(contents.replace(/\\+/g, ' '));
      document.getElementById('challenge').appendChild(frame);
    };
  </script>
</body>
</html>`;
}

export class MerchantCheckout {
  constructor(readonly page: Page) {}

  async open(url: string) {
    await this.page.goto(url);
    for (const input of [this.cardNumber(), this.cvv(), this.expiry()]) {
      await expect(input).toBeVisible();
    }
  }

  cardNumber() {
    return this.page.frameLocator('#card-number iframe').locator('input').first();
  }

  cvv() {
    return this.page.frameLocator('#card-cvv iframe').locator('input').first();
  }

  expiry() {
    return this.page.frameLocator('#card-expiry iframe').locator('input').first();
  }

  /** Types the card into the three iframes key by key, and waits for their `complete` events. */
  async typeCard(card: TypedCard) {
    await this.cardNumber().pressSequentially(card.number, { delay: 5 });
    await this.expiry().pressSequentially(card.expiry, { delay: 5 });
    await this.cvv().pressSequentially(card.cvv, { delay: 5 });
    await expect
      .poll(() => this.page.evaluate(() => (window as any).fieldsComplete()), {
        message: 'a `complete` event for card-number, cvv and expiry',
      })
      .toBe(true);
  }

  createToken(): Promise<TokenResult> {
    return this.page.evaluate(() => (window as any).createToken());
  }

  /** Browser data for 3-D Secure 2, read from the shopper's browser as the guide asks. */
  browserData() {
    return this.page.evaluate(() => ({
      accept_header: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      java_enabled: false,
      language: navigator.language,
      color_depth: screen.colorDepth,
      screen_height: screen.height,
      screen_width: screen.width,
      time_zone: new Date().getTimezoneOffset(),
      user_agent: navigator.userAgent,
      javascript_enabled: true,
    }));
  }

  async showChallenge(contents: string) {
    await this.page.evaluate((c) => (window as any).showChallenge(c), contents);
  }

  bank(): FrameLocator {
    return this.page.frameLocator('#bank-challenge');
  }

  async answerBank(code: string) {
    await this.bank().getByLabel('Verification code').fill(code);
    await this.bank().getByRole('button', { name: 'Submit' }).click();
  }

  async cancelBank() {
    await this.bank().getByRole('button', { name: 'Cancel' }).click();
  }

  /** Everything of the merchant's own document a script of theirs could read: markup and input values. */
  ownDocument(): Promise<string> {
    return this.page.evaluate(() => {
      const values = Array.from(document.querySelectorAll('input')).map((i) => i.value);
      return document.documentElement.outerHTML + '\n' + document.body.innerText + '\n' + values.join('\n');
    });
  }
}

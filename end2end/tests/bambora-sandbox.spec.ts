import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIRequestContext } from '@playwright/test';
import { test as base, expect } from './fixtures';
import { MerchantCheckout, merchantCheckoutHtml, type TypedCard } from './pages/bambora-merchant';

// The Bambora sandbox as a merchant integrates it, from the public reference: a checkout page on the merchant's
// own origin mounts Custom Checkout's iframes and creates a token; the merchant's server pays with it; a challenge
// is rendered from the 302's `contents`, the shopper answers the bank, the bank posts to `term_url`, and the
// server calls `continue`.

/** README: merchant 300200578, Payment API passcode `sandbox-passcode`, sent as `Passcode base64(id:passcode)`. */
const PASSCODE = 'Passcode ' + Buffer.from('300200578:sandbox-passcode').toString('base64');
const API = '/sandbox/bambora/v1';

/** Any future expiry (README), typed as MMYY. */
const EXPIRY = `01${String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0')}`;
const FRICTIONLESS: TypedCard = { number: '4030000010001234', expiry: EXPIRY, cvv: '123' };
const CHALLENGE: TypedCard = { number: '4716519788977219', expiry: EXPIRY, cvv: '123' };

/** The merchant's site, on another origin than the sandbox: its checkout page, and `term_url`. */
class MerchantSite {
  readonly posts: Record<string, string>[] = [];
  private server?: http.Server;
  origin = '';

  async start(sandboxOrigin: string) {
    this.server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/checkout') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(merchantCheckoutHtml(sandboxOrigin));
      } else if (req.method === 'POST' && req.url === '/3ds-return') {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', () => {
          this.posts.push(Object.fromEntries(new URLSearchParams(body)));
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end('<p>Thank you, we are confirming your payment.</p>');
        });
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    // `localhost`, not 127.0.0.1: another site than the sandbox, as a real merchant is.
    this.origin = `http://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  termUrl() {
    return `${this.origin}/3ds-return`;
  }

  close() {
    return new Promise((resolve) => this.server?.close(resolve));
  }
}

const test = base.extend<{ merchant: MerchantSite }>({
  merchant: async ({ baseURL }, use) => {
    const site = new MerchantSite();
    await site.start(baseURL!);
    await use(site);
    await site.close();
  },
});

function orderNumber() {
  return `pw-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** What the merchant's server does with a token: a purchase asking for 3-D Secure 2. */
async function payWithToken(request: APIRequestContext, token: string, termUrl: string, browser: object) {
  const res = await request.post(`${API}/payments`, {
    headers: { authorization: PASSCODE },
    maxRedirects: 0,
    data: {
      order_number: orderNumber(),
      amount: 25.0,
      payment_method: 'token',
      customer_ip: '203.0.113.7',
      term_url: termUrl,
      token: {
        code: token,
        name: 'Ada Lovelace',
        complete: true,
        '3d_secure': { browser, enabled: true, version: 2, auth_required: false },
      },
    },
  });
  return { status: res.status(), headers: res.headers(), body: await res.json() };
}

async function continuePayment(request: APIRequestContext, session: string, cres: string) {
  const res = await request.post(`${API}/payments/${encodeURIComponent(session)}/continue`, {
    headers: { authorization: PASSCODE },
    data: { payment_method: 'credit_card', card_response: { cres } },
  });
  return { status: res.status(), body: await res.json() };
}

/** The card never reaches the merchant's document, whatever its scripts read. */
async function expectNoCardDigits(checkout: MerchantCheckout, card: TypedCard) {
  const own = await checkout.ownDocument();
  const grouped = card.number.replace(/(\d{4})(?=\d)/g, '$1 ');
  expect(own).not.toContain(card.number);
  expect(own).not.toContain(grouped);
  expect(own).not.toContain(card.number.slice(6, 12));
}

/** Opens the merchant's page, types the card into the iframes and creates a token. */
async function tokenize(checkout: MerchantCheckout, merchant: MerchantSite, card: TypedCard) {
  await checkout.open(`${merchant.origin}/checkout`);
  await checkout.typeCard(card);
  await expectNoCardDigits(checkout, card);
  const result = await checkout.createToken();
  expect(result.error, JSON.stringify(result)).toBeUndefined();
  expect(String(result.code)).toBe('200');
  expect(result.token).toEqual(expect.any(String));
  expect(result.last4).toBe(card.number.slice(-4));
  expect(result.expiryMonth).toBe(card.expiry.slice(0, 2));
  await expectNoCardDigits(checkout, card);
  return result.token!;
}

/** Pays with a token for the challenge card and renders the bank's page; returns the 302's session id. */
async function startChallenge(request: APIRequestContext, checkout: MerchantCheckout, merchant: MerchantSite) {
  const token = await tokenize(checkout, merchant, CHALLENGE);
  const challenge = await payWithToken(request, token, merchant.termUrl(), await checkout.browserData());
  expect(challenge.status, JSON.stringify(challenge.body)).toBe(302);
  expect(challenge.headers['location']).toBeUndefined();
  expect(challenge.body.links).toContainEqual(expect.objectContaining({ rel: 'continue', method: 'POST' }));
  await checkout.showChallenge(challenge.body.contents);
  await expect(checkout.bank().getByLabel('Verification code')).toBeVisible();
  await expectNoCardDigits(checkout, CHALLENGE);
  return challenge.body['3d_session_data'] as string;
}

/** The form the bank posted to `term_url`. */
async function postedToTermUrl(merchant: MerchantSite) {
  await expect.poll(() => merchant.posts.length, { message: 'the bank posts to term_url' }).toBe(1);
  const posted = merchant.posts[0];
  expect(Object.keys(posted)).toEqual(expect.arrayContaining(['cres', 'threeDSSessionData']));
  return posted;
}

test('a frictionless card is tokenized in the iframes and its token pays once', async ({ page, request, merchant }) => {
  const checkout = new MerchantCheckout(page);
  const token = await tokenize(checkout, merchant, FRICTIONLESS);
  const paid = await payWithToken(request, token, merchant.termUrl(), await checkout.browserData());
  expect(paid.status, JSON.stringify(paid.body)).toBe(200);
  expect(String(paid.body.approved)).toBe('1');
  expect(paid.body.card).toMatchObject({ card_type: 'VI', last_four: '1234' });
  expect(Number(paid.body['3d_secure'].status_id)).toBe(1);
  const again = await payWithToken(request, token, merchant.termUrl(), await checkout.browserData());
  expect(again.status, 'a single-use token').toBe(402);
});

test('a challenge answered with the right code is approved on continue', async ({ page, request, merchant }) => {
  const checkout = new MerchantCheckout(page);
  const session = await startChallenge(request, checkout, merchant);
  await checkout.answerBank('12345');
  const posted = await postedToTermUrl(merchant);
  expect(posted.threeDSSessionData.toLowerCase()).toBe(session.toLowerCase());
  const paid = await continuePayment(request, posted.threeDSSessionData, posted.cres);
  expect(paid.status, JSON.stringify(paid.body)).toBe(200);
  expect(String(paid.body.approved)).toBe('1');
  expect(Number(paid.body['3d_secure'].status_id)).toBe(1);
  expect(paid.body.card.last_four).toBe('7219');
  await expectNoCardDigits(checkout, CHALLENGE);
});

test('a cancelled challenge is declined on continue with 311', async ({ page, request, merchant }) => {
  const checkout = new MerchantCheckout(page);
  await startChallenge(request, checkout, merchant);
  await checkout.cancelBank();
  const posted = await postedToTermUrl(merchant);
  const refused = await continuePayment(request, posted.threeDSSessionData, posted.cres);
  expect(refused.status).toBe(402);
  expect(refused.body).toMatchObject({ code: 311, message: '3D Secure Failed' });
});

test('three wrong codes fail the challenge: 311 on continue', async ({ page, request, merchant }) => {
  const checkout = new MerchantCheckout(page);
  await startChallenge(request, checkout, merchant);
  for (const code of ['00000', '11111']) {
    await checkout.answerBank(code);
    // The bank shows its page again, with an empty field, and posts nothing yet.
    await expect(checkout.bank().getByLabel('Verification code')).toHaveValue('');
    expect(merchant.posts).toHaveLength(0);
  }
  await checkout.answerBank('22222');
  const posted = await postedToTermUrl(merchant);
  const refused = await continuePayment(request, posted.threeDSSessionData, posted.cres);
  expect(refused.status).toBe(402);
  expect(refused.body).toMatchObject({ code: 311, message: '3D Secure Failed' });
});

import { expect, type APIRequestContext, type Page } from '@playwright/test';

/** The sandbox's default credentials (public on purpose; only the embedded sandbox accepts them). */
export const SANDBOX = {
  auth: 'Basic ' + Buffer.from('sandbox-user:sandbox-api-key').toString('base64'),
  contract: 'sandbox-3ds-contract',
  keyAlias: 'sandbox-key',
};

/** Expiry the Cardinal test cards need: 01 / current year + 3. */
export function testCardExpiry() {
  return { expiryMonth: '01', expiryYear: String(new Date().getUTCFullYear() + 3) };
}

/** What a merchant's server does: create the JWT for Cardinal.setup. */
export async function createJwt(request: APIRequestContext): Promise<string> {
  const res = await request.post('/sandbox/verifone/oidc/3ds-service/v2/jwt/create', {
    headers: { authorization: SANDBOX.auth },
    data: { threeds_contract_id: SANDBOX.contract },
  });
  expect(res.status()).toBe(200);
  return (await res.json()).jwt;
}

/** What a merchant's server does with the session id and the encrypted card: the 3DS lookup. */
export async function lookup(request: APIRequestContext, sessionId: string, encryptedCard: string, amount = 1000) {
  const res = await request.post('/sandbox/verifone/oidc/3ds-service/v2/lookup', {
    headers: { authorization: SANDBOX.auth },
    data: {
      amount, currency_code: 'EUR', merchant_reference: 'sdk-spec', email: 'ada@example.com',
      billing_first_name: 'Ada', billing_last_name: 'Lovelace', billing_address_1: '1 Main St', billing_city: 'London',
      billing_country_code: 'GB', device_info_id: sessionId, threeds_contract_id: SANDBOX.contract,
      encrypted_card: encryptedCard, public_key_alias: SANDBOX.keyAlias,
    },
  });
  const body = await res.json();
  expect(res.status(), JSON.stringify(body)).toBe(200);
  return body;
}

/**
 * Loads the Cardinal SDK and verifone.js emulations into `page`, sets Cardinal up with a fresh JWT (framework
 * 'inline', challenge placed in #challenge-host), runs bin.process and encrypts `card`.
 */
export async function setUpBrowser(page: Page, request: APIRequestContext, cardNumber: string) {
  await page.goto('/');
  await page.evaluate(() => {
    const host = document.createElement('div');
    host.id = 'challenge-host';
    document.body.appendChild(host);
  });
  await page.addScriptTag({ url: '/sandbox/cardinal/songbird.js' });
  await page.addScriptTag({ url: '/sandbox/verifone/verifone.js' });
  const key = await (await request.get(`/sandbox/verifone/keys/${SANDBOX.keyAlias}`)).text();
  const jwt = await createJwt(request);
  return page.evaluate(
    async ({ jwt, key, cardNumber, expiry }) => {
      const w = window as any;
      w.Cardinal.configure({ timeout: 8000, logging: { level: 'off' }, payment: { framework: 'inline', displayLoading: false } });
      w.validated = new Promise((resolve) => w.Cardinal.on('payments.validated', (data: any, jwt: string) => resolve({ data, jwt })));
      w.Cardinal.on('ui.inline.setup', (html: string, _details: unknown, resolve: () => void) => {
        document.getElementById('challenge-host')!.innerHTML = html;
        resolve();
      });
      w.__lastJwt = jwt;
      const sessionId: string = await new Promise((resolve) => {
        w.Cardinal.on('payments.setupComplete', (d: any) => resolve(d.sessionId));
        w.Cardinal.setup('init', { jwt });
      });
      const bin = await w.Cardinal.trigger('bin.process', cardNumber.slice(0, 9));
      const { encryptedCard } = await w.verifone.getEncryptedCardDetails(
        { cardNumber, cvv: '123', ...expiry }, key);
      return { sessionId, binStatus: bin.Status as boolean, encryptedCard: encryptedCard as string };
    },
    { jwt, key, cardNumber, expiry: testCardExpiry() },
  );
}

/** Starts the challenge of a lookup that answered pares_status C. */
export async function continueChallenge(page: Page, lookupAnswer: any) {
  await page.evaluate((l) => {
    (window as any).Cardinal.continue('cca', { AcsUrl: l.acs_url, Payload: l.payload }, { OrderDetails: { TransactionId: l.transaction_id } });
  }, lookupAnswer);
  return page.frameLocator('#Cardinal-CCA-IFrame');
}

export function validated(page: Page): Promise<{ data: any; jwt: string }> {
  return page.evaluate(() => (window as any).validated);
}

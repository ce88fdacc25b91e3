import { test, expect } from './fixtures';
import { SANDBOX, continueChallenge, lookup, setUpBrowser, testCardExpiry, validated } from './support/sandbox';

// The sandbox's browser side in Chromium: the Cardinal SDK emulation, verifone.js (OpenPGP.js v4) and the ACS.

test('setup, bin.process, OpenPGP.js card encryption and a frictionless lookup', async ({ page, request }) => {
  const browser = await setUpBrowser(page, request, '4000000000001000');
  expect(browser.sessionId).toMatch(/^0_[0-9a-f-]{36}$/);
  expect(browser.binStatus).toBe(true);
  expect(Buffer.from(browser.encryptedCard, 'base64').toString()).toContain('-----BEGIN PGP MESSAGE-----');
  // OpenPGP.js v4 ciphertext decrypts in the sandbox: the lookup answers the test card's values.
  const answer = await lookup(request, browser.sessionId, browser.encryptedCard);
  expect(answer).toMatchObject({ enrolled: 'Y', pares_status: 'Y', eci_flag: '05', signature_verification: 'Y' });
});

test('verifone.encryptCard takes a two-digit year and a base64 key; a repeated setup keeps the session', async ({ page, request }) => {
  const browser = await setUpBrowser(page, request, '4000000000001000');
  const armored = await (await request.get(`/sandbox/verifone/keys/${SANDBOX.keyAlias}`)).text();
  const again = await page.evaluate(
    async ({ key, year }) => {
      const w = window as any;
      // Real pages call setup again with the same JWT before continue: the same session answers again.
      const jwt = w.__lastJwt;
      const sessionId: string = await new Promise((resolve) => {
        w.Cardinal.on('payments.setupComplete', (d: any) => resolve(d.sessionId));
        w.Cardinal.setup('init', { jwt });
      });
      const encrypted: string = await w.verifone.encryptCard(
        { cardNumber: '4000000000001000', expiryMonth: '01', expiryYear: year, cvv: '123' }, key);
      return { sessionId, encrypted };
    },
    { key: Buffer.from(armored).toString('base64'), year: testCardExpiry().expiryYear.slice(2) },
  );
  expect(again.sessionId).toBe(browser.sessionId);
  expect(typeof again.encrypted).toBe('string');
  const answer = await lookup(request, browser.sessionId, again.encrypted);
  expect(answer).toMatchObject({ enrolled: 'Y', pares_status: 'Y', eci_flag: '05' });
});

test('a challenge completed with 1234 validates, and the server can verify the JWT', async ({ page, request }) => {
  const browser = await setUpBrowser(page, request, '4000000000001091');
  const answer = await lookup(request, browser.sessionId, browser.encryptedCard);
  expect(answer.pares_status).toBe('C');
  const acs = await continueChallenge(page, answer);
  await expect(acs.getByText('Amount')).toBeVisible();
  await expect(acs.getByText('400000******1091')).toBeVisible();
  await acs.getByLabel('Verification code').fill('1234');
  await acs.getByRole('button', { name: 'Submit' }).click();
  const { data, jwt } = await validated(page);
  expect(data.ActionCode).toBe('SUCCESS');
  expect(data.Payment.ExtendedData).toMatchObject({ PAResStatus: 'Y', SignatureVerification: 'Y', ECIFlag: '05' });
  const res = await request.post('/sandbox/verifone/oidc/3ds-service/v2/jwt/validate', {
    headers: { authorization: SANDBOX.auth },
    data: { authentication_id: answer.authentication_id, jwt, threeds_contract_id: SANDBOX.contract },
  });
  expect(await res.json()).toMatchObject({
    authentication_id: answer.authentication_id,
    action_code: 'SUCCESS',
    validation_result: { pares_status: 'Y', signature_verification: 'Y', eci_flag: '05' },
  });
});

test('wrong codes fail the challenge after three attempts', async ({ page, request }) => {
  const browser = await setUpBrowser(page, request, '4000000000001091');
  const answer = await lookup(request, browser.sessionId, browser.encryptedCard);
  const acs = await continueChallenge(page, answer);
  await acs.getByLabel('Verification code').fill('0000');
  await acs.getByRole('button', { name: 'Submit' }).click();
  await expect(acs.getByRole('alert')).toHaveText('That code is not right. 2 attempts left.');
  for (const code of ['1111', '2222']) {
    await acs.getByLabel('Verification code').fill(code);
    await acs.getByRole('button', { name: 'Submit' }).click();
  }
  const { data } = await validated(page);
  expect(data.ActionCode).toBe('FAILURE');
  expect(data.Payment.ExtendedData.PAResStatus).toBe('N');
});

test('cancel in the challenge gives the cancel outcome', async ({ page, request }) => {
  const browser = await setUpBrowser(page, request, '5200000000001096');
  const answer = await lookup(request, browser.sessionId, browser.encryptedCard);
  const acs = await continueChallenge(page, answer);
  await acs.getByRole('button', { name: 'Cancel' }).click();
  const { data } = await validated(page);
  expect(data).toMatchObject({ ActionCode: 'ERROR', ErrorNumber: 10011, ErrorDescription: 'Canceled by user' });
});

// What a client written against Verifone's published API does, with only the base URL, credentials and key
// configured: JWT, Cardinal setup, the card encrypted with each verifone.js call (getEncryptedCardDetails for
// the lookup, encryptCard for the payment), the challenge, jwt/validate, the payment with a reuse token asked
// for, a refund; then a payment with the stored card and the CVV alone entered again (encryptCard({cvv})).
test('a published client end to end', async ({ page, request }) => {
  const auth = { authorization: SANDBOX.auth };
  const tokenScope = '5a0c2d6e-8f4b-4c1a-9e3d-7b2f1a6c0d94';
  const browser = await setUpBrowser(page, request, '4000000000001091');
  const answer = await lookup(request, browser.sessionId, browser.encryptedCard, 4250);
  expect(answer.pares_status).toBe('C');
  const acs = await continueChallenge(page, answer);
  await acs.getByLabel('Verification code').fill('1234');
  await acs.getByRole('button', { name: 'Submit' }).click();
  const { jwt } = await validated(page);
  const checked = await (await request.post('/sandbox/verifone/oidc/3ds-service/v2/jwt/validate', {
    headers: auth,
    data: { authentication_id: answer.authentication_id, jwt, threeds_contract_id: SANDBOX.contract },
  })).json();
  expect(checked).toMatchObject({ action_code: 'SUCCESS', validation_result: { pares_status: 'Y' } });

  const armored = await (await request.get(`/sandbox/verifone/keys/${SANDBOX.keyAlias}`)).text();
  const { card, cvvOnly } = await page.evaluate(async ({ key, expiry }) => {
    const w = window as any;
    const card: string = await w.verifone.encryptCard({ cardNumber: '4000000000001091', cvv: '123', ...expiry }, key);
    const cvvOnly: string = await w.verifone.encryptCard({ cvv: '123' }, key);
    return { card, cvvOnly };
  }, { key: armored, expiry: testCardExpiry() });

  const v = checked.validation_result;
  const pay = await request.post('/sandbox/verifone/oidc/api/v2/transactions/card', {
    headers: auth,
    data: {
      payment_provider_contract: 'sandbox-payment-contract', amount: 4250, currency_code: 'EUR',
      merchant_reference: 'sdk-e2e', public_key_alias: SANDBOX.keyAlias, encrypted_card: card,
      threed_authentication: {
        eci_flag: v.eci_flag, enrolled: v.enrolled, cavv: v.cavv, pares_status: v.pares_status,
        threeds_version: answer.threeds_version, ds_transaction_id: v.ds_transaction_id,
        signature_verification: v.signature_verification,
      },
      token_preference: { token_scope: tokenScope },
      stored_credential: { stored_credential_type: 'SIGNUP', processing_model_details: { processing_model: 'CREDENTIAL_ON_FILE' } },
    },
  });
  const paid = await pay.json();
  expect(pay.status(), JSON.stringify(paid)).toBe(201);
  expect(paid).toMatchObject({ status: 'AUTHORIZED', card_details: { masked_card_number: '400000****1091' } });
  expect(typeof paid.reuse_token).toBe('string');

  const refund = await request.post(`/sandbox/verifone/oidc/api/v2/transactions/${paid.id}/refund`, {
    headers: auth, data: { amount: 4250 },
  });
  expect(refund.status()).toBe(201);
  expect((await refund.json()).status).toBe('REFUNDED');

  // The shopper pays again with the stored card, the CVV alone encrypted by verifone.js.
  const again = await request.post('/sandbox/verifone/oidc/api/v2/transactions/card', {
    headers: auth,
    data: {
      payment_provider_contract: 'sandbox-payment-contract', amount: 1200, currency_code: 'EUR',
      merchant_reference: 'sdk-e2e-2', reuse_token: paid.reuse_token,
      public_key_alias: SANDBOX.keyAlias, encrypted_card: cvvOnly,
      stored_credential: { stored_credential_type: 'CHARGE', processing_model_details: { processing_model: 'CREDENTIAL_ON_FILE' } },
    },
  });
  const charged = await again.json();
  expect(again.status(), JSON.stringify(charged)).toBe(201);
  expect(charged).toMatchObject({ status: 'AUTHORIZED', cvv_present: true, reuse_token: paid.reuse_token });
});

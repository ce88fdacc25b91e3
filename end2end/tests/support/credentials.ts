/** The back office's user on the test servers (test-only credentials, given to them as MERCHANT_EMAIL/PASSWORD). */
export const MERCHANT = { email: 'merchant@example.com', password: 'end-to-end passphrase' };

import { defineConfig } from '@playwright/test';
import os from 'node:os';
import path from 'node:path';
import { MERCHANT } from './tests/support/credentials';

// One server for the whole run, on its own port and a fresh SQLite file. Workers inherit these variables.
process.env.E2E_PORT ??= '3100';
process.env.E2E_DATABASE ??= path.join(os.tmpdir(), `card-checkout-e2e-${Date.now()}.db`);
process.env.E2E_PREAUTH_PORT ??= '3101';
process.env.E2E_PREAUTH_DATABASE ??= path.join(os.tmpdir(), `card-checkout-e2e-preauth-${Date.now()}.db`);
// Bambora as the acquirer: authenticating inside its payment, and after Verifone's 3-D Secure ("own process").
process.env.E2E_BAMBORA_PORT ??= '3102';
process.env.E2E_BAMBORA_DATABASE ??= path.join(os.tmpdir(), `card-checkout-e2e-bambora-${Date.now()}.db`);
process.env.E2E_OWN_PROCESS_PORT ??= '3103';
process.env.E2E_OWN_PROCESS_DATABASE ??= path.join(os.tmpdir(), `card-checkout-e2e-own-${Date.now()}.db`);
const port = process.env.E2E_PORT;
const root = path.resolve(__dirname, '..');
const binary = process.env.E2E_SERVER_BIN ?? path.join(root, 'target', 'release', 'card-checkout');

/** One app server (E2E_SERVER_BIN, default the release build) on a fresh SQLite file, against the embedded sandbox. */
function server(port: string, database: string, env: Record<string, string> = {}) {
  return {
    command: binary,
    cwd: root,
    url: `http://127.0.0.1:${port}/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      APP_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${database}`,
      LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
      LEPTOS_ENV: 'PROD',
      LOG_LEVEL: 'warn',
      // Longer than our client's 10 s lookup timeout, short enough for a test.
      SANDBOX_TIMEOUT_DELAY_MS: '12000',
      // The back office's user for the merchant specs (test-only credentials).
      MERCHANT_EMAIL: MERCHANT.email,
      MERCHANT_PASSWORD: MERCHANT.password,
      ...env,
    },
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  // Waits for /health before any test starts, and stops the servers afterwards. The second runs the shop in
  // pre-authorization mode; the last two take payments through Bambora (its sandbox account is in CAD).
  webServer: [
    server(port, process.env.E2E_DATABASE),
    server(process.env.E2E_PREAUTH_PORT, process.env.E2E_PREAUTH_DATABASE, { CAPTURE_MODE: 'pre_auth' }),
    server(process.env.E2E_BAMBORA_PORT, process.env.E2E_BAMBORA_DATABASE, {
      PAYMENT_PROVIDER: 'bambora', SHOP_CURRENCY: 'CAD',
    }),
    server(process.env.E2E_OWN_PROCESS_PORT, process.env.E2E_OWN_PROCESS_DATABASE, {
      PAYMENT_PROVIDER: 'bambora', THREEDS_PROVIDER: 'verifone', SHOP_CURRENCY: 'CAD',
    }),
  ],
});

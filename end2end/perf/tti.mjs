// Time from navigation to an enabled Pay button on the checkout page, in Chromium on loopback with the CPU
// slowed 4× (CDP Emulation.setCPUThrottlingRate), over several fresh page loads (a new context each: no cache).
// Usage: node perf/tti.mjs BASE_URL [runs]. Prints each run, then the median and the spread (min–max).
import { chromium } from '@playwright/test';

const [base, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 7);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const times = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const started = performance.now();
  await page.goto(`${base}/checkout?tee=1`, { waitUntil: 'commit' });
  await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 30_000 });
  const hydrated = performance.now() - started;
  await page.getByRole('button', { name: /^Pay / }).and(page.locator(':enabled')).waitFor({ timeout: 30_000 });
  const ms = performance.now() - started;
  times.push(ms);
  // Where the time goes: the server's answer, the page parsed, the card form hydrated (wasm), the SDK ready.
  const nav = await page.evaluate(() => {
    const [n] = performance.getEntriesByType('navigation');
    return { response: n.responseEnd, parsed: n.domContentLoadedEventStart };
  });
  console.log(`run ${i + 1}: ${ms.toFixed(0)} ms to an enabled Pay button (HTML received at ` +
    `${nav.response.toFixed(0)} ms, parsed at ${nav.parsed.toFixed(0)} ms, hydrated at ${hydrated.toFixed(0)} ms)`);
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`median ${median.toFixed(0)} ms, spread ${times[0].toFixed(0)}–${times[times.length - 1].toFixed(0)} ms ` +
  `over ${runs} loads (4× CPU throttling; budget 300 ms)`);

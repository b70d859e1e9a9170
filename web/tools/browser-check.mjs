// tools/browser-check.mjs - the built UI in a real browser (Debian's
// Chromium driven by playwright-core), against a running sbems:
//
//   node tools/browser-check.mjs BASE_URL USER PASSWORD SHOTS_DIR
//
// Signs in, finds the building on the portfolio, opens its dashboard and a
// zone, at desktop (1280 px) and phone (375 px) widths, and checks that the
// pages render real data with no horizontal scrolling on the phone and no
// error in the console.  Screenshots go to SHOTS_DIR.  Prints one JSON line
// per check and exits 1 on the first failure.  The browser is started with
// a fresh profile (playwright's) and stopped before exit; never downloads a
// browser.
import { chromium } from 'playwright-core';
import { join } from 'node:path';

const [base, user, password, shots] = process.argv.slice(2);
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
let browser;

function ok(check, extra = {}) {
  console.log(JSON.stringify({ ok: true, check, ...extra }));
}

async function signIn(page) {
  await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function noSideScroll(page, where) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  if (w[0] > w[1] + 1) throw new Error(`${where}: page is ${w[0]} px wide in a ${w[1]} px window`);
}

async function walk(width, height, tag) {
  const ctx = await browser.newContext({ viewport: { width, height }, colorScheme: tag === 'phone' ? 'dark' : 'light' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') &&
    errors.push(m.text()));
  // a failed request names its URL (the console message does not)
  // (a 401 from the refresh at page load is the app asking whether a session
  // exists: the expected answer before signing in)
  page.on('response', (r) => r.status() >= 400 &&
    !(r.status() === 401 && r.url().endsWith('/api/v1/auth/refresh')) &&
    errors.push(`${r.status()} ${r.request().method()} ${r.url()}`));
  await signIn(page);
  const link = page.getByRole('link', { name: 'Harbor Point Office' });
  await link.waitFor({ timeout: 20000 });
  ok(`${tag}: portfolio lists the building`);
  await noSideScroll(page, `${tag} portfolio`);
  await page.screenshot({ path: join(shots, `portfolio-${tag}.png`), fullPage: true });
  await link.click();
  await page.getByRole('heading', { name: 'Zones' }).waitFor({ timeout: 20000 });
  await page.getByRole('heading', { name: 'Equipment' }).waitFor({ timeout: 20000 });
  ok(`${tag}: building dashboard renders`);
  await noSideScroll(page, `${tag} building`);
  await page.waitForTimeout(1500);          // let the live chart draw
  await page.screenshot({ path: join(shots, `building-${tag}.png`), fullPage: true });
  await page.screenshot({ path: join(shots, `building-${tag}-view.png`) });   // what one screen shows
  await page.goto(base + '/zones/f1-south/', { waitUntil: 'domcontentloaded' });
  await page.getByRole('heading', { name: 'Setpoints' }).waitFor({ timeout: 20000 });
  ok(`${tag}: zone page renders with its setpoint control`);
  await noSideScroll(page, `${tag} zone`);
  await page.screenshot({ path: join(shots, `zone-${tag}.png`), fullPage: true });
  if (errors.length) throw new Error(`${tag}: console errors: ${errors.slice(0, 3).join(' | ')}`);
  ok(`${tag}: no console error`);
  await ctx.close();
}

try {
  browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],   // playwright gives it a fresh profile
  });
  ok('browser started', { version: browser.version() });
  await walk(1280, 800, 'desktop');
  await walk(375, 812, 'phone');
  console.log(JSON.stringify({ ok: true, done: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message ? e.message : e) }));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}

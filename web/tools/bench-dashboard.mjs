// tools/bench-dashboard.mjs - the building dashboard's speed in a real
// browser (Debian's Chromium via playwright-core), driven by bench/web/run:
//
//   node tools/bench-dashboard.mjs BASE_URL USER PASSWORD BUILDING ZONES WINDOW_S
//
// Prints one JSON object with:
//   login_ms   anchor: navigation to the sign-in form shown (the static page,
//              React and the router: the floor under any page)
//   dash_ms    navigation to the building dashboard with every one of ZONES
//              zone tiles showing a temperature (median of 5 loads, signed in)
//   idle / live  over WINDOW_S seconds on the dashboard, first with no
//              readings arriving (the anchor), then while the driver posts
//              ZONES readings a second (bench/web/run): frame intervals
//              (p50, p99, max, from requestAnimationFrame), long tasks
//              (> 50 ms), main-thread script and task time per second (CDP
//              Performance.getMetrics), and how many tile updates were seen.
// The driver is told when to start and stop by the lines "LIVE" and "DONE"
// on stdout, and answers on stdin.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const [base, user, password, building, zonesArg, windowArg] = process.argv.slice(2);
const ZONES = Number(zonesArg);
const WINDOW_S = Number(windowArg || 20);
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
const stdin = createInterface({ input: process.stdin });
const lines = [];
let waiter = null;
stdin.on('line', (l) => (waiter ? (waiter(l), (waiter = null)) : lines.push(l)));
const nextLine = () => new Promise((r) => (lines.length ? r(lines.shift()) : (waiter = r)));

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Tiles of the zone grid that show a number (the tiles link to /zones/<id>/). */
async function tilesWithValues(page) {
  return page.evaluate(() => [...document.querySelectorAll('a[href^="/zones/"]')]
    .filter((a) => /\d/.test(a.textContent || '')).length);
}

async function measureWindow(page, cdp, seconds) {
  const m0 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const r = await page.evaluate(async (ms) => {
    const gaps = [];
    let longTasks = 0;
    let mutations = 0;
    const po = new PerformanceObserver((l) => (longTasks += l.getEntries().length));
    po.observe({ type: 'longtask', buffered: false });
    const mo = new MutationObserver((ms2) => (mutations += ms2.length));
    const grid = document.querySelector('main') || document.body;
    mo.observe(grid, { subtree: true, characterData: true, childList: true });
    await new Promise((done) => {
      let last = performance.now();
      const end = last + ms;
      const tick = (t) => {
        gaps.push(t - last);
        last = t;
        if (t < end) requestAnimationFrame(tick);
        else done();
      };
      requestAnimationFrame(tick);
    });
    po.disconnect();
    mo.disconnect();
    gaps.sort((a, b) => a - b);
    const q = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
    return { frames: gaps.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: gaps[gaps.length - 1], long_tasks: longTasks, dom_mutations: mutations };
  }, seconds * 1000);
  const m1 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  r.script_ms_per_s = ((m1.ScriptDuration - m0.ScriptDuration) * 1000) / seconds;
  r.task_ms_per_s = ((m1.TaskDuration - m0.TaskDuration) * 1000) / seconds;
  r.layout_ms_per_s = ((m1.LayoutDuration - m0.LayoutDuration) * 1000) / seconds;
  return r;
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: exe, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();

  // anchor: the sign-in form, from a cold page, 5 times
  const login = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await page.goto(base + '/', { waitUntil: 'commit' });
    await page.getByLabel('User name').waitFor();
    login.push(Date.now() - t0);
  }
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();

  // the dashboard with every tile showing a value, 5 loads (the session survives reloads)
  const dash = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    await page.goto(`${base}/buildings/${building}/`, { waitUntil: 'commit' });
    // the floor view shows one floor at first: show them all (part of the measured time)
    await page.getByRole('button', { name: /^All floors/ }).click();
    const end = Date.now() + 30000;
    while ((await tilesWithValues(page)) < ZONES) {
      if (Date.now() > end) throw new Error(`only ${await tilesWithValues(page)} of ${ZONES} tiles show a value`);
      await page.waitForTimeout(10);
    }
    dash.push(Date.now() - t0);
  }

  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Performance.enable');
  const idle = await measureWindow(page, cdp, WINDOW_S);
  console.log('LIVE');
  if ((await nextLine()) !== 'STARTED') throw new Error('driver did not start');
  await page.waitForTimeout(2000); // the first frames of the stream
  const live = await measureWindow(page, cdp, WINDOW_S);
  console.log('DONE');
  console.log(JSON.stringify({ ok: true, login_ms: median(login), login_all: login, dash_ms: median(dash), dash_all: dash, idle, live }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message ? e.message : e) }));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  stdin.close();
}

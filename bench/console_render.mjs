// console_render: how long the console's list page takes in a real browser,
// from navigation start until the first copy row is painted, over the same
// store console_bench measures the API on (1,000,000 copies in `make bench`).
//
// It starts `console_bench --serve` (which fills or reuses the store and
// serves the console on loopback), drives Chromium through playwright-core
// (tests/browser/node_modules), signs in once through the login form, then
// navigates REPS times to / (the list with the default filter) and reads,
// in the page, when the first row (data-testid="copy-row-ID", CopyList.tsx)
// was laid out and painted. Baseline, interleaved in the same run: a
// navigation to /api/v1/health from the same daemon (a tiny no-store JSON
// document), whose first paint is what the browser costs with no app at
// all. A third navigation per repetition loads the list with the browser
// cache disabled (a first visit: the JS and CSS fetched too).
//
// Times come from the page's own clock (performance.now() counts from the
// navigation's start), so Playwright's round trips are not in them.
//
//   node bench/console_render.mjs --bench=BUILD/bench/console_bench --copies=N
//        [--dir=D] [--keep] [--reps=R] [--playwright=DIR]
//   node bench/console_render.mjs --url=URL --name=NAME --password=PW [--reps=R]
//
// Prints a markdown section for BENCHMARKS.md; without playwright-core or
// Chromium it prints a "skipped" section and exits 0.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const TARGET_MS = 300;

function parseFlags(argv) {
  const known = new Set(['bench', 'copies', 'dir', 'keep', 'reps', 'playwright', 'url', 'name', 'password']);
  const flags = {};
  for (const a of argv) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m || !known.has(m[1])) {
      console.error(`console_render: unknown argument ${a}`);
      process.exit(2);
    }
    flags[m[1]] = m[2] ?? '1';
  }
  return flags;
}

const flags = parseFlags(process.argv.slice(2));
const reps = Number(flags.reps ?? 30);
const commandLine = ['node', path.relative(ROOT, fileURLToPath(import.meta.url)), ...process.argv.slice(2)].join(' ');
const title = `## Console first render in Chromium${flags.copies ? `: ${flags.copies} copies` : ''}`;

function skip(why) {
  console.log(`${title}\n\n\`${commandLine}\`\n\n**Skipped**: ${why}\n`);
  process.exit(0);
}

if (!Number.isInteger(reps) || reps < 1) {
  console.error('console_render: --reps must be a positive integer');
  process.exit(2);
}

// playwright-core from tests/browser (the browser tests' own install), or
// --playwright=DIR (a playwright-core package directory).
function loadPlaywright() {
  const dir = flags.playwright ?? path.join(ROOT, 'tests/browser/node_modules/playwright-core');
  if (!fs.existsSync(path.join(dir, 'package.json'))) return null;
  return createRequire(path.join(dir, 'package.json'))(dir);
}

const playwright = loadPlaywright();
if (!playwright) {
  skip(
    'playwright-core is not installed in tests/browser/node_modules (the browser tests install it: ' +
      '`npm ci` in tests/browser); pass --playwright=DIR to use another copy.',
  );
}
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is not installed (apt-get install chromium).`);
const chromiumVersion = await new Promise((resolve) => {
  const p = spawn(CHROMIUM, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.on('close', () => resolve(out.trim()));
  p.on('error', () => resolve('unknown'));
});

// The console: ours (console_bench --serve) or one given by --url.
async function startServer() {
  if (flags.url) {
    if (!flags.name || !flags.password) {
      console.error('console_render: --url needs --name and --password');
      process.exit(2);
    }
    return { info: { url: flags.url, name: flags.name, password: flags.password }, stop: async () => {} };
  }
  if (!flags.bench || !flags.copies) {
    console.error('console_render: give --bench=PATH/console_bench and --copies=N (or --url)');
    process.exit(2);
  }
  const args = ['--serve', `--copies=${flags.copies}`];
  if (flags.dir) args.push(`--dir=${flags.dir}`);
  if (flags.keep) args.push('--keep');
  const child = spawn(flags.bench, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const lines = readline.createInterface({ input: child.stdout });
  // Filling a large store first takes minutes: no timeout here.
  const first = await new Promise((resolve) => {
    lines.once('line', resolve);
    exited.then(() => resolve(null));
  });
  if (!first) {
    console.error(`console_render: ${flags.bench} --serve ended before serving`);
    process.exit(1);
  }
  const info = JSON.parse(first);
  return {
    info,
    stop: async () => {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) {
        console.error(`console_render: console_bench --serve exited with ${code}`);
        process.exit(1);
      }
    },
  };
}

// In every document, before its scripts: note when the first copy row is
// laid out and visible, the animation frame after that, and the task after
// that frame (the frame has been painted by then).
function watchFirstRow() {
  const mark = {};
  window.__mvRender = mark;
  const visible = () => {
    const row = document.querySelector('[data-testid^="copy-row-"]');
    if (!row) return false;
    if (row.checkVisibility && !row.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const r = row.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const observer = new MutationObserver(() => {
    if (mark.dom !== undefined || !visible()) return;
    mark.dom = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => {
      mark.frame = performance.now();
      const ch = new MessageChannel();
      ch.port1.onmessage = () => (mark.painted = performance.now());
      ch.port2.postMessage(0);
    });
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true });
}

function pageTimes() {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint');
  const api = performance
    .getEntriesByType('resource')
    .find((e) => new URL(e.name).pathname === '/api/v1/copies');
  const m = window.__mvRender ?? {};
  return {
    painted: m.painted,
    dom: m.dom,
    responseEnd: nav?.responseEnd,
    fcp: fcp?.startTime,
    apiStart: api?.startTime,
    apiEnd: api?.responseEnd,
    rows: document.querySelectorAll('[data-testid^="copy-row-"]').length,
  };
}

function percentile(values, p) {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return NaN;
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1];
}
const ms = (x) => (Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));

function table(header, rows) {
  const w = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(w[i])).join(' | ')} |`;
  return [line(header), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const server = await startServer();
const { url, name, password } = server.info;
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-render-'));
let context;
try {
  context = await playwright.chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  await context.addInitScript(watchFirstRow);
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');

  // Sign in once, through the form, as a person would.
  await page.goto(`${url}/`);
  await page.getByTestId('login-name').fill(name);
  await page.getByTestId('login-password').fill(password);
  const loginStart = Date.now();
  await page.getByTestId('login-submit').click();
  await page.waitForSelector('[data-testid^="copy-row-"]', { timeout: 60_000 });
  const loginMs = Date.now() - loginStart;

  const waitPainted = () =>
    page.waitForFunction(() => window.__mvRender && window.__mvRender.painted !== undefined, null, {
      timeout: 60_000,
      polling: 50,
    });
  const list = async () => {
    const t0 = Date.now();
    await page.goto(`${url}/`, { waitUntil: 'commit' });
    await waitPainted();
    const t = await page.evaluate(pageTimes);
    t.wall = Date.now() - t0;
    if (t.rows < 1) throw new Error('the list page shows no copies');
    if (new URL(page.url()).pathname !== '/') throw new Error(`the list page went to ${page.url()}`);
    return t;
  };
  const baseline = async () => {
    const t0 = Date.now();
    await page.goto(`${url}/api/v1/health`, { waitUntil: 'load' });
    await page.waitForFunction(
      () => performance.getEntriesByType('paint').some((e) => e.name === 'first-contentful-paint'),
      null,
      { timeout: 30_000, polling: 50 },
    );
    const t = await page.evaluate(pageTimes);
    t.wall = Date.now() - t0;
    return t;
  };

  // One unreported round first (the first navigations pay for starting
  // the renderer and compiling the app), then REPS interleaved rounds.
  await list();
  await baseline();
  const warm = [];
  const cold = [];
  const base = [];
  for (let i = 0; i < reps; ++i) {
    warm.push(await list());
    base.push(await baseline());
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    cold.push(await list());
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    if ((i + 1) % 10 === 0) console.error(`render: ${i + 1} of ${reps} rounds`);
  }

  const baseFcp = percentile(base.map((t) => t.fcp), 50);
  const row = (nav, measure, values) => {
    const p50 = percentile(values, 50);
    return [nav, measure, ms(p50), ms(percentile(values, 95)), ms(percentile(values, 100)), `${(p50 / baseFcp).toFixed(1)}x`];
  };
  const listRows = (label, ts) => [
    row(label, '**first copy row painted**', ts.map((t) => t.painted)),
    row(label, 'first copy row laid out (in the DOM)', ts.map((t) => t.dom)),
    row(label, 'GET /api/v1/copies answered', ts.map((t) => t.apiEnd)),
    row(label, 'GET /api/v1/copies sent', ts.map((t) => t.apiStart)),
    row(label, 'first contentful paint (app shell)', ts.map((t) => t.fcp)),
    row(label, 'index.html received', ts.map((t) => t.responseEnd)),
    row(label, '(wall: goto until seen by Playwright)', ts.map((t) => t.wall)),
  ];
  const rows = [
    ...listRows('/ (list, default filter), cache on', warm),
    ...listRows('/ (list), cache disabled', cold),
    row('/api/v1/health (baseline)', 'first contentful paint', base.map((t) => t.fcp)),
    row('/api/v1/health (baseline)', 'response received', base.map((t) => t.responseEnd)),
  ];
  const warmP95 = percentile(warm.map((t) => t.painted), 95);
  const coldP95 = percentile(cold.map((t) => t.painted), 95);
  const lines = [
    title,
    '',
    `\`${commandLine}\``,
    '',
    `${chromiumVersion}, headless, through playwright-core ${readVersion() ?? ''} ` +
      `(flags ${CHROMIUM_ARGS.join(' ')}, a fresh profile, viewport 1280x800), against ` +
      `\`console_bench --serve\` over the same store (${server.info.copies ?? '?'} copies) on loopback HTTP. ` +
      `Signed in once through the login form (argon2id at the interactive cost; form submit to the first row ` +
      `${loginMs} ms). Then ${reps} rounds of: the list page / (default filter, ${warm[0].rows} rows: ` +
      `GET /api/v1/session and GET /api/v1/copies, an audited search, behind it) with the browser cache on (the ` +
      `hashed JS and CSS are cached as for a returning user); /api/v1/health, a tiny no-store JSON document from ` +
      `the same daemon, as the baseline (what a navigation and a first paint cost with no app); the list page ` +
      `again with the cache disabled (first visit: JS and CSS fetched). Times in ms from the navigation's start ` +
      `by the page's own clock; "painted" = the task after the animation frame that laid out the first row. ` +
      `Target: first row within ${TARGET_MS} ms.`,
    '',
    table(['navigation', 'measure', 'p50 ms', 'p95 ms', 'max ms', 'p50 / baseline FCP p50'], rows),
    '',
    `**First copy row painted, p95: ${ms(warmP95)} ms with the cache, ${ms(coldP95)} ms without ` +
      `(target ${TARGET_MS} ms: ${warmP95 < TARGET_MS ? 'met' : '**missed**'} / ` +
      `${coldP95 < TARGET_MS ? 'met' : '**missed**'}).** Median per-round difference list painted - baseline ` +
      `first paint: ${ms(percentile(warm.map((t, i) => t.painted - base[i].fcp), 50))} ms.`,
    '',
  ];
  console.log(lines.join('\n'));
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
  await server.stop();
}

function readVersion() {
  const dir = flags.playwright ?? path.join(ROOT, 'tests/browser/node_modules/playwright-core');
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

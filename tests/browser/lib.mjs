// Shared helpers of the browser tests: Chromium launched exactly as the
// issue prescribes (Debian's /usr/bin/chromium, headless, no background
// networking, a fresh user-data dir), sign-in, screenshots, and the
// settings the suite (tests/integration/browser_test.sh) passes in env vars.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BASE = process.env.MV_URL;
export const PASSWORD = process.env.MV_PASSWORD;
export const IDS = JSON.parse(process.env.MV_IDS || '{}');
export const SHOTS = process.env.MV_SCREENSHOTS || 'screenshots';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// A browser context of its own (fresh profile dir, downloads accepted).
export async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mv-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 860 },
  });
  const page = context.pages()[0] || (await context.newPage());
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export async function signIn(page, name, password = PASSWORD) {
  await page.goto(`${BASE}/login`);
  await page.fill('[data-testid=login-name]', name);
  await page.fill('[data-testid=login-password]', password);
  await page.click('[data-testid=login-submit]');
}

export const tid = (id) => `[data-testid="${id}"]`;

// The copy ids shown in the list, in order.
export async function listedIds(page) {
  const rows = await page.$$('[data-testid^="copy-row-"]');
  const ids = [];
  for (const r of rows) ids.push(Number((await r.getAttribute('data-testid')).slice('copy-row-'.length)));
  return ids;
}

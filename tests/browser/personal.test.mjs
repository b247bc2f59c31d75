// Personal mode driven as an end user would (see
// tests/integration/personal_browser_test.sh for the data): pat sees only
// the copies addressed to pat@example.com, may filter, preview (HTML only
// where Anti-Virus found nothing), deliver to their own mailbox (the
// message reaches the relay for pat only) and delete; never an
// administrator page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BASE, IDS, launch, listedIds, shot, signIn, tid } from './lib.mjs';

const mv = (...args) =>
  execFileSync(path.join(process.env.MV_BIN, 'mailvault'), [...args, '--data', process.env.MV_DATA]);

let b;
before(async () => { b = await launch(); });
after(async () => { await b.close(); });

async function listReady(page) {
  await page.waitForSelector(`.table-wrap:not(.loading) ${tid('copy-table')}, ${tid('empty-state')}`);
}

test('pat signs in and sees only the copies addressed to pat', async () => {
  const { page } = b;
  await signIn(page, 'pat');
  await page.waitForSelector(tid(`copy-row-${IDS.plain}`));
  await listReady(page);
  assert.deepEqual(await listedIds(page), [IDS.shared, IDS.virus, IDS.html, IDS.plain]);
  // No administrator page in the header, and none opens.
  for (const nav of ['nav-queue', 'nav-audit', 'nav-settings', 'nav-usage']) {
    assert.equal(await page.$(tid(nav)), null, nav);
  }
  await shot(page, 'personal-01-list');
  const refused = await page.evaluate(async () => (await fetch('/api/v1/settings')).status);
  assert.equal(refused, 403);
  const foreign = await page.evaluate(async (id) => (await fetch(`/api/v1/copies/${id}`)).status, IDS.other);
  assert.equal(foreign, 404);
});

test('filters work inside the user\'s copies', async () => {
  const { page } = b;
  await page.goto(`${BASE}/`);
  await page.waitForSelector(tid('filter-apply'));
  await page.fill(tid('filter-subject'), 'order');
  const answered = page.waitForResponse((r) => r.url().includes('/api/v1/copies?') && r.url().includes('subject=order'));
  await page.click(tid('filter-apply'));
  await answered;
  await listReady(page);
  assert.deepEqual(await listedIds(page), [IDS.virus, IDS.html]);
  await page.goto(`${BASE}/?subject=minutes`);
  await page.waitForSelector(tid('empty-state'));  // bob's copy is not pat's
  await shot(page, 'personal-02-filter');
});

test('preview: HTML where Anti-Virus found nothing, text only where it found a virus', async () => {
  const { page } = b;
  await page.goto(`${BASE}/copies/${IDS.html}`);
  await page.waitForSelector(tid('preview-text'));
  await page.waitForSelector(tid('preview-tab-html'));
  await shot(page, 'personal-03-html-allowed');
  await page.goto(`${BASE}/copies/${IDS.virus}`);
  await page.waitForSelector(tid('preview-text'));
  assert.equal(await page.$(tid('preview-tab-html')), null, 'no HTML tab for an infected copy');
  await shot(page, 'personal-04-infected-text-only');
});

test('deliver to self: the message reaches the relay for pat only', async () => {
  const { page } = b;
  await page.goto(`${BASE}/?subject=lunch`);
  await page.waitForSelector(tid(`copy-check-${IDS.shared}`));
  await page.check(tid(`copy-check-${IDS.shared}`));
  await page.click(tid('btn-deliver'));
  await page.waitForSelector(tid('deliver-personal'));
  assert.equal(await page.$(tid('deliver-to')), null, 'no other addresses for a personal user');
  await shot(page, 'personal-05-deliver-dialog');
  await page.click(tid('deliver-submit'));
  await page.waitForSelector(tid('banner'));
  const sink = process.env.MV_SINK_DIR;
  let env = null;
  for (let i = 0; i < 300 && !env; i++) {
    for (const f of fs.readdirSync(sink).filter((n) => n.endsWith('.json'))) {
      const e = JSON.parse(fs.readFileSync(path.join(sink, f), 'utf8'));
      if (fs.existsSync(path.join(sink, f.replace(/\.json$/, '.eml')))) env = e;
    }
    if (!env) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(env, 'the delivered message reached the relay');
  assert.deepEqual(env.rcpt_tos, ['pat@example.com']);
  await shot(page, 'personal-06-delivered');
});

test('delete with confirmation', async () => {
  const { page } = b;
  await page.goto(`${BASE}/?subject=invoice`);
  await page.waitForSelector(tid(`copy-check-${IDS.plain}`));
  await page.check(tid(`copy-check-${IDS.plain}`));
  await page.click(tid('btn-delete'));
  await page.click(tid('confirm-ok'));
  await page.waitForSelector(tid('empty-state'));
  await shot(page, 'personal-07-deleted');
  assert.throws(() => mv('show', String(IDS.plain)), 'the copy is gone from the store');
});

test('personal Backup off: a notice, and the API refuses', async () => {
  const { page } = b;
  mv('settings', 'set', 'personal.backup', 'no');
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => document.body.textContent.includes('personal Backup is turned off'));
  await shot(page, 'personal-08-backup-off');
  const status = await page.evaluate(async () => (await fetch('/api/v1/copies')).status);
  assert.equal(status, 403);
});

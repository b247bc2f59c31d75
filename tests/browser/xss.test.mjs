// The XSS corpus (tests/xss/corpus.txt, one stored message per vector)
// through the console's HTML preview in real Chromium: shown in the view
// page's sandboxed iframe and opened as a top-level page, no vector may run
// script (no dialog, no console output from it, no page error) or make the
// browser request anything but the console itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, shot, signIn, tid } from './lib.mjs';

const ids = (process.env.MV_XSS_IDS || '').split(',').filter(Boolean).map(Number);
let b;
const events = [];
before(async () => {
  b = await launch();
  const { context, page } = b;
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(BASE + '/') && !u.startsWith('data:')) events.push(`request ${u}`);
  });
  context.on('page', (p) => events.push(`new page ${p.url()}`));
  page.on('dialog', async (d) => { events.push(`dialog ${d.message()}`); await d.dismiss(); });
  page.on('pageerror', (e) => events.push(`page error ${e.message}`));
  page.on('console', (m) => {
    // The browser reports what the CSP blocked; that is the policy working,
    // not script running.
    if (!/Content Security Policy|Blocked script execution|sandboxed/i.test(m.text())) {
      events.push(`console ${m.type()} ${m.text()}`);
    }
  });
  await signIn(page, 'alice');
  await page.waitForSelector('[data-testid^="copy-row-"]');
});
after(async () => { await b.close(); });

// The detectors themselves: a page that does run script and reach out is
// seen, so a silent run below means something.
test('control: script and requests are detected when they happen', async () => {
  const { page } = b;
  events.length = 0;
  await page.goto('about:blank');
  await page.setContent('<img src="http://leak.example/x.gif"><script>alert("ran")</script>');
  await page.waitForTimeout(200);
  assert.ok(events.some((e) => e.startsWith('dialog ran')), events.join('; '));
  assert.ok(events.some((e) => e.startsWith('request http://leak.example/')), events.join('; '));
  events.length = 0;
});

test('the corpus is there', () => {
  assert.ok(ids.length >= 30, `${ids.length} vectors`);
});

test('no vector runs script or reaches the network, framed or top-level', async () => {
  const { page } = b;
  let first = true;
  for (const id of ids) {
    events.length = 0;
    await page.goto(`${BASE}/copies/${id}`);
    await page.waitForSelector(tid('preview'));
    if (await page.$(tid('preview-html')) === null) await page.click(tid('preview-tab-html'));
    const frame = await page.waitForSelector(tid('preview-html'));
    assert.equal(await frame.getAttribute('sandbox'), '');
    await (await frame.contentFrame()).waitForLoadState('load');
    await page.waitForTimeout(150);  // timers and animations of a vector
    if (first) { await shot(page, '20-xss-framed'); first = false; }
    assert.deepEqual(events, [], `copy ${id} in the view page`);
    await page.goto(`${BASE}/api/v1/copies/${id}/html`);
    await page.waitForTimeout(100);
    assert.deepEqual(events, [], `copy ${id} opened top-level`);
    assert.equal(new URL(page.url()).pathname, `/api/v1/copies/${id}/html`, 'no navigation away');
  }
});

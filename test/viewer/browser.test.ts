/**
 * The viewer in a real browser: Playwright (playwright-core, no downloaded browsers) driving
 * Debian's Chromium. On a failing simulator run it finds the violation banner first, clicks an
 * event in the diagram with the mouse, checks the state diff the panel shows against the trace's
 * own records, walks the violation's lead-up with the keyboard, and saves screenshots under
 * artifacts/viewer/. The same page opens an explorer counterexample and a real-runtime recording,
 * is served by `halfmoon view`, and stays usable on a 100,000-event run: the frame draws a bounded
 * number of things (a density view when zoomed out), whatever the trace's size.
 *
 * Skipped, with a message, where /usr/bin/chromium is absent; CI installs it (apt-get install -y
 * chromium) so it runs there.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brief } from '../../app/viewer/lens.ts';
import { diffJson } from '../../app/viewer/diff.ts';
import { loadTrace } from '../../app/viewer/load.ts';
import { renderPage } from '../../app/viewer/page.ts';
import { startViewerServer } from '../../app/viewer/server.ts';
import { syntheticTraceLines } from '../../app/viewer/synthetic.ts';
import { runOnce } from '../../sim/run.ts';
import { asExplorerTrace, asRealTrace, CRASH_FAILURE, PARTITION_FAILURE, records, simTrace, tmp, writeRecords } from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = resolve(process.env.HALFMOON_ARTIFACTS ?? 'artifacts', 'viewer');
if (!HAVE_CHROMIUM) console.warn(`test/viewer/browser.test.ts: skipped: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`);

interface ViewerHandle {
  data: { S: { n: number; node: Int32Array }; model: { violations: { step: number; lead: number[] }[] } };
  state: { selected: number };
  diagram: { stats: { steps: number; arrows: number; arrowsInView: number; dense: boolean }; stepPoint(k: number): { x: number; y: number } | null; reveal(k: number): void; draw(): void };
}

async function writePage(tracePath: string, name: string): Promise<string> {
  const t = await loadTrace(tracePath);
  const out = join(tmp, name);
  writeFileSync(out, await renderPage(t.model.meta.file, { model: t.model, index: t.index, blobs: t.blobLines().join('\n'), text: t.compactLines(0, t.index.records).join('\n') }));
  return pathToFileURL(out).href;
}

async function open(ctx: BrowserContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForSelector('html[data-ready]', { timeout: 30_000 });
  expect(await page.getAttribute('html', 'data-ready')).toBe('1');
  return { page, errors };
}

/** Clicks step k in the diagram with the mouse (scrolling it into view first). */
async function clickStep(page: Page, k: number): Promise<void> {
  await page.evaluate((k) => {
    const v = (globalThis as unknown as { halfmoonViewer: ViewerHandle }).halfmoonViewer;
    v.diagram.reveal(k);
    v.diagram.draw();
  }, k);
  const pt = await page.evaluate((k) => (globalThis as unknown as { halfmoonViewer: ViewerHandle }).halfmoonViewer.diagram.stepPoint(k), k);
  expect(pt).not.toBeNull();
  const box = (await page.locator('canvas.diagram').boundingBox())!;
  await page.mouse.click(box.x + pt!.x, box.y + pt!.y);
}

describe.skipIf(!HAVE_CHROMIUM)('the viewer in Chromium', () => {
  let ctx: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'halfmoon-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1500, height: 900 },
    });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows the violation first, and a clicked event\'s state diff, on a failing run', async () => {
    const { path } = simTrace(CRASH_FAILURE.scenario, CRASH_FAILURE.seed, CRASH_FAILURE.variant);
    const model = (await loadTrace(path)).model;
    const recs = records(path);
    const v = model.violations[0]!;
    const { page, errors } = await open(ctx, await writePage(path, 'crash.html'));

    // The banner names the violated invariant, and the violating step is selected.
    const banner = page.locator('#banner');
    await expect.poll(() => banner.textContent()).toContain('Violation: replica-timestamp-monotonic');
    expect(await banner.textContent()).toContain("r0's timestamp went back");
    expect(await banner.textContent()).toContain('halfmoon replay');
    expect(await page.locator('#panel h2').first().textContent()).toContain(`Step #${v.step}`);
    // It compares the restarted replica with what it held before the crash.
    const lostDiff = page.locator('#panel table.diff').first();
    expect(await lostDiff.locator('tr', { hasText: 'ts.n' }).textContent()).toMatch(/ts\.n\s*29\s*24/);
    await page.screenshot({ path: join(ARTIFACTS, 'violation.png') });

    // Click a step of the lead-up that changed a replica's register, and check its diff.
    const k = [...v.lead].reverse().find((s) => {
      if (s === v.step || model.nodes[model.steps.node[s]!]!.role !== 'replica' || model.steps.prev[s]! < 0) return false;
      return diffJson(recs[model.steps.prev[s]!]!.state, recs[model.steps.rec[s]!]!.state).changes.length > 0;
    })!;
    expect(k).toBeDefined();
    await clickStep(page, k);
    await expect.poll(() => page.locator('#panel h2').first().textContent()).toContain(`Step #${k}`);
    const want = diffJson(recs[model.steps.prev[k]!]!.state, recs[model.steps.rec[k]!]!.state).changes;
    const rows = page.locator('#panel table.diff tbody tr');
    expect(await rows.count()).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      const cells = rows.nth(i).locator('td');
      expect(await cells.nth(0).textContent()).toBe(want[i]!.path);
      expect(await cells.nth(1).textContent()).toBe(want[i]!.kind === 'added' ? '—' : brief(want[i]!.before, 160));
      expect(await cells.nth(2).textContent()).toBe(want[i]!.kind === 'removed' ? '—' : brief(want[i]!.after, 160));
    }
    expect(await page.locator('#panel').textContent()).toMatch(/register (\(\d+,\w+\)|\(0,-\)) = \S+ → \(\d+,\w+\)/);
    await page.screenshot({ path: join(ARTIFACTS, 'clicked-step.png') });

    // Step back and forth with the keyboard, and walk the lead-up.
    await page.locator('canvas.diagram').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { halfmoonViewer: ViewerHandle }).halfmoonViewer.state.selected)).toBe(k + 1);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { halfmoonViewer: ViewerHandle }).halfmoonViewer.state.selected)).toBe(k - 1);
    // The lead-up walk starts at the violating step (the last of its causal past).
    const selected = () => page.evaluate(() => (globalThis as unknown as { halfmoonViewer: ViewerHandle }).halfmoonViewer.state.selected);
    await page.keyboard.press('[');
    await expect.poll(selected).toBe(v.lead[v.lead.length - 2]);
    await page.keyboard.press(']');
    await expect.poll(selected).toBe(v.step);
    expect(await page.locator('.lead-pos').textContent()).toMatch(/\d+ \/ \d+/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('opens a history-level failure on the operations it names, filtering by request', async () => {
    const { path } = simTrace(PARTITION_FAILURE.scenario, PARTITION_FAILURE.seed, PARTITION_FAILURE.variant);
    const model = (await loadTrace(path)).model;
    const v = model.violations[0]!;
    const { page, errors } = await open(ctx, await writePage(path, 'partition.html'));
    expect(await page.locator('#banner').textContent()).toContain('Violation: linearizability');
    const chip = page.locator('#banner button.chip').first();
    expect(await chip.textContent()).toBe(v.reqs[0]);
    await chip.click();
    expect(await page.inputValue('#req-filter')).toBe(v.reqs[0]);
    expect(await page.locator('.status').textContent()).toContain(`filtered to request ${v.reqs[0]}`);
    const sel = await page.evaluate(() => (globalThis as unknown as { halfmoonViewer: ViewerHandle }).halfmoonViewer.state.selected);
    expect(model.strings[model.steps.req[sel]!]).toBe(v.reqs[0]);
    await page.screenshot({ path: join(ARTIFACTS, 'linearizability.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('opens an explorer counterexample and a real-runtime recording in the same page', async () => {
    const { path } = simTrace(CRASH_FAILURE.scenario, CRASH_FAILURE.seed, CRASH_FAILURE.variant);
    const ex = await open(ctx, await writePage(writeRecords('ex.jsonl', asExplorerTrace(records(path))), 'explore.html'));
    expect(await ex.page.locator('header').textContent()).toContain('source explore');
    expect(await ex.page.locator('#banner').textContent()).toContain('replica-timestamp-monotonic');
    expect(await ex.page.locator('#panel').textContent()).toContain('this trace records no state for this step');
    expect(ex.errors).toEqual([]);
    await ex.page.close();
    const real = await open(ctx, await writePage(writeRecords('real.jsonl', asRealTrace(records(path))), 'real.html'));
    expect(await real.page.locator('header').textContent()).toContain('source real');
    await real.page.keyboard.press('t'); // the time axis, in wall-clock microseconds from the first record
    expect(await real.page.locator('.lanes-head').textContent()).toContain('time');
    expect(real.errors).toEqual([]);
    await real.page.close();
  }, 60_000);

  it('is served by halfmoon view on the loopback address', async () => {
    const { path } = simTrace('register-chaos', 3);
    const server = await startViewerServer(await loadTrace(path), 0);
    try {
      const { page, errors } = await open(ctx, server.url);
      expect(await page.locator('#banner').textContent()).toContain('no violation');
      await page.locator('canvas.diagram').focus();
      await page.keyboard.press('ArrowRight');
      expect(await page.locator('#panel h2').first().textContent()).toContain('Step #0');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  }, 60_000);

  it('opens the wf-crash-storm unsafe seed 1 trace (gzip, served) at its violation', async () => {
    const path = join(tmp, 'wf-crash-storm-unsafe-1.jsonl.gz');
    const run = runOnce({ scenario: 'wf-crash-storm', seed: 1, sets: [['protocol', 'unsafe']], tracePath: path });
    expect(run.violations.length).toBeGreaterThan(0);
    const rss0 = process.memoryUsage().rss;
    const loaded = await loadTrace(path);
    const server = await startViewerServer(loaded, 0);
    try {
      const t0 = performance.now(); // nondeterminism-ok: a figure printed for the closing note, not asserted
      const { page, errors } = await open(ctx, server.url);
      const v = loaded.model.violations[0]!;
      // The panel opens on the violation's step, or (a history-level violation) on a step of its lead-up.
      await expect.poll(() => page.locator('#panel h2').first().textContent()).toMatch(/^Step #\d+ /);
      const shown = Number(/^Step #(\d+)/.exec((await page.locator('#panel h2').first().textContent())!)![1]);
      expect(v.step >= 0 ? shown === v.step : v.lead.includes(shown)).toBe(true);
      const paintMs = Math.round(performance.now() - t0); // nondeterminism-ok: printed only
      expect(await page.locator('#banner').textContent()).toContain(run.violations[0]!.invariant);
      console.log(`wf-crash-storm unsafe seed 1: ${loaded.model.steps.rec.length} steps, first paint of the violation ${paintMs} ms, server holds ${Math.round(loaded.memoryBytes / 1e6)} MB, rss growth ${Math.round((process.memoryUsage().rss - rss0) / 1e6)} MB`);
      await page.screenshot({ path: join(ARTIFACTS, 'wf-crash-storm-violation.png') });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  }, 180_000);

  it('keeps a 100,000-event run usable: bounded frames, density when zoomed out', async () => {
    const path = join(tmp, 'big.jsonl');
    writeFileSync(path, syntheticTraceLines({ steps: 100_000 }).join('\n') + '\n');
    const { page, errors } = await open(ctx, await writePage(path, 'big.html'));
    const stats = () => page.evaluate(() => ({ ...(globalThis as unknown as { halfmoonViewer: ViewerHandle }).halfmoonViewer.diagram.stats }));
    const first = await stats();
    expect(first.dense).toBe(false);
    expect(first.steps).toBeLessThan(200);
    await page.locator('canvas.diagram').focus();
    await page.keyboard.press('0'); // the whole run
    await expect.poll(async () => (await stats()).dense).toBe(true);
    const all = await stats();
    expect(all.steps).toBe(100_000);
    expect(all.arrows).toBe(0); // not drawn one by one
    expect(all.arrowsInView).toBeGreaterThan(50_000);
    await page.screenshot({ path: join(ARTIFACTS, 'large-fit.png') });
    // Zoom into the middle and scroll with the wheel: frames draw what is visible only.
    const box = (await page.locator('canvas.diagram').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 12; i++) await page.keyboard.press('+');
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 600);
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft'); // selects the last step
    await expect.poll(() => page.locator('#panel h2').first().textContent()).toContain('Step #99999');
    const end = await stats();
    expect(end.dense).toBe(false);
    expect(end.arrows).toBeLessThanOrEqual(2500);
    expect(await page.locator('#panel table.diff tbody tr').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});

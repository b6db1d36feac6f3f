// The trace viewer in a real headless Chromium (Debian's): the site's trace pages, built as a teacher builds them
// (`npm run lessons:build -- --traces DIR`), and the file `tsrun trace show --html` writes, opened offline.
// The waterfall draws a bar per span where it belongs, a click shows a span's attributes, no page is wider
// than the window on a laptop or a phone, and no page logs an error.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../src/teach/regions.js';
import { readTraceFile, traceExtent, type SavedTrace } from '../../src/trace/saved.js';
import { tsrun } from '../helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const EXAMPLES = path.join(REPO_ROOT, 'traces', 'examples');

describe.skipIf(!fs.existsSync(CHROMIUM))('the trace viewer in Chromium', () => {
  let dir: string;
  let site: string;
  let browser: Browser;
  const errors: string[] = [];
  /** Each trace page of the site, with the trace it draws. */
  const traces: Array<{ page: string; trace: SavedTrace }> = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-trace-viewer-'));
    site = path.join(dir, 'site');
    const classroom = path.join(dir, 'classroom');
    fs.mkdirSync(classroom);
    fs.copyFileSync(path.join(EXAMPLES, 'command-not-found.jaeger.json'), path.join(classroom, 'lab.jaeger.json'));
    const built = spawnSync('npm', ['run', 'lessons:build', '--', '--traces', classroom, site], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    traces.push(
      { page: 'trace-demo-run.html', trace: readTraceFile(path.join(EXAMPLES, 'demo-run.otlp.jsonl'))[0]! },
      { page: 'trace-command-not-found.html', trace: readTraceFile(path.join(EXAMPLES, 'command-not-found.otlp.jsonl'))[0]! },
      { page: 'trace-lab.html', trace: readTraceFile(path.join(classroom, 'lab.jaeger.json'))[0]! },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in CI needs --no-sandbox; the rest keeps Chromium off the (closed) network.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  beforeEach(() => { errors.length = 0; }); // each test answers for its own pages' errors
  afterAll(async () => {
    await browser?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A page of the given width that reports its console errors into `errors`. */
  const open = async (url: string, width = 1280, context: Browser | BrowserContext = browser): Promise<Page> => {
    const page = await context.newPage({ viewport: { width, height: 900 } });
    page.on('console', (message) => { if (message.type() === 'error') errors.push(`${url}: ${message.text()}`); });
    page.on('pageerror', (error) => errors.push(`${url}: ${error.message}`));
    await page.goto(url);
    return page;
  };
  const inSite = (name: string) => `file://${path.join(site, name)}`;
  /** The text of the details shown now; the hint when no span is selected. */
  const shownDetails = async (page: Page) => (await page.locator('.details > [data-span]:visible').allTextContents()).map((text) => text.trim());

  it('draws each trace: one bar per span, where it ran, under its parent, the failed ones marked', async () => {
    for (const { page: name, trace } of traces) {
      const page = await open(inSite(name));
      expect(await page.locator('svg.waterfall rect.bar').count(), name).toBe(trace.spans.length);
      // Where each row's bar and name are drawn, as fractions of the drawing's width.
      const drawn = new Map(await page.locator('g.span').evaluateAll((rows) => rows.map((row) => {
        const svg = row.closest('svg')!.getBoundingClientRect();
        const bar = row.querySelector('rect.bar')!.getBoundingClientRect();
        const name = row.querySelector('text.name')!.getBoundingClientRect();
        return [(row as SVGGElement).dataset.span!, { x: (bar.x - svg.x) / svg.width, end: (bar.right - svg.x) / svg.width, name: name.x - svg.x }] as const;
      })));
      const { start, end } = traceExtent(trace);
      for (const span of trace.spans) {
        const { x, end: barEnd, name: nameX } = drawn.get(span.spanId)!;
        expect(x, `${name}: ${span.name}'s bar starts when the span started`).toBeCloseTo((span.start - start) / (end - start), 2);
        expect(barEnd, `${name}: ${span.name}'s bar`).toBeGreaterThan(x);
        expect(barEnd).toBeLessThanOrEqual(1);
        if (span.parentSpanId) expect(nameX, `${name}: ${span.name} is drawn under its parent`).toBeGreaterThan(drawn.get(span.parentSpanId)!.name);
      }
      const failed = await page.locator('g.span.failed text.name').allTextContents();
      expect(failed.sort(), name).toEqual(trace.spans.filter((s) => s.error !== undefined).map((s) => `${s.name} failed`).sort());
      const ticks = await page.locator('g.tick text').allTextContents();
      expect(ticks[0]).toBe('0');
      expect(ticks.slice(1).every((label) => / ms$/.test(label)), ticks.join(', ')).toBe(true);
      await page.close();
    }
    expect(errors).toEqual([]);
  });

  it('shows a span\'s attributes when its bar is clicked, or when Enter is pressed on it', async () => {
    const { trace } = traces[0]!;
    const page = await open(inSite('trace-demo-run.html'));
    expect(await shownDetails(page)).toEqual([expect.stringMatching(/^Click a bar/)]);
    const network = trace.spans.find((s) => s.name === 'tsrun.network')!;
    await page.locator('[id="tsrun.network"] rect.bar').click();
    const [details] = await shownDetails(page);
    expect(await shownDetails(page)).toHaveLength(1);
    expect(Object.keys(network.attributes).length).toBeGreaterThan(3);
    for (const [key, value] of Object.entries(network.attributes)) {
      expect(details).toContain(key);
      for (const item of [value].flat()) expect(details).toContain(String(item));
    }
    await page.locator('[id="tsrun.pull"] rect.bar').click();
    expect(await shownDetails(page)).toEqual([expect.stringMatching(/^tsrun\.pull\s/)]);
    expect(await page.locator('g.span.selected').getAttribute('id')).toBe('tsrun.pull');
    await page.locator('[id="tsrun.exec"]').focus();
    await page.keyboard.press('Enter');
    expect(await shownDetails(page)).toEqual([expect.stringMatching(/^tsrun\.exec\s[\s\S]*process\.pid/)]);
    await page.close();
    expect(errors).toEqual([]);
  });

  it('opens the span a lesson names on its bar in the demo run', async () => {
    const page = await open(inSite('network.html'));
    await page.locator('a.span', { hasText: /^tsrun\.network$/ }).first().click();
    await page.waitForURL(/trace-demo-run\.html#tsrun\.network$/);
    expect(await shownDetails(page)).toEqual([expect.stringMatching(/^tsrun\.network\s[\s\S]*network\.local\.address/)]);
    await page.close();
    expect(errors).toEqual([]);
  });

  it('fits every page to the window, at 1280 px and at 390 px, whichever span is open: nothing scrolls sideways', async () => {
    const pages = fs.readdirSync(site).filter((name) => name.endsWith('.html'));
    for (const width of [1280, 390]) {
      const page = await open(inSite('index.html'), width);
      for (const name of pages) {
        await page.goto(inSite(name));
        // As it opens, then with each span's details open in turn (clicked where it is: the details may cover it):
        // the page no wider than the window, nothing in it scrolling sideways, no attribute's name broken in two.
        const problems = await page.evaluate(() => {
          const lines = (element: Element) => {
            const range = document.createRange();
            range.selectNodeContents(element);
            return range.getClientRects().length;
          };
          const check = (when: string) => [
            ...(document.scrollingElement!.scrollWidth > window.innerWidth ? [`${when}: the page is wider than the window`] : []),
            ...[...document.querySelectorAll('body *')].filter((e) => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX !== 'visible')
              .map((e) => `${when}: a ${e.tagName} scrolls sideways`),
            ...[...document.querySelectorAll('.details th')].filter((th) => th.checkVisibility() && lines(th) > 1)
              .map((th) => `${when}: ${th.textContent} is broken across lines`),
          ];
          return [...check('as it opens'), ...[...document.querySelectorAll('g.span')].flatMap((row) => {
            row.dispatchEvent(new MouseEvent('click', { bubbles: true }));
            return check(`with ${row.querySelector('text.name')!.textContent} open`);
          })];
        });
        expect(problems, `${name} at ${width} px`).toEqual([]);
      }
      await page.close();
    }
    expect(errors).toEqual([]);
  });

  it('writes with `tsrun trace show --html` one file that opens offline and shows what the site shows', async () => {
    const shown = tsrun(dir, ['trace', 'show', '--html', path.join(EXAMPLES, 'demo-run.otlp.jsonl')]);
    expect(shown.status, shown.stderr).toBe(0);
    const file = path.join(dir, 'demo-run.html');
    fs.writeFileSync(file, shown.stdout);
    const figure = (html: string) => /<figure class="trace-view">[\s\S]*<\/figure>/.exec(html)![0];
    expect(figure(shown.stdout)).toBe(figure(fs.readFileSync(path.join(site, 'trace-demo-run.html'), 'utf8')));

    const offline = await browser.newContext({ offline: true });
    const requests: string[] = [];
    offline.on('request', (request) => requests.push(request.url()));
    const page = await open(`file://${file}`, 390, offline);
    expect(requests).toEqual([`file://${file}`]); // its style, script and drawing are all in it
    expect(await page.locator('svg.waterfall rect.bar').count()).toBe(traces[0]!.trace.spans.length);
    await page.locator('[id="tsrun.network"] rect.bar').click();
    expect(await shownDetails(page)).toEqual([expect.stringMatching(/^tsrun\.network\s[\s\S]*network\.local\.address10\.88\.0\.2/)]);
    const [scrollWidth, innerWidth] = await page.evaluate(() => [document.scrollingElement!.scrollWidth, window.innerWidth]);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    await offline.close();
    expect(errors).toEqual([]);
  });

  it('takes a picture of a failed run with its failed span open, for a person to look at', async () => {
    const page = await open(inSite('trace-command-not-found.html'));
    await page.locator('[id="tsrun.exec"] rect.bar').click();
    const screenshot = path.join(os.tmpdir(), 'tsrun-trace-viewer.png');
    await page.screenshot({ path: screenshot });
    expect(fs.statSync(screenshot).size).toBeGreaterThan(10_000);
    await page.close();
    expect(errors).toEqual([]);
  });
});

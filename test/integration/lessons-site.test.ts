// The lessons as web pages, opened in a real headless Chromium (Debian's):
// every page renders without console errors, every internal link resolves,
// and one page is kept as a screenshot for a person to look at.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { EXAMPLE_TRACES, buildSite } from '../../src/teach/site.js';
import { LESSONS_DIR } from '../../src/teach/terminal-lesson.js';
import { traceFilesIn } from '../../src/trace/saved.js';

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(!fs.existsSync(CHROMIUM))('the lessons site in Chromium', () => {
  let site: string;
  let pages: string[];
  let browser: Browser;

  beforeAll(async () => {
    site = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-site-'));
    pages = (await buildSite(LESSONS_DIR, site)).pages;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in CI needs --no-sandbox; the rest keeps Chromium off the (closed) network.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    fs.rmSync(site, { recursive: true, force: true });
  });

  it('renders every page without console errors, and every internal link resolves', async () => {
    expect(pages).toContain('index.html');
    expect(pages.length).toBe(fs.readdirSync(LESSONS_DIR).filter((f) => f.endsWith('.mdx')).length + 2 + traceFilesIn(EXAMPLE_TRACES).length);
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error) => errors.push(error.message));
    for (const name of pages) {
      await page.goto(`file://${path.join(site, name)}`);
      expect(await page.locator('h1').count(), name).toBeGreaterThan(0);
      const links = await page.locator('a[href]').evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href')!));
      for (const link of links.filter((href) => !/^[a-z]+:/.test(href))) {
        const [file, anchor] = link.split('#');
        expect(fs.existsSync(path.join(site, file!)), `${name} links to ${link}`).toBe(true);
        if (anchor) expect(fs.readFileSync(path.join(site, file!), 'utf8'), `${name} links to ${link}`).toContain(`id="${anchor}"`);
      }
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('fits every code block to the page, on a laptop and on a phone: none scrolls sideways', async () => {
    for (const width of [1280, 390]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      for (const name of pages) {
        await page.goto(`file://${path.join(site, name)}`);
        const scrolling = await page.locator('pre, pre > code').evaluateAll((blocks) => blocks
          .filter((block) => block.scrollWidth > block.clientWidth)
          .map((block) => block.textContent!.split('\n').reduce((a, b) => (a.length >= b.length ? a : b))));
        expect(scrolling, `${name} at ${width} px: its longest lines`).toEqual([]);
      }
      await page.close();
    }
  });

  it('shows real, highlighted code from src/ in a lesson, and takes its picture', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    await page.goto(`file://${path.join(site, 'rwlayer.html')}`);
    const caption = await page.locator('figure.region figcaption').first().textContent();
    expect(caption).toMatch(/^src\/stages\/rwlayer\.ts:\d+–\d+/);
    expect(await page.locator('figure.region .hljs-keyword').count()).toBeGreaterThan(0);
    const screenshot = path.join(site, 'rwlayer.png');
    await page.screenshot({ path: screenshot, fullPage: false });
    expect(fs.statSync(screenshot).size).toBeGreaterThan(10_000);
    fs.copyFileSync(screenshot, path.join(os.tmpdir(), 'tsrun-lesson-rwlayer.png')); // for a person to look at after a run
    await page.close();
  });
});

// The HTML report in a real browser: Debian's chromium, headless, driven by playwright-core.
// In the e2e command, not `npm test`: it needs the chromium package (.ci/run installs it).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { runCli } from '../helpers/cli.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Summary {
  objects: number;
  deny: number;
  warn: number;
  audit: number;
  exempt: number;
}

t.test('the HTML report of examples/bad in headless chromium', async (t) => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  const dir = t.testdir({});
  const html = await runCli(['audit', '--format', 'html', 'examples/bad'], { cwd: REPO });
  t.equal(html.code, 1, 'the exit status is the same as for the table');
  const json = await runCli(['audit', '--format', 'json', 'examples/bad'], { cwd: REPO });
  const summary = (JSON.parse(json.stdout) as { summary: Summary }).summary;
  const file = join(dir, 'report.html');
  writeFileSync(file, html.stdout);

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  const page: Page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

  const count = async (what: string) => Number(await page.locator(`[data-count="${what}"] b`).textContent());
  t.same(
    {
      objects: await count('objects'),
      deny: await count('deny'),
      warn: await count('warn'),
      audit: await count('audit'),
      exempt: await count('exempt'),
    },
    summary,
    'the overview shows the same counts as the JSON report',
  );
  const objects = page.locator('article.object');
  t.equal(await objects.count(), summary.objects);
  const api = page.locator('article.object', { hasText: 'Deployment shop/api' });
  t.match(
    await api.textContent(),
    /run-as-non-root[\s\S]*may run as root[\s\S]*examples\/bad\/api\.yaml:\d+:\d+[\s\S]*runAsNonRoot: true/,
    'a known finding with its place and fix',
  );
  t.match(await page.locator('#objects h2').textContent(), new RegExp(`^Objects \\(${summary.objects} of ${summary.objects} shown\\)`));

  await page.selectOption('#f-policy', 'cronjob-concurrency');
  t.same(
    await page
      .locator('article.object:visible h3')
      .allTextContents()
      .then((all) => all.map((h) => h.split(' (')[0]?.split(' ').slice(0, 2).join(' '))),
    ['CronJob shop/nightly-report'],
    'the policy filter leaves the one CronJob',
  );
  t.equal(await page.locator('#shown').textContent(), '1');
  t.equal(await page.locator('article.object:visible li.finding:visible').count(), 1, 'and only its finding of that policy');
  await page.selectOption('#f-policy', '');
  await page.fill('#f-text', 'worker');
  t.equal(await page.locator('article.object:visible').count(), 1, 'the search box narrows to the worker');
  await page.fill('#f-text', '');
  t.equal(await page.locator('article.object:visible').count(), summary.objects, 'clearing the filters shows everything again');

  t.same(errors, [], 'no script error, no CSP violation');
  t.same(requests, [pathToFileURL(file).href], 'the page requested nothing but itself');
});

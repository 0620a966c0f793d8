// The viewer end to end, as its users meet it: `ode serve` serves the built viewer, a real
// Chromium opens it, edits an example, sees the preview change, sees an error pointed at,
// downloads the PDF the browser made, and stores and exports through the API.
// Screenshots are kept in e2e/artifacts/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, launch, replaceAll, startServe, updated } from './harness.mjs';

let serve;
let browser;
let page;

const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

async function pdfText(bytes, name) {
  const file = join(ARTIFACTS, name);
  writeFileSync(file, bytes);
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  execFileSync('qpdf', ['--check', file], { stdio: 'pipe' });
  return execFileSync('pdftotext', ['-layout', file, '-']).toString();
}

async function download(click) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  return readFileSync(await d.path());
}

before(async () => {
  serve = await startServe();
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await browser?.close();
  await serve?.stop();
});

test('ode serve serves the viewer, which previews the invoice', async () => {
  await page.goto(`${serve.url}/`);
  const u = await updated(page);
  assert.equal(u.pages, 1);
  await page.locator('[aria-label="Page 1"][data-drawn=true]').waitFor();
  assert.match(await page.getByTestId('status-render').innerText(), /^1 page · layout [\d.]+ ms · draw [\d.]+ ms · on screen [\d.]+ ms after the edit$/);
  assert.equal(await page.getByTestId('status-problems').innerText(), 'OK');
  await shot('01-invoice');
});

test('an edited word changes the preview and the downloaded PDF', async () => {
  const svgOf = () => page.evaluate(() => document.querySelector('[aria-label="Page 1"]').shadowRoot.innerHTML);
  const before = await svgOf();
  const pixelsBefore = await page.getByRole('img', { name: 'Page 1' }).screenshot();
  const last = (await page.evaluate(() => window.__odeLastUpdate)).layout;
  await replaceAll(page, 'Website relaunch', 'Website overhaul');
  await updated(page, last);
  assert.notEqual(await svgOf(), before);
  const pixelsAfter = await page.getByRole('img', { name: 'Page 1' }).screenshot();
  assert.notDeepEqual(pixelsAfter, pixelsBefore, 'the page looks different after the edit');
  await shot('02-edited');
  const pdf = await download(() => page.getByRole('button', { name: 'Download PDF' }).click());
  const text = await pdfText(pdf, 'edited-invoice.pdf');
  assert.match(text, /Website overhaul/);
  assert.doesNotMatch(text, /Website relaunch/);
});

test('an error is pointed at in the editor and listed with its path', async () => {
  const last = (await page.evaluate(() => window.__odeLastUpdate)).layout;
  await replaceAll(page, '"orientation": "portrait"', '"orientation": "portrat"');
  const problem = page.locator('.problems li.error').first();
  await problem.waitFor();
  assert.match(await problem.innerText(), /^\/page\/orientation .*portrat/);
  assert.equal(await page.getByTestId('status-problems').innerText(), '1 error');
  // Marked in the text, where the wrong value is.
  const mark = page.locator('.editor-host:not([hidden]) .cm-lintRange-error').first();
  await mark.waitFor();
  assert.match(await mark.innerText(), /portrat/);
  // The last good pages stay on screen.
  assert.ok(await page.getByRole('img', { name: 'Page 1' }).isVisible());
  await shot('03-error');
  // Clicking the problem selects it in the editor.
  await problem.locator('button').click();
  await page.waitForFunction(() => /portrat/.test(getSelection()?.toString() ?? ''), null, { timeout: 10_000 });
  await replaceAll(page, '"orientation": "portrat"', '"orientation": "portrait"');
  await updated(page, last);
  assert.equal(await page.getByTestId('status-problems').innerText(), 'OK');
});

test('examples open, pages navigate and zoom', async () => {
  await page.getByLabel('Open an example').selectOption('report');
  await page.waitForFunction(() => (window.__odeLastUpdate?.pages ?? 0) > 10);
  const pages = (await page.evaluate(() => window.__odeLastUpdate)).pages;
  assert.equal(await page.locator('.page').count(), pages);
  assert.equal(await page.locator('.thumb').count(), pages);
  await page.getByLabel('Go to page 5').click();
  await page.waitForFunction(() => document.querySelector('input[aria-label="Page number"]')?.value === '5');
  await page.locator('[aria-label="Page 5"][data-drawn=true]').waitFor();
  const width = async () => (await page.locator('.page').first().boundingBox()).width;
  await page.getByRole('button', { name: '100%' }).click();
  const at100 = await width();
  assert.ok(Math.abs(at100 - 595.28 * (96 / 72)) < 1.5, `A4 at 100% is 794 px wide, got ${at100}`);
  await page.getByLabel('Zoom in').click();
  assert.equal(await page.getByLabel('Zoom level').innerText(), '110%');
  assert.ok((await width()) > at100);
  await page.keyboard.press('Control+0');
  await shot('04-report');
  // Dark mode: the interface changes, the pages stay paper-white.
  await page.getByLabel('Toggle dark mode').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await shot('05-dark');
  await page.getByLabel('Toggle dark mode').click();
});

test("a template's data error is pointed at in the data editor", async () => {
  await page.getByLabel('Open an example').selectOption('invoice-template');
  await page.waitForFunction(() => document.querySelectorAll('[role=tab]')[4]?.textContent === 'Data');
  await page.getByRole('tab', { name: 'Data' }).click();
  await page.locator('.editor-host:not([hidden]) .cm-content').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
  await page.keyboard.type(' oops');
  const problem = page.locator('.problems li.error').first();
  await problem.waitFor();
  assert.match(await problem.innerText(), /^line 1, column \d+ data: invalid JSON/);
  await page.locator('.editor-host:not([hidden]) .cm-lintRange-error').first().waitFor();
  await shot('06-data-error');
  for (let i = 0; i < 5; i++) await page.keyboard.press('Backspace');
  await page.waitForFunction(() => document.querySelector('[data-testid=status-problems]')?.textContent === 'OK');
});

test('connected to the API: save, list, open, export and download', async () => {
  const last = (await page.evaluate(() => window.__odeLastUpdate)).layout;
  await page.getByLabel('Open an example').selectOption('invoice');
  await updated(page, last);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByLabel('API key').fill('ode_wrong');
  await page.getByRole('button', { name: 'Connect', exact: true }).last().click();
  assert.match(await page.getByRole('alert').innerText(), /key/i);
  await page.getByLabel('API key').fill(serve.key);
  await page.getByRole('button', { name: 'Connect', exact: true }).last().click();
  await page.getByText('Nothing stored yet').waitFor();
  await page.getByLabel('Close', { exact: true }).click();

  await page.getByLabel('Document name').fill('E2E invoice');
  await page.keyboard.press('Control+s');
  await page.getByText('Saved “E2E invoice” (version 1)').waitFor();
  await page.keyboard.press('Control+s');
  await page.getByText('Saved “E2E invoice” (version 2)').waitFor();

  // Opened from the list, after editing something else.
  await page.getByLabel('Open an example').selectOption('notes');
  await page.keyboard.press('Control+o');
  await page.getByRole('button', { name: 'Open E2E invoice' }).click();
  await page.getByText('Opened “E2E invoice”').waitFor();
  assert.equal(await page.getByRole('tab', { name: 'Document' }).getAttribute('aria-selected'), 'true');
  await shot('07-opened');

  await page.getByRole('button', { name: 'Export' }).click();
  const done = page.locator('.exports li[data-status=succeeded]');
  await done.waitFor({ timeout: 60_000 });
  assert.match(await done.innerText(), /1 page/);
  await shot('08-exported');
  const pdf = await download(() => done.getByRole('button', { name: /Download export/ }).click());
  const text = await pdfText(pdf, 'exported-invoice.pdf');
  assert.match(text, /INV-2024-0042/);
});

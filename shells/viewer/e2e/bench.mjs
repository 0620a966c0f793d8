// Edit-to-preview benchmark in Chromium: the 19-page report example open in the viewer
// (served by `ode serve`), one character typed (or deleted) at a time in its subtitle on
// page 1, and for each keystroke the time from the key press to the new page decoded and
// painted (the viewer measures it from the keydown's timestamp). The peer, measured in
// the same run and the same worker: drawing every page to SVG in one call, which is what
// a preview without page-level drawing has to do for each edit, before any painting.
//
//   npm run bench [-- --runs 40] [-- --write ../../benches/results.md]
import { readFileSync, writeFileSync } from 'node:fs';
import { launch, startServe, updated } from './harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', 40));
const write = opt('--write', null);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const f = (v) => v.toFixed(1);
/** A table row: median, p90 (unless `p90` is false), min and max of `xs`, in ms. */
const row = (label, xs, p90 = true) =>
  `| ${label} | ${f(median(xs))} ms | ${p90 ? `${f(pct(xs, 90))} ms` : ''} | ${f(Math.min(...xs))} ms | ${f(Math.max(...xs))} ms |`;

const serve = await startServe();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${serve.url}/?bench`);
  await updated(page);
  await page.getByLabel('Open an example').selectOption('report');
  await page.waitForFunction(() => (window.__odeLastUpdate?.pages ?? 0) > 10 && window.__odeLastUpdate.shownMs !== undefined);
  // The cursor after "Annual report" in the subtitle (page 1).
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+f');
  await page.locator('.cm-search input[name=search]').pressSequentially('Annual report on');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await page.keyboard.press('ArrowRight');

  const shown = [];
  const answer = [];
  const sent = [];
  const toWorker = [];
  const toPage = [];
  const layout = [];
  const draw = [];
  const warmup = 5;
  for (let i = 0; i < runs + warmup; i++) {
    const last = (await page.evaluate(() => window.__odeLastUpdate)).layout;
    await page.keyboard.press(i % 2 === 0 ? 'x' : 'Backspace');
    const u = await updated(page, last);
    if (i >= warmup) {
      shown.push(u.shownMs);
      answer.push(u.answerMs);
      sent.push(u.sentMs);
      toWorker.push(u.toWorkerMs);
      toPage.push(u.toPageMs);
      layout.push(u.layoutMs);
      draw.push(u.drawMs);
    }
    await page.waitForTimeout(30);
  }
  const pages = (await page.evaluate(() => window.__odeLastUpdate)).pages;
  const peer = [];
  for (let i = 0; i < 9; i++) peer.push((await page.evaluate(() => window.__odeBench.svgAll())).ms);
  const version = await page.evaluate(() => navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? navigator.userAgent);

  const lines = [
    `Report example, ${pages} pages, ${runs} keystrokes in Chromium (${version}), ${new Date().toISOString().slice(0, 10)}:`,
    '',
    '| measure | median | p90 | min | max |',
    '|---|---|---|---|---|',
    row(`key press → new page on screen`, shown),
    row(`key press → layout asked of the worker`, sent),
    row(`key press → the worker's answer back on the page`, answer),
    row(`of which: request waiting for the worker`, toWorker),
    row(`of which: answer waiting for the page's thread`, toPage),
    row(`of which: layout of all ${pages} pages (worker)`, layout),
    row(`of which: drawing the pages in view (worker)`, draw),
    row('peer: every page to SVG in one call (same worker, 9 runs)', peer, false),
    '',
    `Key press to new page on screen takes ${(median(shown) / median(peer)).toFixed(2)}× the time the peer needs only to draw the pages, before any of them is shown. Target: under 50 ms (median ${median(shown) < 50 ? 'met' : 'missed'}).`,
  ];
  console.log(lines.join('\n'));
  if (write) {
    const doc = readFileSync(write, 'utf8');
    const section = `## Viewer: edit to preview\n\n${lines.join('\n')}\n\nMeasured by \`shells/viewer/e2e/bench.mjs\` (\`npm run bench -- --write ../../benches/results.md\`).\n`;
    const re = /## Viewer: edit to preview\n[\s\S]*?(?=\n## |$)/;
    writeFileSync(write, re.test(doc) ? doc.replace(re, section.trimEnd() + '\n') : `${doc.trimEnd()}\n\n${section}`);
    console.log(`wrote ${write}`);
  }
} finally {
  await browser.close();
  await serve.stop();
}

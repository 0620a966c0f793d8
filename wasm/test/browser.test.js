// The package in a real browser: Debian's headless Chromium loads a page that imports the
// browser entry points (`index.js`, `lite.js`) as ES modules from a local server, the
// `.wasm` and a font file fetched next to them, and prints what the engine produced.
//
// Needs chromium (CHROMIUM, else /usr/bin/chromium; scripts/test.sh installs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('../npm/', import.meta.url));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

const PAGE = `<!doctype html><html><body><pre id="out">pending</pre><script type="module">
import { init, Engine, isOdeError } from '/index.js';
import * as lite from '/lite.js';
const out = document.getElementById('out');
try {
  await init();
  const engine = new Engine();
  const doc = { ode: 1, content: [{ type: 'heading', level: 1, text: 'Hello browser' }, { type: 'paragraf' }] };
  const problems = engine.validate(doc);
  doc.content.pop();
  const svg = engine.renderSvg(doc);
  const pdf = engine.renderPdf(doc);
  let thrown = null;
  try { engine.renderPdf({ ode: 1, content: [{ type: 'x' }] }); } catch (e) { thrown = isOdeError(e) ? e.diagnostics : String(e); }
  await lite.init();
  const small = new lite.Engine();
  const families = await lite.loadDefaultFonts(small, ['DejaVuSans.ttf']);
  const litePdf = small.renderPdf(doc);
  // The SVG page is drawn by the browser: its size is the page's.
  const host = document.createElement('div');
  host.innerHTML = svg[0];
  document.body.append(host);
  const box = host.querySelector('svg').getBoundingClientRect();
  out.textContent = 'RESULT' + JSON.stringify({
    problems, svgPages: svg.length, pdfHead: new TextDecoder().decode(pdf.slice(0, 5)),
    thrown, families, litePdfHead: new TextDecoder().decode(litePdf.slice(0, 5)),
    width: Math.round(box.width), height: Math.round(box.height),
  });
} catch (e) {
  out.textContent = 'FAILED ' + e + ' ' + e.stack;
}
</script></body></html>`;

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.ttf': 'font/ttf' };

function serve() {
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(PAGE);
    }
    const file = normalize(join(pkg, path));
    try {
      if (!file.startsWith(pkg)) throw new Error('outside');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('the browser entry points render in headless Chromium', async () => {
  const server = await serve();
  const profile = mkdtempSync(join(tmpdir(), 'ode-chromium-'));
  try {
    const url = `http://127.0.0.1:${server.address().port}/page.html`;
    const dom = await new Promise((resolve, reject) => {
      execFile(
        chromium,
        [
          '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          `--user-data-dir=${profile}`, '--virtual-time-budget=60000', '--dump-dom', url,
        ],
        { timeout: 120_000, maxBuffer: 64 << 20 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const text = /<pre id="out">([^<]*)<\/pre>/.exec(dom)?.[1] ?? dom.slice(0, 2000);
    assert.ok(text.startsWith('RESULT'), text);
    const r = JSON.parse(text.slice('RESULT'.length).replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&'));
    assert.deepEqual(r.problems.map((d) => d.path), ['/content/1/type']);
    assert.equal(r.svgPages, 1);
    assert.equal(r.pdfHead, '%PDF-');
    assert.deepEqual(r.thrown.map((d) => d.path), ['/content/0/type']);
    assert.deepEqual(r.families, ['DejaVu Sans']);
    assert.equal(r.litePdfHead, '%PDF-');
    // A4 is 595.28 x 841.89 pt; the SVG is sized in points, 1pt = 4/3 CSS px.
    assert.ok(Math.abs(r.width - 794) <= 1 && Math.abs(r.height - 1123) <= 1, `${r.width} x ${r.height}`);
  } finally {
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

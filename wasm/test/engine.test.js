// Tests of the built @ode/engine package in Node: every example against the native `ode`
// CLI, diagnostics with their JSON paths, fonts, templates and Markdown.
//
// Needs the `ode` binary (ODE_BIN, else $CARGO_TARGET_DIR/debug/ode, else ode on PATH)
// and poppler-utils and qpdf (scripts/test.sh installs them); missing tools fail the tests.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ode from '@ode/engine';
import * as lite from '@ode/engine/lite';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const examples = join(repo, 'examples');
const tmp = mkdtempSync(join(tmpdir(), 'ode-wasm-test-'));

function odeBin() {
  if (process.env.ODE_BIN) return process.env.ODE_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, 'target');
  const built = join(target, 'debug', 'ode');
  return existsSync(built) ? built : 'ode';
}

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Page count of a PDF file according to poppler. */
function pdfPages(file) {
  const m = /^Pages:\s+(\d+)$/m.exec(run('pdfinfo', [file]));
  assert.ok(m, `pdfinfo reports pages of ${file}`);
  return Number(m[1]);
}

/** Writes the bytes, checks them with qpdf and returns the file's path. */
function checkedPdf(name, bytes) {
  assert.equal(Buffer.from(bytes.subarray(0, 5)).toString('latin1'), '%PDF-');
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  run('qpdf', ['--check', file]);
  return file;
}

/** Renders with the native CLI; returns its PDF's path. */
function cliPdf(name, args) {
  const out = join(tmp, `cli-${name}.pdf`);
  run(odeBin(), ['render', ...args, '-o', out]);
  return out;
}

/** An engine with every file of examples/assets under the key the examples use. */
function engineWithAssets(mod = ode) {
  const engine = new mod.Engine();
  for (const f of readdirSync(join(examples, 'assets'))) {
    engine.addAsset(`assets/${f}`, readFileSync(join(examples, 'assets', f)));
  }
  return engine;
}

function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected an OdeError');
}

before(async () => {
  await ode.init();
  await lite.init();
});

const DOCUMENTS = readdirSync(examples).filter(
  (f) => f.endsWith('.json') && !f.includes('template') && !f.includes('data'),
);

test('the example documents are found', () => {
  for (const name of ['invoice.json', 'report.json', 'showcase.json']) {
    assert.ok(DOCUMENTS.includes(name), `${name} in ${DOCUMENTS}`);
  }
});

for (const name of DOCUMENTS) {
  test(`${name} renders to the same PDF and page count as the ode CLI`, () => {
    const json = readFileSync(join(examples, name), 'utf8');
    const engine = engineWithAssets();
    const result = engine.render(json, 'pdf');
    assert.equal(result.format, 'pdf');
    const file = checkedPdf(name.replace('.json', '.pdf'), result.output);
    const cli = cliPdf(name, [join(examples, name)]);
    const pages = pdfPages(cli);
    assert.equal(pdfPages(file), pages);
    assert.equal(result.pages, pages);
    assert.equal(engine.pageCount(json), pages);
    // Same engine, same fonts, same input: the same bytes as the native build.
    assert.ok(Buffer.from(result.output).equals(readFileSync(cli)), 'PDF identical to the CLI');
    const text = run('pdftotext', [file, '-']);
    assert.ok(text.length > 200, 'text extracts');

    const svgs = engine.renderSvg(json);
    assert.equal(svgs.length, pages);
    for (const svg of svgs) {
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.ok(svg.trimEnd().endsWith('</svg>'));
    }
  });
}

test('a missing image is an error at its path; the engine does not read files', () => {
  const json = readFileSync(join(examples, 'invoice.json'), 'utf8');
  const doc = JSON.parse(json);
  const e = thrown(() => new ode.Engine().renderPdf(json));
  assert.ok(ode.isOdeError(e));
  assert.equal(e.diagnostics.length, 1);
  const [d] = e.diagnostics;
  assert.equal(d.severity, 'error');
  // The path points at the image's `src` in the document.
  const at = d.path.split('/').slice(1, -1).reduce((v, k) => v[k], doc);
  assert.equal(at.src, 'assets/logo.svg', d.path);
  assert.match(d.message, /assets\/logo\.svg/);
});

test('templates with data render like the ode CLI', () => {
  const engine = engineWithAssets();
  const cases = [
    ['invoice-template.json', readFileSync(join(examples, 'invoice-data.json'), 'utf8')],
    ['letter-template.json', readFileSync(join(examples, 'letters.jsonl'), 'utf8').split('\n')[0]],
  ];
  for (const [template, data] of cases) {
    const text = readFileSync(join(examples, template), 'utf8');
    const result = engine.renderTemplate(text, data, 'pdf');
    const file = checkedPdf(template.replace('.json', '.pdf'), result.output);
    const dataFile = join(tmp, `${template}.data.json`);
    writeFileSync(dataFile, data);
    const cli = cliPdf(template, [join(examples, template), '--data', dataFile]);
    assert.equal(result.pages, pdfPages(cli));
    assert.equal(pdfPages(file), result.pages);
    assert.ok(Buffer.from(result.output).equals(readFileSync(cli)), `${template}: same PDF as the CLI`);
  }
  // Values as well as JSON text; SVG output.
  const letter = engine.renderTemplate(
    { ode: 1, content: [{ type: 'paragraph', text: 'Dear {{ name }}' }] },
    { name: 'Ada Lovelace' },
    'svg',
  );
  assert.equal(letter.format, 'svg');
  assert.equal(letter.pages, 1);
  assert.equal(letter.output.length, 1);
  const pdf = engine.renderTemplate(
    { ode: 1, content: [{ type: 'paragraph', text: 'Dear {{ name }}' }] },
    { name: 'Ada Lovelace' },
    'pdf',
  );
  assert.match(run('pdftotext', [checkedPdf('dear.pdf', pdf.output), '-']), /Dear Ada Lovelace/);
});

test('template mistakes are reported at template paths and data syntax errors at their line', () => {
  const engine = new ode.Engine();
  const template = { ode: 1, content: [{ type: 'paragraph', text: 'ok' }, { type: 'paragraph', text: '{{ name | nosuchfilter }}' }] };
  let e = thrown(() => engine.renderTemplate(template, {}, 'pdf'));
  assert.ok(ode.isOdeError(e));
  assert.deepEqual(e.diagnostics.map((d) => d.path), ['/content/1/text']);
  e = thrown(() => engine.renderTemplate({ ode: 1, content: [] }, '{\n  "name": }', 'pdf'));
  assert.equal(e.diagnostics[0].line, 2);
  assert.match(e.diagnostics[0].message, /^data: invalid JSON/);
  e = thrown(() => engine.renderTemplate({ ode: 1, content: [] }, {}, 'png'));
  assert.match(e.diagnostics[0].message, /unknown format `png`/);
  assert.deepEqual(e.diagnostics[0].hints, ['expected `pdf` or `svg`']);
});

test('Markdown renders like the ode CLI', () => {
  const md = readFileSync(join(examples, 'notes.md'), 'utf8');
  const engine = engineWithAssets();
  const result = engine.renderMarkdown(md, 'pdf');
  const file = checkedPdf('notes.pdf', result.output);
  const cli = cliPdf('notes', [join(examples, 'notes.md')]);
  assert.equal(result.pages, pdfPages(cli));
  assert.ok(Buffer.from(result.output).equals(readFileSync(cli)), 'same PDF as the CLI');
  assert.match(run('pdfinfo', [file]), /Title:\s+Field notes from the river survey/);
  const svg = engine.renderMarkdown('# Title\n\nSome *emphasis*.', 'svg');
  assert.equal(svg.pages, 1);
  const doc = JSON.parse(engine.markdownToDocument('# Title\n\nText.'));
  assert.equal(doc.content[0].type, 'heading');
  // Front matter errors name their line.
  const e = thrown(() => engine.renderMarkdown('---\ntitle: [unclosed\n---\n# x', 'pdf'));
  assert.ok(ode.isOdeError(e));
  assert.ok(e.diagnostics[0].line >= 1, JSON.stringify(e.diagnostics));
});

const BAD = JSON.stringify(
  {
    ode: 1,
    page: { size: 'A9000' },
    content: [
      { type: 'paragraph', text: 'fine' },
      { type: 'paragraf', text: 'typo' },
      { type: 'table', columns: ['1fr'], rows: [['a'], { cells: ['b'], colour: 'red' }] },
    ],
  },
  null,
  2,
);

test('validation reports every error with its exact JSON path and hints', () => {
  const diags = ode.validate(BAD);
  assert.deepEqual(
    diags.map((d) => [d.severity, d.path]),
    [
      ['error', '/page/size'],
      ['error', '/content/1/type'],
      ['error', '/content/2/rows/1'],
    ],
    JSON.stringify(diags, null, 1),
  );
  assert.equal(diags[1].message, 'unknown block type "paragraf"');
  assert.deepEqual(diags[1].hints, ['did you mean "paragraph"?']);
  assert.match(diags[0].message, /unknown paper size "A9000"/);
  assert.equal(diags[2].message, 'unknown field "colour"');
  for (const d of diags) {
    assert.equal(d.line, undefined);
    assert.ok(Array.isArray(d.hints));
  }
  assert.deepEqual(ode.validate('{"ode": 1, "content": []}'), []);
  // Documents may be given as values.
  assert.deepEqual(ode.validate(JSON.parse(BAD)), diags);
});

test('JSON syntax errors have a line and column', () => {
  const [d, ...rest] = ode.validate('{\n  "ode": 1,\n  "content": [\n    {"type": "paragraph",}\n  ]\n}');
  assert.deepEqual(rest, []);
  assert.equal(d.path, '');
  assert.equal(d.line, 4);
  assert.equal(typeof d.column, 'number');
  assert.match(d.message, /^invalid JSON/);
});

test('render errors are Errors carrying the diagnostics validate reports', () => {
  const engine = new ode.Engine();
  for (const f of [() => engine.renderPdf(BAD), () => engine.renderSvg(BAD), () => engine.pageCount(BAD), () => ode.renderPdf(BAD)]) {
    const e = thrown(f);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'OdeError');
    assert.ok(ode.isOdeError(e));
    assert.deepEqual(e.diagnostics, ode.validate(BAD));
    assert.match(e.message, /^\/page\/size: /);
    assert.match(e.message, /\n\/content\/1\/type: unknown block type "paragraf", did you mean "paragraph"\?/);
  }
  assert.equal(ode.isOdeError(new Error('other')), false);
});

test('warnings come with the output', () => {
  const result = new ode.Engine().render({ ode: 1, content: [{ type: 'paragraph', text: 'Ω 漢' }] }, 'svg');
  assert.equal(result.pages, 1);
  assert.ok(result.warnings.length >= 1);
  assert.equal(result.warnings[0].severity, 'warning');
  assert.equal(result.warnings[0].path, '/content/0/text');
  assert.match(result.warnings[0].message, /U\+6F22/i);
  // validate() reports warnings too.
  assert.deepEqual(ode.validate({ ode: 1, content: [{ type: 'paragraph', text: 'Ω 漢' }] }), result.warnings);
});

test('the schema is the one the ode CLI prints', () => {
  const s = ode.schema();
  assert.match(s.$schema, /2020-12/);
  assert.ok(s.properties.content);
  assert.deepEqual(s, JSON.parse(run(odeBin(), ['schema'])));
});

test('the full build has the DejaVu families; added fonts are used and embedded', () => {
  assert.equal(ode.Engine.hasBuiltinFonts(), true);
  const engine = new ode.Engine();
  assert.deepEqual(engine.families(), ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono']);
  const noto = '/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf';
  assert.deepEqual(engine.addFont(readFileSync(noto)), ['Noto Sans Arabic']);
  assert.deepEqual(engine.families().at(-1), 'Noto Sans Arabic');
  const doc = { ode: 1, styles: { default: { font: 'Noto Sans Arabic' } }, content: [{ type: 'paragraph', text: 'مرحبا بالعالم' }] };
  const result = engine.render(doc, 'pdf');
  assert.deepEqual(result.warnings, []);
  const fonts = run('pdffonts', [checkedPdf('arabic.pdf', result.output)]);
  assert.match(fonts, /[A-Z]{6}\+NotoSansArabic/);
  // Without the font the same text is drawn as missing glyphs, with warnings.
  assert.ok(new ode.Engine().render(doc, 'pdf').warnings.length > 0);
  const e = thrown(() => engine.addFont(new Uint8Array([1, 2, 3, 4])));
  assert.ok(ode.isOdeError(e));
  assert.match(e.diagnostics[0].message, /^font: /);
});

test('the lite build has no fonts until they are added', async () => {
  assert.equal(lite.Engine.hasBuiltinFonts(), false);
  const engine = new lite.Engine();
  assert.deepEqual(engine.families(), []);
  const doc = { ode: 1, content: [{ type: 'paragraph', text: 'Hello in serif' }] };
  const e = thrown(() => engine.renderPdf(doc));
  assert.ok(lite.isOdeError(e), String(e));
  assert.deepEqual(e.diagnostics, lite.validate(doc));
  assert.match(e.diagnostics[0].message, /^no fonts/);
  assert.match(e.diagnostics[0].hints[0], /addFont/);
  assert.deepEqual(await lite.loadDefaultFonts(engine, ['DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf']), ['DejaVu Serif']);
  const fonts = run('pdffonts', [checkedPdf('lite.pdf', engine.renderPdf(doc))]);
  assert.match(fonts, /[A-Z]{6}\+DejaVuSerif\b/);
  assert.doesNotMatch(fonts, /DejaVuSans/);
  // With every packaged font, the lite build renders the examples exactly as the full build.
  const all = new lite.Engine();
  assert.deepEqual(await lite.loadDefaultFonts(all), ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono']);
  for (const f of readdirSync(join(examples, 'assets'))) {
    all.addAsset(`assets/${f}`, readFileSync(join(examples, 'assets', f)));
  }
  const json = readFileSync(join(examples, 'invoice.json'), 'utf8');
  assert.ok(Buffer.from(all.renderPdf(json)).equals(Buffer.from(engineWithAssets().renderPdf(json))));
  all.free();
});

test('assets can be listed and removed', () => {
  const engine = engineWithAssets();
  assert.deepEqual(engine.assetKeys(), ['assets/chart.png', 'assets/logo.svg', 'assets/make_assets.py', 'assets/photo.jpg', 'assets/revenue.svg']);
  assert.equal(engine.removeAsset('assets/make_assets.py'), true);
  assert.equal(engine.removeAsset('assets/make_assets.py'), false);
  assert.equal(engine.assetKeys().length, 4);
});

test('module-level functions share one engine', () => {
  const doc = { ode: 1, content: [{ type: 'image', src: 'pixel.svg', width: '2cm' }] };
  assert.equal(ode.validate(doc)[0]?.severity, 'error');
  ode.addAsset('pixel.svg', readFileSync(join(examples, 'assets', 'logo.svg')));
  assert.deepEqual(ode.validate(doc), []);
  assert.equal(ode.pageCount(doc), 1);
  assert.equal(ode.renderSvg(doc).length, 1);
  assert.ok(ode.renderPdf(doc).length > 0);
  assert.equal(ode.renderMarkdown('# Hi', 'pdf').format, 'pdf');
  assert.equal(ode.renderTemplate({ ode: 1, content: [] }, {}, 'svg').pages, 1);
  assert.match(ode.version(), /^\d+\.\d+\.\d+$/);
});

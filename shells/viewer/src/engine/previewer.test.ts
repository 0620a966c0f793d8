// @vitest-environment node
// The page's side of the engine (Previewer) with the real engine, run in-process through
// the same handler the worker uses.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { init, Engine, isOdeError } from '@ode/engine';
import { createHandler } from './handler';
import { Previewer, EngineError, type LayoutResult, type LayoutFailure } from './previewer';
import type { Request, Response } from './protocol';

const examples = new URL('../../../../examples/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, examples), 'utf8');

/** A stand-in for `Worker` that answers on a later task, as a worker does. */
class InProcessWorker {
  onmessage: ((e: MessageEvent<Response>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  handled: Request[] = [];
  private handle: (r: Request) => void;
  constructor(engine: Engine) {
    this.handle = createHandler(
      engine,
      (msg) => setTimeout(() => this.onmessage?.({ data: msg } as MessageEvent<Response>), 0),
      isOdeError as never,
    );
    setTimeout(() => this.onmessage?.({ data: { type: 'ready', id: 0, version: 'test', ms: 0, schema: {} } } as MessageEvent<Response>), 0);
  }
  postMessage(req: Request) {
    this.handled.push(req);
    setTimeout(() => this.handle(structuredClone(req)), 0);
  }
  terminate() {}
}

function previewer() {
  const worker = new InProcessWorker(new Engine());
  const p = new Previewer(worker as unknown as Worker);
  const layouts: LayoutResult[] = [];
  const failures: LayoutFailure[] = [];
  p.onLayout = (r) => layouts.push(r);
  p.onFailure = (f) => failures.push(f);
  return { p, worker, layouts, failures };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};

describe('Previewer', () => {
  beforeAll(async () => {
    await init();
  });

  it('lays out, draws the pages asked for first, and more on demand', async () => {
    const { p, layouts } = previewer();
    await p.ready;
    await p.addAssets({
      'assets/logo.svg': readFileSync(new URL('assets/logo.svg', examples)),
      'assets/chart.png': readFileSync(new URL('assets/chart.png', examples)),
      'assets/photo.jpg': readFileSync(new URL('assets/photo.jpg', examples)),
    });
    p.update({ mode: 'document', text: read('report.json') }, [0, 1]);
    await until(() => layouts.length === 1);
    const r = layouts[0];
    expect(r.pages).toBeGreaterThan(10);
    expect(Object.keys(r.svgs).map(Number)).toEqual([0, 1]);
    expect(r.svgs[0]).toMatch(/^<svg /);
    expect(r.sizes[0].width).toBeCloseTo(595.28, 1);
    const more = await p.pages(r.layout, [r.pages - 1, r.pages + 5]);
    expect(Object.keys(more!)).toEqual([String(r.pages - 1)]);
    // The same page as a whole-document SVG render.
    const whole = new Engine();
    whole.addAsset('assets/chart.png', readFileSync(new URL('assets/chart.png', examples)));
    whole.addAsset('assets/logo.svg', readFileSync(new URL('assets/logo.svg', examples)));
    whole.addAsset('assets/photo.jpg', readFileSync(new URL('assets/photo.jpg', examples)));
    expect(more![r.pages - 1]).toBe(whole.renderSvg(read('report.json'))[r.pages - 1]);
  });

  it('keeps only the newest edit while a layout runs', async () => {
    const { p, worker, layouts } = previewer();
    await p.ready;
    const doc = (word: string) => JSON.stringify({ ode: 1, content: [{ type: 'paragraph', text: word }] });
    for (const w of ['one', 'two', 'three', 'four', 'five']) p.update({ mode: 'document', text: doc(w) }, [0]);
    await until(() => layouts.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    const laidOut = worker.handled.filter((r) => r.type === 'layout').map((r) => (r.type === 'layout' ? JSON.parse(r.source.text).content[0].text : ''));
    expect(laidOut).toEqual(['one', 'five']);
    expect(layouts).toHaveLength(2);
    // Pages of a replaced layout are refused as stale, not drawn from the wrong layout.
    expect(await p.pages(layouts[0].layout, [0])).toBeNull();
  });

  it('reports errors with their paths and keeps the last good layout', async () => {
    const { p, layouts, failures } = previewer();
    await p.ready;
    p.update({ mode: 'document', text: '{"ode": 1, "content": [{"type": "paragraph", "text": "ok"}]}' }, [0]);
    await until(() => layouts.length === 1);
    p.update({ mode: 'document', text: '{"ode": 1, "content": [{"type": "paragraf"}]}' }, [0]);
    await until(() => failures.length === 1);
    expect(failures[0].diagnostics[0]).toMatchObject({ path: '/content/0/type', severity: 'error' });
    expect(failures[0].diagnostics[0].hints).toContain('did you mean "paragraph"?');
    // The previous layout is still the engine's.
    expect(await p.pages(layouts[0].layout, [0])).not.toBeNull();
  });

  it('lays out templates with data and Markdown, and makes PDFs', async () => {
    const { p, layouts, failures } = previewer();
    await p.ready;
    p.update({ mode: 'template', text: read('letter-template.json'), data: read('letters.jsonl').split('\n')[0] }, [0]);
    // This engine has no images yet: the template's logo is missing, and said where.
    await until(() => failures.length === 1);
    expect(failures[0].diagnostics[0].message).toBe('image "assets/logo.svg" not found');
    expect(failures[0].diagnostics[0].path).toMatch(/^\/content\/\d+/);
    await p.addAssets({ 'assets/logo.svg': readFileSync(new URL('assets/logo.svg', examples)) });
    p.update({ mode: 'template', text: read('letter-template.json'), data: read('letters.jsonl').split('\n')[0] }, [0]);
    await until(() => layouts.length === 1);
    expect(layouts[0].svgs[0]).toMatch(/^<svg /);
    p.update({ mode: 'template', text: '{"ode": 1, "content": [{"type": "paragraph", "text": "Hi {{ name }}"}]}', data: '{\n "name": ]' }, [0]);
    await until(() => failures.length === 2);
    const dataError = failures[failures.length - 1].diagnostics[0];
    expect(dataError.message).toMatch(/^data: invalid JSON/);
    expect(dataError.line).toBe(2);
    p.update({ mode: 'markdown', text: read('notes.md').replace(/!\[[^\]]*\]\([^)]*\)/g, '') }, [0]);
    await until(() => layouts.length >= 1 && layouts[layouts.length - 1].svgs[0] !== undefined);
    const { bytes } = await p.pdf({ mode: 'markdown', text: '# Hello PDF\n\nFrom the worker.' });
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe('%PDF-');
    await expect(p.pdf({ mode: 'document', text: '{"ode": 2}' })).rejects.toBeInstanceOf(EngineError);
  });
});

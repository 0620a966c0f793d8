// What the engine worker does with each request, apart from the worker itself (so that
// tests run it in-process with the same engine).
import type { Engine } from '@ode/engine';
import type { Request, Response, Source } from './protocol';

type Post = (msg: Response, transfer?: Transferable[]) => void;

function layout(e: Engine, source: Source) {
  switch (source.mode) {
    case 'document':
      return e.layout(source.text);
    case 'template':
      return e.layoutTemplate(source.text, source.data ?? '{}');
    case 'markdown':
      return e.layoutMarkdown(source.text);
  }
}

/** A whole render of `source`, PDF or SVG pages. */
function render(e: Engine, source: Source, format: 'pdf' | 'svg') {
  switch (source.mode) {
    case 'document':
      return e.render(source.text, format);
    case 'template':
      return e.renderTemplate(source.text, source.data ?? '{}', format);
    case 'markdown':
      return e.renderMarkdown(source.text, format);
  }
}

/**
 * A request handler over one engine. `isOdeError` tells engine errors (with their
 * diagnostics) from others.
 */
export function createHandler(engine: Engine, post: Post, isOdeError: (e: unknown) => e is Error & { diagnostics: never[] }) {
  /** The layout the engine holds (the last successful one). */
  let current = -1;
  let pageCount = 0;

  const draw = (pages: number[]): Record<number, string> => {
    const svgs: Record<number, string> = {};
    for (const i of pages) if (i >= 0 && i < pageCount) svgs[i] = engine.pageSvg(i);
    return svgs;
  };

  const handle = (req: Request) => {
    switch (req.type) {
      case 'layout': {
        const takenAt = performance.timeOrigin + performance.now();
        const t0 = performance.now();
        const info = layout(engine, req.source);
        const t1 = performance.now();
        current = req.id;
        pageCount = info.pages;
        const svgs = draw(req.pages);
        post({
          type: 'layout',
          id: req.id,
          layout: req.id,
          pages: info.pages,
          sizes: info.sizes,
          warnings: info.warnings,
          svgs,
          timings: { layout: t1 - t0, draw: performance.now() - t1, takenAt, postedAt: performance.timeOrigin + performance.now() },
        });
        return;
      }
      case 'pages': {
        if (req.layout !== current) return post({ type: 'stale', id: req.id });
        const t0 = performance.now();
        const svgs = draw(req.pages);
        post({ type: 'pages', id: req.id, layout: req.layout, svgs, ms: performance.now() - t0 });
        return;
      }
      case 'pdf': {
        const t0 = performance.now();
        const r = render(engine, req.source, 'pdf');
        if (r.format !== 'pdf') throw new Error('expected a PDF');
        const bytes = r.output;
        post({ type: 'pdf', id: req.id, bytes, ms: performance.now() - t0 }, [bytes.buffer as ArrayBuffer]);
        return;
      }
      case 'svgAll': {
        const t0 = performance.now();
        const r = render(engine, req.source, 'svg');
        const ms = performance.now() - t0;
        if (r.format !== 'svg') throw new Error('expected SVG pages');
        post({ type: 'svgAll', id: req.id, pages: r.pages, bytes: r.output.reduce((n, s) => n + s.length, 0), ms });
        return;
      }
      case 'assets': {
        for (const [key, bytes] of Object.entries(req.assets)) engine.addAsset(key, bytes);
        post({ type: 'done', id: req.id });
        return;
      }
    }
  };

  return (req: Request) => {
    try {
      handle(req);
    } catch (err) {
      post({
        type: 'failed',
        id: req.id,
        message: err instanceof Error ? err.message : String(err),
        diagnostics: isOdeError(err) ? err.diagnostics : [],
      });
    }
  };
}

// The page's side of the engine worker: coalesces edits (while a layout runs, only the
// newest edit waits), and keeps the answers' order.
import type { Diagnostic } from '@ode/engine';
import type { Request, Response, Source } from './protocol';

/** The worker's answer to a layout (`layout` identifies it: pages are asked for by it), and when its edit was made. */
export type LayoutResult = Omit<Extract<Response, { type: 'layout' }>, 'type' | 'id'> & {
  /** `performance.now()` when the edit that led to this layout was made. */
  editedAt: number;
  /** `performance.now()` when the layout was asked of the worker. */
  sentAt: number;
};

export interface LayoutFailure {
  message: string;
  diagnostics: Diagnostic[];
  editedAt: number;
}

export interface EngineInfo {
  version: string;
  /** Time to download, compile and start the engine, in ms. */
  ms: number;
  schema: object;
}

export class EngineError extends Error {
  diagnostics: Diagnostic[];
  constructor(message: string, diagnostics: Diagnostic[]) {
    super(message);
    this.name = 'EngineError';
    this.diagnostics = diagnostics;
  }
}

type Pending = { resolve: (r: Response) => void };

export class Previewer {
  readonly ready: Promise<EngineInfo>;
  onLayout: (r: LayoutResult) => void = () => {};
  onFailure: (f: LayoutFailure) => void = () => {};

  private worker: Worker;
  private nextId = 1;
  private waiting = new Map<number, Pending>();
  private layoutInFlight: { id: number; editedAt: number; sentAt: number } | null = null;
  private queued: { source: Source; pages: number[]; editedAt: number } | null = null;

  constructor(worker: Worker) {
    this.worker = worker;
    let started: (info: EngineInfo) => void;
    let broke: (e: Error) => void;
    this.ready = new Promise<EngineInfo>((resolve, reject) => {
      started = resolve;
      broke = reject;
    });
    worker.onerror = (e) => broke(new Error(`the engine could not start: ${e.message}`));
    worker.onmessage = (event: MessageEvent<Response>) => {
      const msg = event.data;
      if (msg.type === 'ready') {
        started({ version: msg.version, ms: msg.ms, schema: msg.schema });
        return;
      }
      if (msg.id === 0 && msg.type === 'failed') {
        broke(new Error(msg.message));
        return;
      }
      if (this.layoutInFlight && msg.id === this.layoutInFlight.id) {
        const { editedAt, sentAt } = this.layoutInFlight;
        this.layoutInFlight = null;
        if (msg.type === 'layout') {
          this.onLayout({
            layout: msg.layout,
            pages: msg.pages,
            sizes: msg.sizes,
            warnings: msg.warnings,
            svgs: msg.svgs,
            timings: msg.timings,
            editedAt,
            sentAt,
          });
        } else if (msg.type === 'failed') {
          this.onFailure({ message: msg.message, diagnostics: msg.diagnostics, editedAt });
        }
        this.flush();
        return;
      }
      const p = this.waiting.get(msg.id);
      if (p) {
        this.waiting.delete(msg.id);
        p.resolve(msg);
      }
    };
  }

  /** Asks for a new layout of `source`, drawing `pages` first. Only the newest waiting edit is kept. */
  update(source: Source, pages: number[], editedAt = performance.now()) {
    this.queued = { source, pages, editedAt };
    if (!this.layoutInFlight) this.flush();
  }

  private flush() {
    const q = this.queued;
    if (!q) return;
    this.queued = null;
    const id = this.nextId++;
    this.layoutInFlight = { id, editedAt: q.editedAt, sentAt: performance.now() };
    this.send({ type: 'layout', id, source: q.source, pages: q.pages });
  }

  /** Pages of a layout; `null` when a newer layout replaced it. */
  async pages(layout: number, pages: number[]): Promise<Record<number, string> | null> {
    const r = await this.call((id) => ({ type: 'pages', id, layout, pages }));
    if (r.type === 'pages') return r.svgs;
    if (r.type === 'stale') return null;
    throw this.failure(r);
  }

  /** The PDF of `source`, made by the same engine. */
  async pdf(source: Source): Promise<{ bytes: Uint8Array; ms: number }> {
    const r = await this.call((id) => ({ type: 'pdf', id, source }));
    if (r.type === 'pdf') return { bytes: r.bytes, ms: r.ms };
    throw this.failure(r);
  }

  /** Times drawing every page of `source` to SVG in one call (the benchmark's peer). */
  async svgAll(source: Source): Promise<{ pages: number; bytes: number; ms: number }> {
    const r = await this.call((id) => ({ type: 'svgAll', id, source }));
    if (r.type === 'svgAll') return { pages: r.pages, bytes: r.bytes, ms: r.ms };
    throw this.failure(r);
  }

  /** Gives the engine images under the keys documents name in `src`. */
  async addAssets(assets: Record<string, Uint8Array>): Promise<void> {
    const r = await this.call((id) => ({ type: 'assets', id, assets }));
    if (r.type !== 'done') throw this.failure(r);
  }

  terminate() {
    this.worker.terminate();
  }

  private failure(r: Response): Error {
    if (r.type === 'failed') return new EngineError(r.message, r.diagnostics);
    return new Error(`unexpected answer from the engine: ${r.type}`);
  }

  private call(make: (id: number) => Request): Promise<Response> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve });
      this.send(make(id));
    });
  }

  private send(req: Request) {
    this.worker.postMessage(req);
  }
}

/** The worker, bundled by Vite. */
export function startEngine(): Previewer {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'ode-engine' });
  return new Previewer(worker);
}

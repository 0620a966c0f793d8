// Messages between the page and the engine worker (src/engine/worker.ts).
import type { Diagnostic } from '@ode/engine';

/** What the editor holds: a document, a template with its data, or Markdown. */
export type Mode = 'document' | 'template' | 'markdown';

export interface Source {
  mode: Mode;
  /** The document JSON, the template JSON or the Markdown text. */
  text: string;
  /** The template's data (JSON text); only in `template` mode. */
  data?: string;
}

export interface PageSize {
  width: number;
  height: number;
}

export type Request =
  /** Lay out `source` and draw the listed pages of the new layout at once. */
  | { type: 'layout'; id: number; source: Source; pages: number[] }
  /** Draw more pages of layout `layout` (answered `stale` when a newer one exists). */
  | { type: 'pages'; id: number; layout: number; pages: number[] }
  /** The PDF of `source`. */
  | { type: 'pdf'; id: number; source: Source }
  /** Every page of `source` as SVG in one call, timed (what a previewer without page-level drawing does; for the benchmark). */
  | { type: 'svgAll'; id: number; source: Source }
  /** Images by the key documents use in `src`. */
  | { type: 'assets'; id: number; assets: Record<string, Uint8Array> };

export interface Timings {
  /** Parsing, resolving and laying out the whole document. */
  layout: number;
  /** Drawing the pages sent with the answer. */
  draw: number;
  /** When the worker took the request and when it posted the answer, in ms since the epoch (`timeOrigin + now()`, comparable across threads). */
  takenAt: number;
  postedAt: number;
}

export type Response =
  | { type: 'ready'; id: 0; version: string; ms: number; schema: object }
  | {
      type: 'layout';
      id: number;
      layout: number;
      pages: number;
      sizes: PageSize[];
      warnings: Diagnostic[];
      svgs: Record<number, string>;
      timings: Timings;
    }
  | { type: 'pages'; id: number; layout: number; svgs: Record<number, string>; ms: number }
  | { type: 'pdf'; id: number; bytes: Uint8Array; ms: number }
  | { type: 'svgAll'; id: number; pages: number; bytes: number; ms: number }
  | { type: 'done'; id: number }
  | { type: 'stale'; id: number }
  | { type: 'failed'; id: number; message: string; diagnostics: Diagnostic[] };

// @ode/engine: the build with the DejaVu fonts compiled in.
export * from './dist/full/ode_wasm.js';
import type { Diagnostic, InitInput } from './dist/full/ode_wasm.js';

/**
 * Loads and instantiates the WebAssembly module once; await it before anything else.
 * Without an argument the module shipped with the package is used (read from disk in
 * Node, fetched next to this file in browsers).
 */
export function init(input?: InitInput | Promise<InitInput>): Promise<void>;

/** What the engine throws: an `Error` carrying every problem found. */
export interface OdeError extends Error {
  name: 'OdeError';
  /** Every problem, each with its JSON path (or line and column for syntax errors). */
  diagnostics: Diagnostic[];
}

/** Whether `e` is an error thrown by the engine. */
export function isOdeError(e: unknown): e is OdeError;

/** The DejaVu font files shipped with the package under `@ode/engine/fonts/`. */
export declare const FONT_FILES: readonly string[];

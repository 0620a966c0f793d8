// @ode/engine/lite: no fonts compiled in (a smaller download); fonts come in through
// `addFont` or `loadDefaultFonts`.
export * from './dist/lite/ode_wasm.js';
import type { Diagnostic, Engine, InitInput } from './dist/lite/ode_wasm.js';

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

/** The URL of a font file shipped with the package. */
export function fontUrl(file: string): URL;

/**
 * Adds the package's DejaVu files (all, or those named in `files`) to `engine`, or to
 * the engine behind the module-level functions when none is given. Resolves to the
 * family names added.
 */
export function loadDefaultFonts(
  engine?: Pick<Engine, 'addFont'>,
  files?: readonly string[],
): Promise<string[]>;

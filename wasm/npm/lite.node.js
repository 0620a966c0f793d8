// @ode/engine/lite for Node: no fonts compiled in; add them with `addFont`, or the DejaVu
// files shipped with the package with `loadDefaultFonts`.
import { readFile } from 'node:fs/promises';
import wbInit from './dist/lite/ode_wasm.js';
import * as wasm from './dist/lite/ode_wasm.js';
import { FONT_FILES, addFonts, makeInit } from './common.js';

export * from './dist/lite/ode_wasm.js';
export { FONT_FILES, isOdeError } from './common.js';

/** Loads and instantiates the WebAssembly module once; call (and await) before anything else. */
export const init = makeInit(wbInit, () => readFile(new URL('./dist/lite/ode_wasm_bg.wasm', import.meta.url)));

/** The URL of a font file shipped with the package. */
export function fontUrl(file) {
  return new URL(`./dist/fonts/${file}`, import.meta.url);
}

/** Reads the package's DejaVu files (all, or those named) into `engine` (default: the shared engine). */
export function loadDefaultFonts(engine = wasm, files = FONT_FILES) {
  return addFonts(engine, files, (file) => readFile(fontUrl(file)));
}

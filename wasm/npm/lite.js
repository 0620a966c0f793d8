// @ode/engine/lite for browsers and bundlers: no fonts compiled in; add them with
// `addFont`, or the DejaVu files shipped with the package with `loadDefaultFonts`.
import wbInit from './dist/lite/ode_wasm.js';
import * as wasm from './dist/lite/ode_wasm.js';
import { FONT_FILES, addFonts, makeInit } from './common.js';

export * from './dist/lite/ode_wasm.js';
export { FONT_FILES, isOdeError } from './common.js';

/** Loads and instantiates the WebAssembly module once; call (and await) before anything else. */
export const init = makeInit(wbInit, () => new URL('./dist/lite/ode_wasm_bg.wasm', import.meta.url));

/** The URL of a font file shipped with the package. */
export function fontUrl(file) {
  return new URL(`./dist/fonts/${file}`, import.meta.url);
}

/** Fetches the package's DejaVu files (all, or those named) into `engine` (default: the shared engine). */
export function loadDefaultFonts(engine = wasm, files = FONT_FILES) {
  return addFonts(engine, files, async (file) => {
    const response = await fetch(fontUrl(file));
    if (!response.ok) throw new Error(`${file}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  });
}

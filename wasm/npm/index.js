// @ode/engine for browsers and bundlers: the build with the DejaVu fonts compiled in.
import wbInit from './dist/full/ode_wasm.js';
import { makeInit } from './common.js';

export * from './dist/full/ode_wasm.js';
export { FONT_FILES, isOdeError } from './common.js';

/** Loads and instantiates the WebAssembly module once; call (and await) before anything else. */
export const init = makeInit(wbInit, () => new URL('./dist/full/ode_wasm_bg.wasm', import.meta.url));

// @ode/engine for Node: the build with the DejaVu fonts compiled in, read from disk.
import { readFile } from 'node:fs/promises';
import wbInit from './dist/full/ode_wasm.js';
import { makeInit } from './common.js';

export * from './dist/full/ode_wasm.js';
export { FONT_FILES, isOdeError } from './common.js';

/** Loads and instantiates the WebAssembly module once; call (and await) before anything else. */
export const init = makeInit(wbInit, () => readFile(new URL('./dist/full/ode_wasm_bg.wasm', import.meta.url)));

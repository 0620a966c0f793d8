// Writes a gzip copy beside every compressible file of dist/ (the .wasm above all), so
// that servers (`ode serve`, nginx's gzip_static) send them compressed without
// compressing on every request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|wasm|ttf|txt|map)$/;

let raw = 0;
let packed = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (COMPRESSIBLE.test(name)) {
      const bytes = readFileSync(path);
      if (bytes.length < 1024) continue;
      const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
      writeFileSync(`${path}.gz`, gz);
      raw += bytes.length;
      packed += gz.length;
    }
  }
}
walk(dist);
console.log(`precompressed: ${(raw / 1e6).toFixed(2)} MB -> ${(packed / 1e6).toFixed(2)} MB gzipped`);

// What the end-to-end tests and the benchmark share: `ode serve` with the built viewer
// on a free port and a fresh data folder, and Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const VIEWER = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(VIEWER, 'dist');
export const ARTIFACTS = join(VIEWER, 'e2e', 'artifacts');

/** The `ode` binary: ODE_BIN, else the debug build in CARGO_TARGET_DIR (or the workspace's target/). */
export function odeBin() {
  if (process.env.ODE_BIN) return process.env.ODE_BIN;
  const dirs = [process.env.CARGO_TARGET_DIR, join(homedir(), '.cache', 'ode-target'), join(VIEWER, '..', '..', 'target')];
  for (const d of dirs) if (d && existsSync(join(d, 'debug', 'ode'))) return join(d, 'debug', 'ode');
  throw new Error('no `ode` binary: build it with `cargo build -p ode-cli` or set ODE_BIN');
}

/** Starts `ode serve` serving dist/; resolves to its URL, API key and a stop function. */
export async function startServe() {
  // A viewer served elsewhere (e.g. `npx vite preview`), without an API: for quick runs.
  if (process.env.ODE_VIEWER_URL) return { url: process.env.ODE_VIEWER_URL.replace(/\/$/, ''), key: '', log: () => '', stop: async () => {} };
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no built viewer in ${DIST}: run \`npm run build\` first`);
  const data = mkdtempSync(join(tmpdir(), 'ode-viewer-e2e-'));
  const child = spawn(odeBin(), ['serve', '--data-dir', data, '--port', '0'], {
    env: { ...process.env, ODE__API__VIEWER_DIR: DIST, RUST_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ode serve did not start in 60 s:\n${err}`)), 60_000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /ODE is running at (http:\/\/\S+?)\/?\s/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`ode serve exited (${code}):\n${err}`)));
  });
  const key = readFileSync(join(data, 'api-key'), 'utf8').trim();
  return {
    url,
    key,
    log: () => err,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Resolves when the preview shows the answer to the newest edit (after layout number `after`). */
export async function updated(page, after = 0) {
  await page.waitForFunction(
    (n) => {
      const u = window.__odeLastUpdate;
      return u && u.layout > n && u.shownMs !== undefined;
    },
    after,
    { timeout: 60_000 },
  );
  return page.evaluate(() => window.__odeLastUpdate);
}

/** Replaces every `from` by `to` in the open editor through its search panel, as a user would. */
export async function replaceAll(page, from, to) {
  await page.locator('.editor-host:not([hidden]) .cm-content').click();
  await page.keyboard.press('Control+f');
  const panel = page.locator('.editor-host:not([hidden]) .cm-search');
  // Typed, not filled: the search panel reads its fields on key events.
  await panel.locator('input[name=search]').fill('');
  await panel.locator('input[name=search]').pressSequentially(from);
  await panel.locator('input[name=replace]').fill('');
  await panel.locator('input[name=replace]').pressSequentially(to);
  await panel.locator('button[name=replaceAll]').click();
  await panel.locator('button[name=close]').click();
}

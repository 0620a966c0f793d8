/// <reference lib="webworker" />
// The engine runs here, off the page's thread: typing never waits for a layout.
import { init, Engine, isOdeError, version, schema } from '@ode/engine';
import { createHandler } from './handler';
import type { Request, Response } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (msg: Response, transfer: Transferable[] = []) => scope.postMessage(msg, transfer);

const started = performance.now();
const handler = init().then(() => {
  const h = createHandler(new Engine(), post, isOdeError as never);
  post({ type: 'ready', id: 0, version: version(), ms: performance.now() - started, schema: schema() });
  return h;
});
handler.catch((e: unknown) => {
  post({ type: 'failed', id: 0, message: `loading the engine: ${e instanceof Error ? e.message : e}`, diagnostics: [] });
});

scope.onmessage = async (event: MessageEvent<Request>) => {
  (await handler)(event.data);
};

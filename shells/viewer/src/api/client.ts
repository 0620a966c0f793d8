// A typed client for the ODE API's routes the viewer uses (see docs/api.md and
// /v1/openapi.json): stored documents, exports and their files.
import type { Mode } from '../engine/protocol';

export interface ApiErrorItem {
  code: string;
  detail: string;
  path?: string;
  line?: number;
  column?: number;
  record?: number;
  hints?: string[];
}

export class ApiError extends Error {
  status: number;
  errors: ApiErrorItem[];
  constructor(status: number, errors: ApiErrorItem[], fallback: string) {
    super(errors.length ? errors.map((e) => (e.path ? `${e.path}: ${e.detail}` : e.detail)).join('; ') : fallback);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }
}

export interface DocumentInfo {
  id: string;
  kind: Mode;
  name: string;
  version: number;
  size_bytes: number;
  created_at: number;
  updated_at: number;
  source?: unknown;
  warnings: ApiErrorItem[];
}

export type ExportStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface ExportInfo {
  id: string;
  status: ExportStatus;
  format: 'pdf' | 'svg' | 'png';
  document_id?: string;
  records: number;
  merge: boolean;
  attempts: number;
  files: number;
  size_bytes: number;
  pages: number;
  error?: unknown;
  created_at: number;
  updated_at: number;
  history: { status: ExportStatus; at: number; detail?: string }[];
}

export interface List<T> {
  items: T[];
  next?: string | null;
}

export interface Connection {
  /** The API's base URL (`''`: the page's own origin). */
  url: string;
  key: string;
}

export class OdeApi {
  readonly base: string;
  private key: string;
  private fetchImpl: typeof fetch;

  constructor(conn: Connection, fetchImpl: typeof fetch = fetch.bind(globalThis)) {
    this.base = conn.url.replace(/\/+$/, '');
    this.key = conn.key;
    this.fetchImpl = fetchImpl;
  }

  private async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, raw?: Uint8Array): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: raw !== undefined ? (raw as BodyInit) : body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new ApiError(0, [], `cannot reach the API at ${this.base || location.origin}: ${e instanceof Error ? e.message : e}`);
    }
    if (!response.ok) {
      let errors: ApiErrorItem[] = [];
      try {
        errors = ((await response.json()) as { errors?: ApiErrorItem[] }).errors ?? [];
      } catch {
        // Not JSON: the status says enough.
      }
      throw new ApiError(response.status, errors, `${method} ${path}: HTTP ${response.status}`);
    }
    return response;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }

  /** Checks the key with a cheap authenticated call. */
  async check(): Promise<void> {
    await this.json<List<DocumentInfo>>('GET', '/v1/documents?limit=1');
  }

  listDocuments(kind?: Mode, after?: string): Promise<List<DocumentInfo>> {
    const q = new URLSearchParams({ limit: '50' });
    if (kind) q.set('kind', kind);
    if (after) q.set('after', after);
    return this.json('GET', `/v1/documents?${q}`);
  }

  getDocument(id: string): Promise<DocumentInfo> {
    return this.json('GET', `/v1/documents/${encodeURIComponent(id)}`);
  }

  createDocument(kind: Mode, name: string, source: unknown): Promise<DocumentInfo> {
    return this.json('POST', '/v1/documents', { kind, name, source });
  }

  replaceDocument(id: string, kind: Mode, name: string, source: unknown): Promise<DocumentInfo> {
    return this.json('PUT', `/v1/documents/${encodeURIComponent(id)}`, { kind, name, source });
  }

  /** Stores an image of a document under the name its `src` uses. */
  async putAsset(id: string, name: string, bytes: Uint8Array): Promise<void> {
    await this.request('PUT', `/v1/documents/${encodeURIComponent(id)}/assets/${encodeURIComponent(name)}`, undefined, { 'content-type': 'application/octet-stream' }, bytes);
  }

  createExport(body: Record<string, unknown>): Promise<ExportInfo> {
    return this.json('POST', '/v1/exports', body);
  }

  getExport(id: string): Promise<ExportInfo> {
    return this.json('GET', `/v1/exports/${encodeURIComponent(id)}`);
  }

  /** An export's file, numbered from 1 (the API may redirect to storage; fetch follows). */
  async download(id: string, file = 1): Promise<Blob> {
    const r = await this.request('GET', `/v1/exports/${encodeURIComponent(id)}/download?file=${file}`);
    return r.blob();
  }
}

/** Where the viewer finds the API: `config.json` next to the page, else the page's origin. */
export async function defaultApiUrl(): Promise<string> {
  try {
    const r = await fetch(new URL('config.json', document.baseURI), { cache: 'no-cache' });
    if (r.ok) {
      const c = (await r.json()) as { apiUrl?: unknown };
      if (typeof c.apiUrl === 'string') return c.apiUrl;
    }
  } catch {
    // No config: same origin.
  }
  return '';
}

/** Base64 of bytes (the API takes inline images so). */
export function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

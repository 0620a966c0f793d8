import { useEffect, useRef, useState } from 'react';
import type { Connection, DocumentInfo, ExportInfo, OdeApi } from './api/client';
import type { Mode } from './engine/protocol';

function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: React.ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('input, button, select')?.focus();
  }, []);
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="dialog" role="dialog" aria-modal="true" aria-label={title} ref={ref}>
        <div className="dialog-head">
          <h2>{title}</h2>
          <button aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

export function ConnectDialog({
  initial,
  onConnect,
  onCancel,
  onDisconnect,
}: {
  initial: Connection;
  onConnect: (c: Connection) => Promise<void>;
  onCancel: () => void;
  onDisconnect: () => void;
}) {
  const [url, setUrl] = useState(initial.url);
  const [key, setKey] = useState(initial.key);
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  return (
    <Dialog title="Connect to an ODE API" onClose={onCancel}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          setChecking(true);
          setError(null);
          onConnect({ url: url.trim(), key: key.trim() })
            .catch((err: Error) => setError(err.message))
            .finally(() => setChecking(false));
        }}
      >
        <label>
          API address
          <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="empty: this server" aria-label="API address" />
        </label>
        <label>
          API key
          <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="ode_…" aria-label="API key" type="password" autoComplete="off" />
        </label>
        <p className="help">
          <code>ode serve</code> prints its key and saves it in <code>ode-data/api-key</code>. The key is kept in this browser only.
        </p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          {initial.key && (
            <button type="button" onClick={onDisconnect}>
              Disconnect
            </button>
          )}
          <span className="spacer" />
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={checking || !key.trim()}>
            {checking ? 'Checking…' : 'Connect'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function when(seconds: number): string {
  const ms = seconds > 1e12 ? seconds : seconds * 1000;
  return new Date(ms).toLocaleString();
}

export function DocumentsDialog({ api, onOpen, onClose }: { api: OdeApi; onOpen: (d: DocumentInfo) => void; onClose: () => void }) {
  const [kind, setKind] = useState<Mode | ''>('');
  const [items, setItems] = useState<DocumentInfo[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setItems(null);
    setError(null);
    api
      .listDocuments(kind || undefined)
      .then((l) => {
        if (!live) return;
        setItems(l.items);
        setNext(l.next ?? null);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [api, kind]);
  const more = () =>
    next &&
    api
      .listDocuments(kind || undefined, next)
      .then((l) => {
        setItems((i) => [...(i ?? []), ...l.items]);
        setNext(l.next ?? null);
      })
      .catch((e: Error) => setError(e.message));
  return (
    <Dialog title="Stored documents" onClose={onClose}>
      <div className="segmented small" role="tablist" aria-label="Kind">
        {(['', 'document', 'template', 'markdown'] as const).map((k) => (
          <button key={k || 'all'} role="tab" aria-selected={kind === k} className={kind === k ? 'on' : ''} onClick={() => setKind(k)}>
            {k ? `${k[0].toUpperCase()}${k.slice(1)}s` : 'All'}
          </button>
        ))}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {!items && !error && <p className="help">Loading…</p>}
      {items && items.length === 0 && <p className="help">Nothing stored yet: Save (Ctrl+S) stores what you are editing.</p>}
      {items && items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Version</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td>{d.name}</td>
                <td>{d.kind}</td>
                <td>{d.version}</td>
                <td>{when(d.updated_at)}</td>
                <td>
                  <button onClick={() => onOpen(d)} aria-label={`Open ${d.name}`}>
                    Open
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button className="more" onClick={() => void more()}>
          More…
        </button>
      )}
    </Dialog>
  );
}

export function ExportsPanel({ exports, onDownload, onClose }: { exports: ExportInfo[]; onDownload: (e: ExportInfo) => void; onClose: () => void }) {
  return (
    <div className="exports" role="region" aria-label="Exports">
      <div className="exports-head">
        <strong>Exports</strong>
        <button aria-label="Close exports" onClick={onClose}>
          ✕
        </button>
      </div>
      <ul>
        {exports.map((e) => (
          <li key={e.id} data-status={e.status}>
            <span className={`badge ${e.status}`}>{e.status}</span>
            <span className="export-id" title={e.id}>
              {e.id.slice(0, 8)}
            </span>
            <span className="export-detail">
              {e.status === 'succeeded'
                ? `${e.pages} page${e.pages === 1 ? '' : 's'}, ${(e.size_bytes / 1024).toFixed(0)} KB`
                : e.status === 'failed'
                  ? (e.history.at(-1)?.detail ?? 'failed')
                  : `attempt ${Math.max(e.attempts, 1)}`}
            </span>
            {e.status === 'succeeded' && (
              <button onClick={() => onDownload(e)} aria-label={`Download export ${e.id.slice(0, 8)}`}>
                Download
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

const SHORTCUTS: [string, string][] = [
  ['Ctrl+S', 'Save to the API'],
  ['Ctrl+O', 'Open a stored document'],
  ['Ctrl+Shift+E', 'Export through the API'],
  ['Ctrl+Shift+S', 'Download the PDF (made in the browser)'],
  ['Ctrl+= / Ctrl+-', 'Zoom in / out'],
  ['Ctrl+0', 'Fit to width'],
  ['Alt+PageDown / Alt+PageUp', 'Next / previous page'],
  ['Ctrl+Space', 'Completion (property names, block types)'],
  ['Ctrl+F', 'Find in the editor'],
  ['F1', 'This list'],
];

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="list shortcuts">
        <tbody>
          {SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}

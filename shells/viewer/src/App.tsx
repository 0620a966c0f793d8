import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EditorView } from '@codemirror/view';
import { Editor } from './editor/Editor';
import { forEditor, locate, type Problem, type Target } from './editor/problems';
import type { Schema } from './editor/schema';
import { startEngine, EngineError, type EngineInfo, type Previewer } from './engine/previewer';
import type { Mode, Source } from './engine/protocol';
import { Preview, Thumbnails, PX_PER_PT } from './preview/Preview';
import { usePreview } from './usePreview';
import { EXAMPLES, loadExampleAssets } from './examples';
import { OdeApi, base64, defaultApiUrl, type Connection, type DocumentInfo, type ExportInfo } from './api/client';
import { ConnectDialog, DocumentsDialog, ExportsPanel, ShortcutsDialog } from './dialogs';

const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4];
const MODES: { mode: Mode; label: string }[] = [
  { mode: 'document', label: 'Document' },
  { mode: 'template', label: 'Template' },
  { mode: 'markdown', label: 'Markdown' },
];

function loadTheme(): boolean {
  const saved = localStorage.getItem('ode.theme');
  if (saved) return saved === 'dark';
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
}

function loadConnection(): Connection | null {
  try {
    const c = JSON.parse(localStorage.getItem('ode.api') ?? 'null') as Connection | null;
    return c && typeof c.key === 'string' && typeof c.url === 'string' ? c : null;
  } catch {
    return null;
  }
}

/** The body parts of a source for the API (`document`, `template` + `data` or `markdown`). */
function apiSource(source: Source): { kind: Mode; value: unknown; body: Record<string, unknown> } {
  const parse = (text: string, what: string) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new Error(`the ${what} is not valid JSON: ${e instanceof Error ? e.message : e}`);
    }
  };
  switch (source.mode) {
    case 'document': {
      const value = parse(source.text, 'document');
      return { kind: 'document', value, body: { document: value } };
    }
    case 'template': {
      const value = parse(source.text, 'template');
      return { kind: 'template', value, body: { template: value, data: parse(source.data ?? '{}', 'data') } };
    }
    case 'markdown':
      return { kind: 'markdown', value: source.text, body: { markdown: source.text } };
  }
}

/** The images `source` names (by their key appearing in its text). */
function referenced(source: Source, assets: Record<string, Uint8Array>): [string, Uint8Array][] {
  return Object.entries(assets).filter(([key]) => source.text.includes(key) || (source.data ?? '').includes(key));
}

function save(blob: Blob, name: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 30_000);
}

function fileName(name: string, ext: string): string {
  const base = name.trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'document';
  return `${base}.${ext}`;
}

function ms(v: number | undefined): string {
  return v === undefined ? '…' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

export default function App() {
  const [previewer, setPreviewer] = useState<Previewer | null>(null);
  const [engine, setEngine] = useState<EngineInfo | null>(null);
  const [engineError, setEngineError] = useState<string | null>(null);
  const [source, setSource] = useState<Source>(EXAMPLES[0].source);
  const [name, setName] = useState(EXAMPLES[0].title);
  const [tab, setTab] = useState<Target>('text');
  const [dark, setDark] = useState(loadTheme);
  const [zoom, setZoom] = useState(1);
  const [fit, setFit] = useState(true);
  const [thumbs, setThumbs] = useState(true);
  const [current, setCurrent] = useState(0);
  const [scrollRequest, setScrollRequest] = useState<{ page: number; nonce: number } | null>(null);
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const [conn, setConn] = useState<Connection | null>(loadConnection);
  const [dialog, setDialog] = useState<'connect' | 'documents' | 'shortcuts' | null>(null);
  const [openDoc, setOpenDoc] = useState<DocumentInfo | null>(null);
  const [exportsList, setExports] = useState<ExportInfo[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [apiDefault, setApiDefault] = useState('');
  const [assets, setAssets] = useState<Record<string, Uint8Array>>({});
  const views = useRef<Record<Target, EditorView | null>>({ text: null, data: null });
  const pagesRef = useRef<HTMLDivElement>(null);
  const [paneWidth, setPaneWidth] = useState(800);

  const api = useMemo(() => (conn ? new OdeApi(conn) : null), [conn]);

  // The engine: a worker, started once; the examples' images given to it.
  useEffect(() => {
    const p = startEngine();
    setPreviewer(p);
    p.ready
      .then(async (info) => {
        // The examples' images first, so that the first preview has them.
        const images = await loadExampleAssets();
        await p.addAssets(images);
        setAssets(images);
        setEngine(info);
      })
      .catch((e: Error) => setEngineError(e.message));
    void defaultApiUrl().then(setApiDefault);
    return () => p.terminate();
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    localStorage.setItem('ode.theme', dark ? 'dark' : 'light');
  }, [dark]);

  // When the last key was pressed: an edit's time on screen is measured from there.
  const lastKey = useRef<number | undefined>(undefined);
  useEffect(() => {
    const mark = (e: Event) => {
      lastKey.current = e.timeStamp;
    };
    window.addEventListener('keydown', mark, true);
    return () => window.removeEventListener('keydown', mark, true);
  }, []);
  const preview = usePreview(engine ? previewer : null, source, () => {
    const t = lastKey.current;
    lastKey.current = undefined;
    // Only a recent key press caused this edit (not e.g. an example opened later).
    return t !== undefined && performance.now() - t < 1000 ? t : undefined;
  });
  const { layout, failure, timing, pages } = preview;

  const problems: Problem[] = useMemo(
    () => locate(source, failure ? failure.diagnostics : preview.warnings),
    // The problems belong to the source they were found in; the text may have moved on.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [failure, layout],
  );
  const errors = problems.filter((p) => p.severity === 'error').length;

  // Fit to width follows the pane's size.
  useEffect(() => {
    const el = pagesRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setPaneWidth(el.clientWidth));
    ro.observe(el);
    setPaneWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);
  const widest = layout ? Math.max(...layout.sizes.map((s) => s.width)) : 595.28;
  const fitZoom = Math.max(0.1, (paneWidth - 48) / (widest * PX_PER_PT));
  const effectiveZoom = fit ? fitZoom : zoom;

  const goTo = useCallback(
    (page: number) => {
      const count = layout?.pages ?? 1;
      const p = Math.max(0, Math.min(count - 1, page));
      setCurrent(p);
      setScrollRequest({ page: p, nonce: Math.random() });
    },
    [layout],
  );

  const zoomBy = useCallback(
    (dir: 1 | -1) => {
      const z = fit ? fitZoom : zoom;
      const next = dir > 0 ? ZOOMS.find((v) => v > z + 0.001) : [...ZOOMS].reverse().find((v) => v < z - 0.001);
      setZoom(next ?? z);
      setFit(false);
    },
    [fit, fitZoom, zoom],
  );

  const setMode = (mode: Mode) => {
    if (mode === source.mode) return;
    setSource((s) => ({
      mode,
      text: mode === 'markdown' ? '# Untitled\n\nWrite **Markdown** here.\n' : s.mode === 'markdown' ? '{\n  "ode": 1,\n  "content": []\n}\n' : s.text,
      data: mode === 'template' ? (s.data ?? '{}') : undefined,
    }));
    setTab('text');
    setOpenDoc(null);
  };

  const openExample = (id: string) => {
    const ex = EXAMPLES.find((e) => e.id === id);
    if (!ex) return;
    setSource(ex.source);
    setName(ex.title);
    setTab('text');
    setOpenDoc(null);
    goTo(0);
  };

  const run = useCallback(async (label: string, work: () => Promise<string | void>) => {
    setBusy(label);
    try {
      const done = await work();
      if (done) setNotice({ text: done });
    } catch (e) {
      const text =
        e instanceof EngineError
          ? `${label}: ${e.diagnostics.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ') || e.message}`
          : `${label}: ${e instanceof Error ? e.message : String(e)}`;
      setNotice({ text, error: true });
    } finally {
      setBusy(null);
    }
  }, []);

  const downloadPdf = useCallback(() => {
    if (!previewer) return;
    void run('Download PDF', async () => {
      const { bytes, ms: took } = await previewer.pdf(source);
      save(new Blob([bytes as BlobPart], { type: 'application/pdf' }), fileName(name, 'pdf'));
      return `PDF made in the browser in ${ms(took)} (${(bytes.length / 1024).toFixed(0)} KB)`;
    });
  }, [previewer, source, name, run]);

  const saveToApi = useCallback(() => {
    if (!api) {
      setDialog('connect');
      return;
    }
    void run('Save', async () => {
      const { kind, value } = apiSource(source);
      const info =
        openDoc && openDoc.kind === kind
          ? await api.replaceDocument(openDoc.id, kind, name, value)
          : await api.createDocument(kind, name, value);
      // The images it names, stored with it (exports of the stored document need them).
      for (const [key, bytes] of referenced(source, assets)) await api.putAsset(info.id, key, bytes);
      setOpenDoc(info);
      return `Saved “${info.name}” (version ${info.version})`;
    });
  }, [api, source, openDoc, name, run, assets]);

  const pollExport = useCallback(
    async (id: string) => {
      if (!api) return;
      for (let i = 0; i < 600; i++) {
        const info = await api.getExport(id);
        setExports((list) => list.map((e) => (e.id === id ? info : e)));
        if (info.status === 'succeeded' || info.status === 'failed') return;
        await new Promise((r) => setTimeout(r, 400));
      }
    },
    [api],
  );

  const startExport = useCallback(() => {
    if (!api) {
      setDialog('connect');
      return;
    }
    void run('Export', async () => {
      const { body } = apiSource(source);
      const images = Object.fromEntries(referenced(source, assets).map(([k, v]) => [k, base64(v)]));
      const info = await api.createExport({ ...body, format: 'pdf', ...(Object.keys(images).length ? { assets: images } : {}) });
      setExports((list) => [info, ...list.filter((e) => e.id !== info.id)].slice(0, 20));
      void pollExport(info.id).catch((e) => setNotice({ text: `Export: ${e instanceof Error ? e.message : e}`, error: true }));
      return `Export ${info.id.slice(0, 8)} queued`;
    });
  }, [api, source, run, pollExport, assets]);

  const downloadExport = (e: ExportInfo) => {
    if (!api) return;
    void run('Download', async () => {
      save(await api.download(e.id), fileName(name, e.format));
    });
  };

  const openStored = (doc: DocumentInfo) => {
    if (!api) return;
    void run('Open', async () => {
      const full = await api.getDocument(doc.id);
      const text = typeof full.source === 'string' ? full.source : JSON.stringify(full.source, null, 2);
      setSource((s) => ({ mode: full.kind, text, data: full.kind === 'template' ? (s.mode === 'template' ? s.data : '{}') : undefined }));
      setName(full.name);
      setOpenDoc(full);
      setTab('text');
      setDialog(null);
      goTo(0);
      return `Opened “${full.name}”`;
    });
  };

  const jumpTo = (p: Problem) => {
    if (!p.target || !p.range) return;
    setTab(p.target);
    // The editor of that tab may need a render to exist.
    setTimeout(() => {
      const v = views.current[p.target!];
      if (!v) return;
      v.dispatch({ selection: { anchor: p.range!.from, head: p.range!.to }, scrollIntoView: true });
      v.focus();
    }, 0);
  };

  // Keyboard shortcuts (also listed in the shortcuts dialog, F1).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const act = (f: () => void) => {
        e.preventDefault();
        f();
      };
      if (mod && e.shiftKey && key === 's') return act(downloadPdf);
      if (mod && !e.shiftKey && key === 's') return act(saveToApi);
      if (mod && e.shiftKey && key === 'e') return act(startExport);
      if (mod && key === 'o') return act(() => setDialog(api ? 'documents' : 'connect'));
      if (mod && (key === '=' || key === '+')) return act(() => zoomBy(1));
      if (mod && key === '-') return act(() => zoomBy(-1));
      if (mod && key === '0') return act(() => setFit(true));
      if (e.altKey && e.key === 'PageDown') return act(() => goTo(current + 1));
      if (e.altKey && e.key === 'PageUp') return act(() => goTo(current - 1));
      if (e.key === 'F1') return act(() => setDialog('shortcuts'));
      if (e.key === 'Escape' && dialog) return act(() => setDialog(null));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [downloadPdf, saveToApi, startExport, zoomBy, goTo, current, api, dialog]);

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(null), notice.error ? 12_000 : 5_000);
    return () => clearTimeout(t);
  }, [notice]);

  // The benchmark (e2e/bench.mjs) times whole-document SVG renders in the same worker.
  useEffect(() => {
    if (!previewer || !new URLSearchParams(location.search).has('bench')) return;
    (window as unknown as { __odeBench: unknown }).__odeBench = { svgAll: () => previewer.svgAll(source) };
  }, [previewer, source]);

  const schema = engine?.schema as Schema | undefined;
  const editing = tab === 'data' && source.mode === 'template' ? 'data' : 'text';

  return (
    <div className="app">
      <header className="toolbar" role="toolbar" aria-label="Main">
        <span className="brand" title={engine ? `engine ${engine.version}` : 'starting the engine'}>
          ODE <span className="brand-sub">viewer</span>
        </span>
        <div className="segmented" role="tablist" aria-label="Source kind">
          {MODES.map((m) => (
            <button key={m.mode} role="tab" aria-selected={source.mode === m.mode} className={source.mode === m.mode ? 'on' : ''} onClick={() => setMode(m.mode)}>
              {m.label}
            </button>
          ))}
        </div>
        <label className="field">
          <span className="sr-only">Example</span>
          <select aria-label="Open an example" value="" onChange={(e) => openExample(e.target.value)}>
            <option value="">Examples…</option>
            {EXAMPLES.map((e) => (
              <option key={e.id} value={e.id}>
                {e.title}
              </option>
            ))}
          </select>
        </label>
        <input className="name" aria-label="Document name" value={name} onChange={(e) => setName(e.target.value)} />
        <span className="spacer" />
        <button onClick={() => setDialog(api ? 'documents' : 'connect')} title="Open a stored document (Ctrl+O)">
          Open
        </button>
        <button onClick={saveToApi} title="Save to the API (Ctrl+S)">
          Save
        </button>
        <button onClick={startExport} title="Export through the API (Ctrl+Shift+E)">
          Export
        </button>
        <button className="primary" onClick={downloadPdf} disabled={!engine} title="Download the PDF, made in the browser (Ctrl+Shift+S)">
          Download PDF
        </button>
        <button onClick={() => setDialog('connect')} className={api ? 'connected' : ''} title={api ? `Connected to ${conn?.url || 'this server'}` : 'Connect to an ODE API'}>
          {api ? 'API ●' : 'Connect'}
        </button>
        <button aria-label="Toggle dark mode" title="Dark mode" onClick={() => setDark((d) => !d)}>
          {dark ? '☀' : '☾'}
        </button>
        <button aria-label="Keyboard shortcuts" title="Keyboard shortcuts (F1)" onClick={() => setDialog('shortcuts')}>
          ?
        </button>
      </header>

      <main className="workspace">
        <section className="editor-pane" aria-label="Editor">
          {source.mode === 'template' && (
            <div className="tabs" role="tablist" aria-label="Template files">
              <button role="tab" aria-selected={editing === 'text'} className={editing === 'text' ? 'on' : ''} onClick={() => setTab('text')}>
                Template
              </button>
              <button role="tab" aria-selected={editing === 'data'} className={editing === 'data' ? 'on' : ''} onClick={() => setTab('data')}>
                Data
              </button>
            </div>
          )}
          <div className="editor-host" hidden={editing !== 'text'}>
            <Editor
              label={source.mode === 'markdown' ? 'markdown' : source.mode}
              value={source.text}
              language={source.mode === 'markdown' ? 'markdown' : 'json'}
              onChange={(text) => setSource((s) => ({ ...s, text }))}
              diagnostics={useMemo(() => forEditor(problems, 'text'), [problems])}
              schema={source.mode === 'document' ? schema : undefined}
              dark={dark}
              onView={(v) => (views.current.text = v)}
            />
          </div>
          {source.mode === 'template' && (
            <div className="editor-host" hidden={editing !== 'data'}>
              <Editor
                label="data"
                value={source.data ?? '{}'}
                language="json"
                onChange={(data) => setSource((s) => ({ ...s, data }))}
                diagnostics={forEditor(problems, 'data')}
                dark={dark}
                onView={(v) => (views.current.data = v)}
              />
            </div>
          )}
          <div className={`problems ${errors ? 'has-errors' : ''}`} aria-label="Problems" role="region">
            <div className="problems-head">
              {errors ? `${errors} error${errors > 1 ? 's' : ''}` : 'No errors'}
              {problems.length - errors ? ` · ${problems.length - errors} warning${problems.length - errors > 1 ? 's' : ''}` : ''}
              {failure && layout ? ' · showing the last good preview' : ''}
            </div>
            <ul>
              {problems.map((p, i) => (
                <li key={i} className={p.severity}>
                  <button onClick={() => jumpTo(p)} disabled={!p.range}>
                    <span className="where">{p.where}</span> <span className="message">{p.message}</span>
                    {p.hints.length ? <span className="hints"> — {p.hints.join('; ')}</span> : null}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        </section>

        <section className="preview-pane" aria-label="Preview">
          <div className="preview-toolbar" role="toolbar" aria-label="Preview">
            <button aria-label="Toggle thumbnails" className={thumbs ? 'on' : ''} onClick={() => setThumbs((t) => !t)} title="Thumbnails">
              ▤
            </button>
            <button aria-label="Previous page" onClick={() => goTo(current - 1)} disabled={current <= 0} title="Previous page (Alt+PageUp)">
              ‹
            </button>
            <label className="page-input">
              <input
                aria-label="Page number"
                type="number"
                min={1}
                max={layout?.pages ?? 1}
                value={current + 1}
                onChange={(e) => goTo(Number(e.target.value) - 1)}
              />
              <span>/ {layout?.pages ?? '…'}</span>
            </label>
            <button aria-label="Next page" onClick={() => goTo(current + 1)} disabled={!layout || current >= layout.pages - 1} title="Next page (Alt+PageDown)">
              ›
            </button>
            <span className="sep" />
            <button aria-label="Zoom out" onClick={() => zoomBy(-1)} title="Zoom out (Ctrl+-)">
              −
            </button>
            <span className="zoom" aria-label="Zoom level">
              {Math.round(effectiveZoom * 100)}%
            </span>
            <button aria-label="Zoom in" onClick={() => zoomBy(1)} title="Zoom in (Ctrl+=)">
              +
            </button>
            <button className={fit ? 'on' : ''} onClick={() => setFit(true)} title="Fit to width (Ctrl+0)">
              Fit width
            </button>
            <button className={!fit && zoom === 1 ? 'on' : ''} onClick={() => (setZoom(1), setFit(false))} title="Actual size (96 dpi)">
              100%
            </button>
          </div>
          <div className="preview-body">
            {thumbs && layout && (
              <Thumbnails sizes={layout.sizes} urls={preview.thumbs} current={current} onSelect={goTo} onVisible={preview.onThumbsVisible} />
            )}
            <div className="pages-scroll" ref={pagesRef} data-testid="pages">
              {engineError ? (
                <div className="empty error">The engine could not start: {engineError}</div>
              ) : !layout ? (
                <div className="empty">{failure ? 'Fix the errors to see the pages.' : 'Starting the engine…'}</div>
              ) : (
                <Preview
                  pages={pages}
                  zoom={effectiveZoom}
                  onVisible={preview.onVisible}
                  onShown={preview.onShown}
                  onCurrentPage={setCurrent}
                  scrollRequest={scrollRequest}
                  containerRef={pagesRef}
                />
              )}
            </div>
          </div>
          {exportsList.length > 0 && <ExportsPanel exports={exportsList} onDownload={downloadExport} onClose={() => setExports([])} />}
        </section>
      </main>

      <footer className="status" aria-live="polite">
        <span data-testid="status-render">
          {timing
            ? `${timing.pages} page${timing.pages > 1 ? 's' : ''} · layout ${ms(timing.layoutMs)} · draw ${ms(timing.drawMs)} · on screen ${ms(timing.shownMs)} after the edit`
            : failure
              ? 'Not rendered: see the problems'
              : engine
                ? 'Rendering…'
              : 'Loading the engine…'}
        </span>
        <span className={errors ? 'status-errors' : ''} data-testid="status-problems">
          {errors ? `${errors} error${errors > 1 ? 's' : ''}` : 'OK'}
        </span>
        {busy && <span>{busy}…</span>}
        <span className="spacer" />
        {openDoc && <span title={openDoc.id}>Stored: {openDoc.name} v{openDoc.version}</span>}
        <span>{engine ? `engine ${engine.version}, started in ${ms(engine.ms)}` : ''}</span>
      </footer>

      {notice && (
        <div className={`notice ${notice.error ? 'error' : ''}`} role={notice.error ? 'alert' : 'status'} onClick={() => setNotice(null)}>
          {notice.text}
        </div>
      )}

      {dialog === 'connect' && (
        <ConnectDialog
          initial={conn ?? { url: apiDefault, key: '' }}
          onCancel={() => setDialog(null)}
          onDisconnect={() => {
            localStorage.removeItem('ode.api');
            setConn(null);
            setOpenDoc(null);
            setDialog(null);
          }}
          onConnect={async (c) => {
            await new OdeApi(c).check();
            localStorage.setItem('ode.api', JSON.stringify(c));
            setConn(c);
            setDialog('documents');
          }}
        />
      )}
      {dialog === 'documents' && api && <DocumentsDialog api={api} onOpen={openStored} onClose={() => setDialog(null)} />}
      {dialog === 'shortcuts' && <ShortcutsDialog onClose={() => setDialog(null)} />}
    </div>
  );
}


// Component tests in jsdom: the pages and thumbnails, the dialogs.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Preview, Thumbnails, PX_PER_PT } from './preview/Preview';
import { ConnectDialog, DocumentsDialog, ExportsPanel } from './dialogs';
import { OdeApi, type ExportInfo } from './api/client';
import { createRef } from 'react';

class NoIntersections {
  observe() {}
  disconnect() {}
  unobserve() {}
}
vi.stubGlobal('IntersectionObserver', NoIntersections);
// jsdom does not scroll; record who asked to be shown.
const scrolled: Element[] = [];
Element.prototype.scrollIntoView = function (this: Element) {
  scrolled.push(this);
};

afterEach(cleanup);

const A4 = { width: 595.28, height: 841.89 };

describe('Preview', () => {
  it('sizes every page at 96 dpi times the zoom, and draws those it has', () => {
    const ref = createRef<HTMLDivElement>();
    render(
      <div ref={ref}>
        <Preview
          pages={[{ size: A4, svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect id="r" width="5" height="5"/></svg>' }, { size: { width: 842, height: 595 } }]}
          zoom={1.5}
          onVisible={() => {}}
          onCurrentPage={() => {}}
          scrollRequest={null}
          containerRef={ref}
        />
      </div>,
    );
    const pages = screen.getAllByRole('listitem');
    expect(pages).toHaveLength(2);
    expect(pages[0].style.width).toBe(`${A4.width * PX_PER_PT * 1.5}px`);
    expect(pages[1].style.height).toBe(`${595 * PX_PER_PT * 1.5}px`);
    // Each page's SVG lives in its own shadow root (its ids stay its own).
    const first = screen.getByRole('img', { name: 'Page 1' });
    expect(first.shadowRoot?.querySelector('svg rect#r')).toBeTruthy();
    expect(document.querySelector('rect#r')).toBeNull();
    expect(screen.getByRole('img', { name: 'Page 2' }).shadowRoot).toBeNull();
  });
});

describe('Thumbnails', () => {
  it('marks the current page and goes to a page on click', () => {
    const onSelect = vi.fn();
    render(<Thumbnails sizes={[A4, A4, A4]} urls={['blob:a', undefined, 'blob:c']} current={1} onSelect={onSelect} onVisible={() => {}} />);
    expect(screen.getByLabelText('Go to page 1').querySelector('img')?.getAttribute('src')).toBe('blob:a');
    expect(screen.getByLabelText('Go to page 2').querySelector('img')).toBeNull();
    expect(screen.getByLabelText('Go to page 2').getAttribute('aria-current')).toBe('page');
    expect(scrolled.at(-1)).toBe(screen.getByLabelText('Go to page 2'));
    fireEvent.click(screen.getByLabelText('Go to page 3'));
    expect(onSelect).toHaveBeenCalledWith(2);
  });
});

describe('ConnectDialog', () => {
  it('shows why a connection failed and keeps the dialog open', async () => {
    const onConnect = vi.fn().mockRejectedValue(new Error('401: unknown API key'));
    render(<ConnectDialog initial={{ url: '', key: '' }} onConnect={onConnect} onCancel={() => {}} onDisconnect={() => {}} />);
    const connect = screen.getByRole('button', { name: 'Connect' });
    expect((connect as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: ' ode_abc ' } });
    fireEvent.change(screen.getByLabelText('API address'), { target: { value: 'http://api.test' } });
    fireEvent.click(connect);
    expect(onConnect).toHaveBeenCalledWith({ url: 'http://api.test', key: 'ode_abc' });
    expect((await screen.findByRole('alert')).textContent).toBe('401: unknown API key');
  });
});

/** A fetch answering from a table of routes, recording what it was asked. */
function routes(table: Record<string, () => Response>) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const f = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const path = new URL(url).pathname + new URL(url).search;
    const answer = table[path];
    return answer ? answer() : new Response(JSON.stringify({ errors: [{ code: 'not_found', detail: 'no such route' }] }), { status: 404 });
  }) as typeof fetch;
  return { f, calls };
}

describe('DocumentsDialog', () => {
  it('lists stored documents by kind and opens one', async () => {
    const doc = { id: 'd1', kind: 'template', name: 'Letter', version: 3, size_bytes: 10, created_at: 1_700_000_000, updated_at: 1_700_000_100, warnings: [] };
    const { f, calls } = routes({
      '/v1/documents?limit=50': () => Response.json({ items: [doc], next: null }),
      '/v1/documents?limit=50&kind=markdown': () => Response.json({ items: [], next: null }),
    });
    const onOpen = vi.fn();
    render(<DocumentsDialog api={new OdeApi({ url: 'http://api.test/', key: 'k1' }, f)} onOpen={onOpen} onClose={() => {}} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Open Letter' }));
    expect(onOpen).toHaveBeenCalledWith(doc);
    expect(new Headers(calls[0].init?.headers).get('authorization')).toBe('Bearer k1');
    fireEvent.click(screen.getByRole('tab', { name: 'Markdowns' }));
    await waitFor(() => expect(screen.getByText(/Nothing stored yet/)).toBeTruthy());
  });

  it("shows the API's error", async () => {
    const { f } = routes({
      '/v1/documents?limit=50': () => new Response(JSON.stringify({ errors: [{ code: 'unauthorized', detail: 'unknown API key' }] }), { status: 401 }),
    });
    render(<DocumentsDialog api={new OdeApi({ url: 'http://api.test', key: 'bad' }, f)} onOpen={() => {}} onClose={() => {}} />);
    expect((await screen.findByRole('alert')).textContent).toBe('unknown API key');
  });
});

describe('ExportsPanel', () => {
  it('shows progress and offers the download of finished exports', () => {
    const base = { format: 'pdf', records: 1, merge: false, attempts: 1, files: 1, size_bytes: 20480, pages: 2, created_at: 0, updated_at: 0, history: [] };
    const exports = [
      { ...base, id: 'aaaaaaaa-1', status: 'succeeded' },
      { ...base, id: 'bbbbbbbb-2', status: 'running' },
      { ...base, id: 'cccccccc-3', status: 'failed', history: [{ status: 'failed', at: 0, detail: '/content/0: bad' }] },
    ] as ExportInfo[];
    const onDownload = vi.fn();
    render(<ExportsPanel exports={exports} onDownload={onDownload} onClose={() => {}} />);
    expect(screen.getByText('2 pages, 20 KB')).toBeTruthy();
    expect(screen.getByText('/content/0: bad')).toBeTruthy();
    expect(screen.getAllByRole('button', { name: /Download export/ })).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Download export aaaaaaaa' }));
    expect(onDownload).toHaveBeenCalledWith(exports[0]);
  });
});

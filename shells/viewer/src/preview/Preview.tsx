// The pages: each the page's SVG at its size (96 dpi at 100%), drawn only when in view,
// and thumbnails of them.
import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { PageSize } from '../engine/protocol';

export const PX_PER_PT = 96 / 72;

export interface PageView {
  size: PageSize;
  /** The newest drawing of this page (maybe of an older layout), or none yet. */
  svg?: string;
}

const PAGE_STYLE = '<style>:host{display:block;width:100%;height:100%}svg{display:block;width:100%;height:100%}</style>';

/**
 * A page's SVG, in the page's own shadow root: parsed straight into the document (no
 * image decoding), with its ids (glyphs, clip paths) scoped to the page. A new drawing
 * replaces the old one in one step, so typing never flashes a blank page.
 */
function PageSvg({ svg, index, onShown }: { svg?: string; index: number; onShown?: (i: number, svg: string) => void }) {
  const host = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = host.current;
    if (!el) return;
    if (!svg) {
      // Out of view: the page's nodes are dropped (a page is a thousand of them).
      if (el.shadowRoot) el.shadowRoot.innerHTML = '';
      return;
    }
    const root = el.shadowRoot ?? el.attachShadow({ mode: 'open' });
    root.innerHTML = PAGE_STYLE + svg;
    // Painted at the next frame.
    if (onShown) requestAnimationFrame(() => onShown(index, svg));
  }, [svg, index, onShown]);
  return <div className="page-svg" ref={host} role="img" aria-label={`Page ${index + 1}`} data-drawn={svg ? 'true' : 'false'} />;
}

/**
 * Watches which of the elements `refs` holds (each with its index in `data-index`) are
 * within `margin` of the scrolling `root`, and reports their sorted indices.
 */
function useInView(
  root: React.RefObject<HTMLElement | null>,
  refs: React.RefObject<(HTMLElement | null)[]>,
  count: number,
  margin: string,
  onChange: (indices: number[]) => void,
  reset: unknown = null,
) {
  const report = useRef(onChange);
  report.current = onChange;
  useEffect(() => {
    if (!root.current) return;
    const visible = new Set<number>();
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const i = Number((e.target as HTMLElement).dataset.index);
          if (e.isIntersecting) visible.add(i);
          else visible.delete(i);
        }
        report.current([...visible].sort((a, b) => a - b));
      },
      { root: root.current, rootMargin: margin },
    );
    for (const el of refs.current.slice(0, count)) if (el) io.observe(el);
    return () => io.disconnect();
  }, [root, refs, count, margin, reset]);
}

export interface PreviewProps {
  pages: PageView[];
  zoom: number;
  /** Pages (zero-based) now in view. */
  onVisible: (pages: number[]) => void;
  onShown?: (page: number, svg: string) => void;
  onCurrentPage: (page: number) => void;
  scrollRequest: { page: number; nonce: number } | null;
  containerRef: React.RefObject<HTMLDivElement | null>;
}

export function Preview({ pages, zoom, onVisible, onShown, onCurrentPage, scrollRequest, containerRef }: PreviewProps) {
  // Pages near the view (the observer's margin included): only they hold their SVG.
  const [near, setNear] = useState<ReadonlySet<number>>(new Set([0, 1]));
  const pageRefs = useRef<(HTMLDivElement | null)[]>([]);
  const report = useRef({ onVisible, onCurrentPage });
  report.current = { onVisible, onCurrentPage };
  useInView(
    containerRef,
    pageRefs,
    pages.length,
    '200px 0px',
    (list) => {
      setNear(new Set(list));
      report.current.onVisible(list);
    },
    zoom,
  );

  // The current page: the one under the upper third of the view, as the user scrolls.
  useEffect(() => {
    const root = containerRef.current;
    if (!root) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      const line = root.getBoundingClientRect().top + root.clientHeight / 3;
      const els = pageRefs.current.slice(0, pages.length);
      let current = 0;
      for (let i = 0; i < els.length; i++) {
        const r = els[i]?.getBoundingClientRect();
        if (r && r.top <= line) current = i;
        else break;
      }
      report.current.onCurrentPage(current);
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    root.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      root.removeEventListener('scroll', onScroll);
      cancelAnimationFrame(frame);
    };
  }, [pages.length, containerRef]);

  useEffect(() => {
    if (!scrollRequest) return;
    pageRefs.current[scrollRequest.page]?.scrollIntoView({ block: 'start' });
  }, [scrollRequest]);

  return (
    <div className="pages" role="list" aria-label="Pages">
      {pages.map((p, i) => (
        <div
          key={i}
          role="listitem"
          className="page"
          data-index={i}
          ref={(el) => {
            pageRefs.current[i] = el;
          }}
          style={{ width: `${p.size.width * PX_PER_PT * zoom}px`, height: `${p.size.height * PX_PER_PT * zoom}px` }}
        >
          <PageSvg svg={near.has(i) ? p.svg : undefined} index={i} onShown={onShown} />
        </div>
      ))}
    </div>
  );
}

export const Thumbnails = memo(function Thumbnails({
  sizes,
  urls,
  current,
  onSelect,
  onVisible,
}: {
  sizes: PageSize[];
  /** A picture of each page, or none yet. */
  urls: (string | undefined)[];
  current: number;
  onSelect: (page: number) => void;
  onVisible: (pages: number[]) => void;
}) {
  const root = useRef<HTMLDivElement>(null);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  useInView(root, refs, sizes.length, '100px 0px', onVisible);
  useEffect(() => {
    refs.current[current]?.scrollIntoView({ block: 'nearest' });
  }, [current]);
  const width = 112;
  return (
    <div className="thumbnails" ref={root} aria-label="Thumbnails">
      {sizes.map((size, i) => (
        <button
          key={i}
          type="button"
          className={i === current ? 'thumb current' : 'thumb'}
          data-index={i}
          aria-label={`Go to page ${i + 1}`}
          aria-current={i === current ? 'page' : undefined}
          ref={(el) => {
            refs.current[i] = el;
          }}
          onClick={() => onSelect(i)}
        >
          <span className="thumb-page" style={{ width: `${width}px`, height: `${(width * size.height) / size.width}px` }}>
            {urls[i] ? <img src={urls[i]} alt="" draggable={false} /> : null}
          </span>
          <span className="thumb-number">{i + 1}</span>
        </button>
      ))}
    </div>
  );
});

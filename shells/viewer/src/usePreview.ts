// The preview's state: the latest layout, the drawn pages (their SVG text),
// which pages are in view, and how long the last edit took to reach the screen.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Previewer, LayoutResult, LayoutFailure } from './engine/previewer';
import type { Source } from './engine/protocol';
import type { PageView } from './preview/Preview';
import type { Diagnostic } from '@ode/engine';

export interface UpdateTiming {
  layout: number;
  /** The engine's layout of the whole document, ms. */
  layoutMs: number;
  /** The engine's drawing of the pages in view, ms. */
  drawMs: number;
  /** Edit to the layout asked of the worker (the page's own work on the keystroke), ms. */
  sentMs: number;
  /** Edit to the engine's answer back on the page, ms. */
  answerMs: number;
  /** The request waiting for the worker (its queue, the message's transit), ms. */
  toWorkerMs: number;
  /** The answer waiting for the page's thread (transit, and whatever the thread was doing), ms. */
  toPageMs: number;
  /** Edit to the pages in view in the page and painted, ms. */
  shownMs?: number;
  pages: number;
}

interface Drawn {
  layout: number;
  svg: string;
  /** A blob URL of `svg` for the thumbnails, made when first needed. */
  url?: string;
}

declare global {
  interface Window {
    /** The last update's timing, for the end-to-end tests and the benchmark page. */
    __odeLastUpdate?: UpdateTiming;
  }
}

function svgUrl(svg: string): string {
  return URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
}

/**
 * `editedAt()` says when the edit behind the current source was made (the keystroke's
 * time, so that the measure includes React's own work), or undefined for now.
 */
export function usePreview(previewer: Previewer | null, source: Source | null, editedAt: () => number | undefined = () => undefined) {
  const [layout, setLayout] = useState<LayoutResult | null>(null);
  const [failure, setFailure] = useState<LayoutFailure | null>(null);
  const [timing, setTiming] = useState<UpdateTiming | null>(null);
  const [, setTick] = useState(0);
  const drawn = useRef(new Map<number, Drawn>());
  const inView = useRef<number[]>([0, 1]);
  const thumbsInView = useRef<number[]>([]);
  const requested = useRef(new Set<string>());
  const latest = useRef<LayoutResult | null>(null);
  const waitingShown = useRef<{ layout: number; pages: Set<number>; editedAt: number } | null>(null);

  const store = useCallback((layoutId: number, svgs: Record<number, string>) => {
    for (const [k, svg] of Object.entries(svgs)) {
      const i = Number(k);
      const old = drawn.current.get(i);
      drawn.current.set(i, { layout: layoutId, svg });
      // Kept a little while: a thumbnail may still be decoding it.
      if (old?.url) setTimeout(() => URL.revokeObjectURL(old.url!), 10_000);
    }
    setTick((t) => t + 1);
  }, []);

  /**
   * Draws the pages in view that the newest layout has not drawn yet; with `thumbs`, the
   * thumbnails in view too. Thumbnails wait until typing pauses (see `thumbTimer`): while
   * someone types, the worker and the page's thread are kept for the pages being read.
   */
  const fill = useCallback(async (thumbs = false) => {
    const l = latest.current;
    if (!previewer || !l) return;
    const want = [...new Set([...inView.current, ...(thumbs ? thumbsInView.current : [])])].filter(
      (i) => i < l.pages && drawn.current.get(i)?.layout !== l.layout && !requested.current.has(`${l.layout}:${i}`),
    );
    if (!want.length) return;
    for (const i of want) requested.current.add(`${l.layout}:${i}`);
    try {
      const svgs = await previewer.pages(l.layout, want);
      if (svgs && latest.current?.layout === l.layout) store(l.layout, svgs);
    } catch {
      // A page that cannot be drawn keeps its older picture.
    }
  }, [previewer, store]);

  // Thumbnails are refreshed together, once typing pauses.
  const [thumbTick, setThumbTick] = useState(0);
  const thumbTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const fillThumbsLater = useCallback(() => {
    clearTimeout(thumbTimer.current);
    thumbTimer.current = setTimeout(() => {
      void fill(true).then(() => setThumbTick((t) => t + 1));
    }, 400);
  }, [fill]);

  useEffect(() => {
    if (!previewer) return;
    previewer.onLayout = (r) => {
      latest.current = r;
      requested.current.clear();
      setLayout(r);
      setFailure(null);
      const now = performance.now();
      // A page drawn exactly as before is already on screen: nothing to wait for.
      const changed = Object.keys(r.svgs)
        .map(Number)
        .filter((i) => drawn.current.get(i)?.svg !== r.svgs[i]);
      const t: UpdateTiming = {
        layout: r.layout,
        layoutMs: r.timings.layout,
        drawMs: r.timings.draw,
        sentMs: r.sentAt - r.editedAt,
        answerMs: now - r.editedAt,
        toWorkerMs: r.timings.takenAt - (performance.timeOrigin + r.sentAt),
        toPageMs: performance.timeOrigin + now - r.timings.postedAt,
        pages: r.pages,
        shownMs: changed.length ? undefined : now - r.editedAt,
      };
      setTiming(t);
      window.__odeLastUpdate = t;
      waitingShown.current = changed.length ? { layout: r.layout, pages: new Set(changed), editedAt: r.editedAt } : null;
      store(r.layout, r.svgs);
      void fill();
      fillThumbsLater();
    };
    previewer.onFailure = (f) => setFailure(f);
  }, [previewer, store, fill, fillThumbsLater]);

  const sent = useRef<Source | null>(null);
  useEffect(() => {
    const same = (a: Source | null, b: Source) => a && a.mode === b.mode && a.text === b.text && a.data === b.data;
    if (!previewer || !source || same(sent.current, source)) return;
    sent.current = source;
    if (previewer && source) previewer.update(source, inView.current.length ? inView.current : [0], editedAt() ?? performance.now());
    // `editedAt` is read at the time of the update only.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [previewer, source]);

  const onShown = useCallback((page: number, svg: string) => {
    const w = waitingShown.current;
    if (!w) return;
    const d = drawn.current.get(page);
    if (!d || d.layout !== w.layout || d.svg !== svg) return;
    w.pages.delete(page);
    if (w.pages.size === 0) {
      waitingShown.current = null;
      const shownMs = performance.now() - w.editedAt;
      setTiming((t) => {
        if (!t || t.layout !== w.layout) return t;
        const next = { ...t, shownMs };
        window.__odeLastUpdate = next;
        return next;
      });
    }
  }, []);

  const onVisible = useCallback(
    (pages: number[]) => {
      inView.current = pages;
      void fill();
    },
    [fill],
  );
  const onThumbsVisible = useCallback(
    (pages: number[]) => {
      thumbsInView.current = pages;
      fillThumbsLater();
    },
    [fillThumbsLater],
  );

  // Recomputed at every render: `drawn` changes without React knowing (setTick re-renders).
  const pages: PageView[] = layout ? layout.sizes.map((size, i) => ({ size, svg: drawn.current.get(i)?.svg })) : [];
  // Blob URLs of the drawings for the thumbnails, made only when they are refreshed.
  const thumbs = useMemo(
    () => (layout ? layout.sizes.map((_, i) => {
      const d = drawn.current.get(i);
      return d ? (d.url ??= svgUrl(d.svg)) : undefined;
    }) : []),
    // Recomputed when the thumbnails are refreshed or the page count changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [thumbTick, layout?.pages],
  );

  const warnings: Diagnostic[] = layout?.warnings ?? [];
  return { layout, failure, timing, pages, thumbs, warnings, onShown, onVisible, onThumbsVisible };
}

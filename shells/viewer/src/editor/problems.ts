// The engine's diagnostics placed in the editors: which text each points into (the
// document or template, or the template's data) and at which range.
import type { Diagnostic } from '@ode/engine';
import type { Diagnostic as CmDiagnostic } from '@codemirror/lint';
import type { Source } from '../engine/protocol';
import { rangeOfLine, rangeOfPointer, type Range } from './positions';

export type Target = 'text' | 'data';

export interface Problem {
  severity: 'error' | 'warning';
  message: string;
  hints: string[];
  /** Where, in words: a JSON path or a line and column. */
  where: string;
  /** Which editor it points into, and where (absent when it has no place there). */
  target?: Target;
  range?: Range;
}

function clamp(r: Range, text: string): Range {
  const from = Math.min(r.from, text.length);
  return { from, to: Math.min(Math.max(r.to, from), text.length) };
}

/** Places each diagnostic of a render of `source`. */
export function locate(source: Source, diagnostics: Diagnostic[]): Problem[] {
  return diagnostics.map((d) => {
    const where =
      d.line !== undefined
        ? `line ${d.line}${d.column !== undefined ? `, column ${d.column}` : ''}`
        : d.path || '(document)';
    const base = { severity: d.severity, message: d.message, hints: d.hints, where };
    const isData = source.mode === 'template' && d.message.startsWith('data:');
    const target: Target = isData ? 'data' : 'text';
    const text = isData ? (source.data ?? '') : source.text;
    if (d.line !== undefined) {
      return { ...base, target, range: clamp(rangeOfLine(text, d.line, d.column), text) };
    }
    if (source.mode !== 'markdown' && !isData) {
      const r = rangeOfPointer(text, d.path);
      if (r) return { ...base, target, range: clamp(r, text) };
    }
    return base;
  });
}

/** The problems of one editor, as CodeMirror lint diagnostics. */
export function forEditor(problems: Problem[], target: Target): CmDiagnostic[] {
  return problems
    .filter((p) => p.target === target && p.range)
    .map((p) => ({
      from: p.range!.from,
      to: p.range!.to,
      severity: p.severity,
      message: p.hints.length ? `${p.message} (${p.hints.join('; ')})` : p.message,
      source: p.where,
    }));
}

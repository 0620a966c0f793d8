// Where a diagnostic points in the editor's text: a JSON pointer resolved against the
// text as typed (with jsonc-parser, which keeps offsets), or a line and column.
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';

export interface Range {
  from: number;
  to: number;
}

/** The segments of a JSON pointer (`/content/0/text` -> ['content', 0, 'text']). */
export function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** The end of the line holding `offset`. */
function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl;
}

/**
 * The range a JSON pointer designates in `text`: the value itself, or, when the path
 * goes further than the text (a missing property), the deepest value that exists. Long
 * values are cut at the end of their first line so that the mark stays readable.
 * Null when the text does not parse at all.
 */
export function rangeOfPointer(text: string, pointer: string): Range | null {
  const root = parseTree(text);
  if (!root) return null;
  const segments = pointerSegments(pointer);
  let node: Node | undefined = root;
  let keyNode: Node | undefined;
  for (let i = segments.length; i >= 0; i--) {
    const found = findNodeAtLocation(root, segments.slice(0, i));
    if (found) {
      node = found;
      if (i === segments.length && found.parent?.type === 'property') keyNode = found.parent.children?.[0];
      break;
    }
  }
  if (!node) return null;
  // A property's name is the better place for short scalars' problems too, but the
  // value is what is wrong: mark the value, extended back to the key on one line.
  let from = node.offset;
  if (keyNode && text.lastIndexOf('\n', node.offset) < keyNode.offset) from = keyNode.offset;
  const to = Math.min(node.offset + node.length, lineEnd(text, node.offset));
  return { from, to: Math.max(to, from + 1) };
}

/** The offset of a one-based line and column, clamped to the text. */
export function offsetOfLineColumn(text: string, line: number, column = 1): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl === -1) return text.length;
    offset = nl + 1;
  }
  return Math.min(offset + Math.max(column - 1, 0), lineEnd(text, offset));
}

/** The range to mark for a diagnostic with a line (and maybe column): from there to the end of the line. */
export function rangeOfLine(text: string, line: number, column?: number): Range {
  const from = offsetOfLineColumn(text, line, column ?? 1);
  const to = lineEnd(text, from);
  return { from: Math.min(from, text.length), to: Math.max(to, Math.min(from + 1, text.length)) };
}

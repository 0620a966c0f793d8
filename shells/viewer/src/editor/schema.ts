// Completion from the document format's JSON Schema (the engine's `schema()`): property
// names where a key goes, allowed values (block `type`s, enums) where a value goes.
import type { CompletionContext, CompletionResult, Completion } from '@codemirror/autocomplete';
import { getLocation, getNodeValue, parseTree, type JSONPath } from 'jsonc-parser';

export type Schema = {
  $ref?: string;
  $defs?: Record<string, Schema>;
  definitions?: Record<string, Schema>;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema | boolean;
  prefixItems?: Schema[];
  additionalProperties?: Schema | boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  required?: string[];
};

/** Follows `$ref`s (local ones, `#/$defs/Name`). */
function deref(root: Schema, s: Schema | boolean | undefined, depth = 0): Schema | undefined {
  if (s === undefined || typeof s === 'boolean') return undefined;
  if (s.$ref && depth < 32) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    const defs = m ? (m[1] === '$defs' ? root.$defs : root.definitions) : undefined;
    const target = m && defs ? defs[decodeURIComponent(m[2])] : undefined;
    if (!target) return undefined;
    // In draft 2020-12 a `$ref` applies beside the schema's own keywords: merge them.
    const { $ref: _ref, ...rest } = s;
    const resolved = deref(root, target, depth + 1);
    if (!resolved) return undefined;
    const merged: Schema = { ...resolved, ...rest, description: rest.description ?? resolved.description };
    if (resolved.properties || rest.properties) merged.properties = { ...resolved.properties, ...rest.properties };
    if (resolved.required || rest.required) merged.required = [...new Set([...(resolved.required ?? []), ...(rest.required ?? [])])];
    return merged;
  }
  return s;
}

/** The alternatives a schema allows (flattening oneOf / anyOf, merging allOf). */
function alternatives(root: Schema, s: Schema | undefined, depth = 0): Schema[] {
  const r = deref(root, s);
  if (!r || depth > 16) return [];
  const branches = r.oneOf ?? r.anyOf;
  if (branches) return branches.flatMap((b) => alternatives(root, b, depth + 1));
  if (r.allOf) {
    const merged: Schema = { ...r, allOf: undefined, properties: { ...(r.properties ?? {}) } };
    for (const part of r.allOf) {
      for (const alt of alternatives(root, part, depth + 1)) {
        Object.assign(merged.properties!, alt.properties ?? {});
        if (alt.description && !merged.description) merged.description = alt.description;
      }
    }
    return [merged];
  }
  return [r];
}

/** The `type` const an object schema requires, if any (how blocks are told apart). */
function typeConst(root: Schema, s: Schema): string | undefined {
  const t = deref(root, s.properties?.type);
  if (t && typeof t.const === 'string') return t.const;
  if (t && t.enum?.length === 1 && typeof t.enum[0] === 'string') return t.enum[0];
  return undefined;
}

/** Object alternatives narrowed by the value's current `type`, when it has one. */
function narrow(root: Schema, alts: Schema[], value: unknown): Schema[] {
  const objects = alts.filter((a) => a.properties || a.type === 'object' || a.additionalProperties);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const t = (value as Record<string, unknown>).type;
    if (typeof t === 'string') {
      const match = objects.filter((a) => typeConst(root, a) === t);
      if (match.length) return match;
    }
  }
  return objects;
}

/** The schemas a value at `path` may have, given the whole document value (for `type` narrowing). */
export function schemasAt(root: Schema, path: JSONPath, doc: unknown): Schema[] {
  let current: Schema[] = alternatives(root, root);
  let value: unknown = doc;
  for (const seg of path) {
    const next: Schema[] = [];
    const here = narrow(root, current, value).concat(current.filter((a) => a.type === 'array' || a.items || a.prefixItems));
    for (const s of here) {
      if (typeof seg === 'number') {
        const item = s.prefixItems?.[seg] ?? s.items;
        if (item && typeof item !== 'boolean') next.push(...alternatives(root, item));
      } else {
        const prop = s.properties?.[seg] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        if (prop) next.push(...alternatives(root, prop));
      }
    }
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[seg as never] : undefined;
    current = next;
    if (!current.length) break;
  }
  return current;
}

function firstLine(s?: string): string | undefined {
  return s?.split('\n')[0];
}

/** Property names allowed in the object at `path` that it does not have yet. */
export function propertySuggestions(root: Schema, path: JSONPath, doc: unknown): Completion[] {
  let objValue: unknown = doc;
  for (const seg of path) objValue = objValue && typeof objValue === 'object' ? (objValue as never)[seg] : undefined;
  const present = new Set(objValue && typeof objValue === 'object' ? Object.keys(objValue as object) : []);
  const out = new Map<string, Completion>();
  for (const s of narrow(root, schemasAt(root, path, doc), objValue)) {
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      if (present.has(name) || out.has(name)) continue;
      const p = deref(root, prop);
      out.set(name, {
        label: name,
        type: 'property',
        detail: s.required?.includes(name) ? 'required' : undefined,
        info: firstLine(p?.description ?? prop.description),
        apply: JSON.stringify(name),
        boost: s.required?.includes(name) ? 1 : 0,
      });
    }
  }
  return [...out.values()];
}

/** Values allowed at `path`: enum members and consts (e.g. every block `type`). */
export function valueSuggestions(root: Schema, path: JSONPath, doc: unknown): Completion[] {
  const out = new Map<string, Completion>();
  for (const s of schemasAt(root, path, doc)) {
    const values = s.enum ?? (s.const !== undefined ? [s.const] : []);
    for (const v of values) {
      const label = JSON.stringify(v);
      if (!out.has(label)) out.set(label, { label, type: 'enum', info: firstLine(s.description) });
    }
    if (s.type === 'boolean' || (Array.isArray(s.type) && s.type.includes('boolean'))) {
      for (const b of ['true', 'false']) out.set(b, { label: b, type: 'keyword' });
    }
  }
  // A block's `type`: every block type is an alternative of the parent's schema.
  if (!out.size && path.length && path[path.length - 1] === 'type') {
    const parents = schemasAt(root, path.slice(0, -1), undefined);
    for (const p of parents) {
      const t = typeConst(root, p);
      if (t) out.set(JSON.stringify(t), { label: JSON.stringify(t), type: 'enum', info: firstLine(p.description) });
    }
  }
  return [...out.values()];
}

/** A CodeMirror completion source for JSON text checked against `schema`. */
export function schemaCompletion(getSchema: () => Schema | undefined) {
  return (context: CompletionContext): CompletionResult | null => {
    const schema = getSchema();
    if (!schema) return null;
    const text = context.state.doc.toString();
    const loc = getLocation(text, context.pos);
    const word = context.matchBefore(/"?[\w$-]*"?/);
    const from = word ? word.from : context.pos;
    if (!context.explicit && (!word || word.from === word.to)) {
      // Only open by itself after a quote or a letter.
      const before = text.slice(Math.max(0, context.pos - 1), context.pos);
      if (!/["\w]/.test(before)) return null;
    }
    const tree = parseTree(text);
    const doc = tree ? getNodeValue(tree) : undefined;
    if (loc.isAtPropertyKey) {
      const path = loc.path.slice(0, -1);
      const options = propertySuggestions(schema, path, doc);
      return options.length ? { from, options, validFor: /^"?[\w$-]*"?$/ } : null;
    }
    // A value: the object around it narrows the schema; the value itself may be half typed.
    const options = valueSuggestions(schema, loc.path, doc);
    return options.length ? { from, options, validFor: /^"?[\w$-]*"?$/ } : null;
  };
}

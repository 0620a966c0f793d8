// @vitest-environment node
// Diagnostics placed in the editor's text, and completion from the engine's real schema.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, schema, validate, Engine, isOdeError } from '@ode/engine';
import { rangeOfPointer, rangeOfLine, pointerSegments, offsetOfLineColumn } from './positions';
import { locate, forEditor } from './problems';
import { propertySuggestions, valueSuggestions, schemasAt, type Schema } from './schema';

const DOC = `{
  "ode": 1,
  "content": [
    {"type": "heading", "level": 1, "text": "Title"},
    {
      "type": "paragraf",
      "text": "typo"
    },
    {"type": "paragraph", "text": "a/b", "style": "missing"}
  ]
}`;

beforeAll(async () => {
  await init();
});

describe('positions', () => {
  it('decodes JSON pointers', () => {
    expect(pointerSegments('')).toEqual([]);
    expect(pointerSegments('/content/10/a~1b/c~0d')).toEqual(['content', 10, 'a/b', 'c~d']);
  });

  it('finds the value a pointer names, from its key', () => {
    const r = rangeOfPointer(DOC, '/content/1/type')!;
    expect(DOC.slice(r.from, r.to)).toBe('"type": "paragraf"');
    const whole = rangeOfPointer(DOC, '/content/1')!;
    // A multi-line value is marked on its first line only.
    expect(DOC.slice(whole.from, whole.to)).toBe('{');
  });

  it('falls back to the deepest existing value for a missing one', () => {
    const r = rangeOfPointer(DOC, '/content/0/missing')!;
    expect(DOC.slice(r.from, r.to)).toBe('{"type": "heading", "level": 1, "text": "Title"}');
  });

  it('maps lines and columns', () => {
    expect(offsetOfLineColumn(DOC, 2, 3)).toBe(DOC.indexOf('"ode"'));
    const r = rangeOfLine(DOC, 2, 3);
    expect(DOC.slice(r.from, r.to)).toBe('"ode": 1,');
    expect(offsetOfLineColumn(DOC, 99, 1)).toBe(DOC.length);
  });
});

describe('problems', () => {
  it("places the engine's diagnostics of a document where they point", () => {
    const problems = locate({ mode: 'document', text: DOC }, validate(DOC));
    const typo = problems.find((p) => p.where === '/content/1/type')!;
    expect(typo.severity).toBe('error');
    expect(typo.hints).toContain('did you mean "paragraph"?');
    expect(DOC.slice(typo.range!.from, typo.range!.to)).toContain('"paragraf"');
    const cm = forEditor(problems, 'text');
    expect(cm.length).toBe(problems.filter((p) => p.range).length);
    expect(cm[0].message).toContain('unknown block type');
  });

  it('places syntax errors at their line', () => {
    const broken = '{\n  "ode": 1,\n  "content": [}\n';
    const problems = locate({ mode: 'document', text: broken }, validate(broken));
    expect(problems[0].where).toMatch(/^line 3, column \d+$/);
    expect(broken.slice(problems[0].range!.from, problems[0].range!.to)).toContain('}');
  });

  it("sends a template's data errors to the data editor", () => {
    const engine = new Engine();
    const template = '{"ode": 1, "content": [{"type": "paragraph", "text": "{{ name }}"}]}';
    const data = '{\n  "name": \n}';
    let diagnostics;
    try {
      engine.renderTemplate(template, data, 'svg');
    } catch (e) {
      if (!isOdeError(e)) throw e;
      diagnostics = e.diagnostics;
    }
    const [p] = locate({ mode: 'template', text: template, data }, diagnostics!);
    expect(p.target).toBe('data');
    expect(p.where).toMatch(/^line 3/);
    expect(forEditor([p], 'text')).toEqual([]);
    expect(forEditor([p], 'data')).toHaveLength(1);
  });
});

describe('schema completion', () => {
  const s = () => schema() as Schema;
  const labels = (c: { label: string }[]) => c.map((x) => x.label);

  it('suggests the top-level properties a document lacks', () => {
    const names = labels(propertySuggestions(s(), [], { ode: 1 }));
    expect(names).toContain('content');
    expect(names).toContain('metadata');
    expect(names).not.toContain('ode');
  });

  it("narrows a block's properties by its type", () => {
    const doc = { ode: 1, content: [{ type: 'heading', text: 'x' }] };
    const names = labels(propertySuggestions(s(), ['content', 0], doc));
    expect(names).toContain('level');
    expect(names).not.toContain('text');
    const table = labels(propertySuggestions(s(), ['content', 0], { ode: 1, content: [{ type: 'table' }] }));
    expect(table).toContain('rows');
    expect(table).not.toContain('level');
  });

  it('suggests block types and enum values', () => {
    const types = labels(valueSuggestions(s(), ['content', 0, 'type'], { ode: 1, content: [{}] }));
    for (const t of ['"paragraph"', '"heading"', '"table"', '"image"']) expect(types).toContain(t);
    expect(schemasAt(s(), ['content'], { ode: 1 }).length).toBeGreaterThan(0);
  });
});

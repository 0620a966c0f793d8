// A CodeMirror 6 editor for JSON (with schema completion) or Markdown, showing the
// engine's diagnostics where they point.
import { useEffect, useRef } from 'react';
import { Annotation, EditorState, Compartment, type Extension } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { json } from '@codemirror/lang-json';
import { markdown } from '@codemirror/lang-markdown';
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { autocompletion } from '@codemirror/autocomplete';
import { indentWithTab } from '@codemirror/commands';
import { oneDark } from '@codemirror/theme-one-dark';
import { schemaCompletion, type Schema } from './schema';

export interface EditorProps {
  value: string;
  language: 'json' | 'markdown';
  onChange: (value: string) => void;
  diagnostics: CmDiagnostic[];
  schema?: Schema;
  dark: boolean;
  label: string;
  /** Receives the view, so that the problems list can move the cursor. */
  onView?: (view: EditorView | null) => void;
}

/** The language support of an editor: JSON with completion from the schema `getSchema` gives, or Markdown. */
function languageSupport(language: 'json' | 'markdown', getSchema: () => Schema | undefined): Extension {
  return language === 'json'
    ? [json(), autocompletion({ override: [schemaCompletion(getSchema)] })]
    : [markdown(), autocompletion()];
}

/** Marks a change that comes from outside (a document opened), not from typing. */
const external = Annotation.define<boolean>();

export function Editor({ value, language, onChange, diagnostics, schema, dark, label, onView }: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const lang = useRef(new Compartment());
  const theme = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;
  const schemaRef = useRef<Schema | undefined>(schema);
  schemaRef.current = schema;

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          keymap.of([indentWithTab]),
          EditorView.lineWrapping,
          lintGutter(),
          lang.current.of(languageSupport(language, () => schemaRef.current)),
          theme.current.of(dark ? oneDark : []),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged && !u.transactions.some((t) => t.annotation(external))) changed.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    onView?.(v);
    return () => {
      onView?.(null);
      v.destroy();
      view.current = null;
    };
    // The editor is made once; later prop changes are applied by the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // A value from outside (an example or a stored document opened): replace the text.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value }, annotations: external.of(true) });
    }
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch({
      effects: lang.current.reconfigure(languageSupport(language, () => schemaRef.current)),
    });
  }, [language]);

  useEffect(() => {
    view.current?.dispatch({ effects: theme.current.reconfigure(dark ? oneDark : []) });
  }, [dark]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const len = v.state.doc.length;
    const clamped = diagnostics
      .map((d) => ({ ...d, from: Math.min(d.from, len), to: Math.min(Math.max(d.to, d.from), len) }));
    v.dispatch(setDiagnostics(v.state, clamped));
  }, [diagnostics]);

  return <div className="editor" ref={host} data-testid={`editor-${label}`} />;
}

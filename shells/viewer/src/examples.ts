// The repository's examples, bundled with the viewer, and the images they use.
import invoice from '../../../examples/invoice.json?raw';
import report from '../../../examples/report.json?raw';
import handbook from '../../../examples/handbook.json?raw';
import showcase from '../../../examples/showcase.json?raw';
import invoiceTemplate from '../../../examples/invoice-template.json?raw';
import invoiceData from '../../../examples/invoice-data.json?raw';
import letterTemplate from '../../../examples/letter-template.json?raw';
import letters from '../../../examples/letters.jsonl?raw';
import notes from '../../../examples/notes.md?raw';
import logo from '../../../examples/assets/logo.svg?url';
import chart from '../../../examples/assets/chart.png?url';
import photo from '../../../examples/assets/photo.jpg?url';
import type { Source } from './engine/protocol';

export interface Example {
  id: string;
  title: string;
  source: Source;
}

function firstLine(jsonl: string): string {
  const line = jsonl.split('\n').find((l) => l.trim()) ?? '{}';
  return JSON.stringify(JSON.parse(line), null, 2);
}

export const EXAMPLES: Example[] = [
  { id: 'invoice', title: 'Invoice', source: { mode: 'document', text: invoice } },
  { id: 'report', title: 'Report (19 pages)', source: { mode: 'document', text: report } },
  { id: 'handbook', title: 'Handbook', source: { mode: 'document', text: handbook } },
  { id: 'showcase', title: 'Showcase', source: { mode: 'document', text: showcase } },
  { id: 'invoice-template', title: 'Invoice template + data', source: { mode: 'template', text: invoiceTemplate, data: invoiceData } },
  { id: 'letter-template', title: 'Letter template + data', source: { mode: 'template', text: letterTemplate, data: firstLine(letters) } },
  { id: 'notes', title: 'Field notes (Markdown)', source: { mode: 'markdown', text: notes } },
];

/** The images the examples name, by the key their `src` uses. */
export const EXAMPLE_ASSETS: Record<string, string> = {
  'assets/logo.svg': logo,
  'assets/chart.png': chart,
  'assets/photo.jpg': photo,
};

export async function loadExampleAssets(): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  await Promise.all(
    Object.entries(EXAMPLE_ASSETS).map(async ([key, url]) => {
      const r = await fetch(url);
      if (r.ok) out[key] = new Uint8Array(await r.arrayBuffer());
    }),
  );
  return out;
}

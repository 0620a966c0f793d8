// A TypeScript program using @ode/engine as a consumer would: `tsc --noEmit` checks that
// the package's types describe its API (npm test runs it; the calls are also exercised
// at run time by engine.test.js).
import {
  Engine,
  FONT_FILES,
  init,
  isOdeError,
  renderPdf,
  schema,
  validate,
  type Diagnostic,
  type LayoutInfo,
  type RenderResult,
} from '@ode/engine';
import * as lite from '@ode/engine/lite';

export async function preview(json: string, logo: Uint8Array): Promise<string[]> {
  await init();
  const engine = new Engine();
  engine.addAsset('assets/logo.svg', logo);
  const problems: Diagnostic[] = engine.validate(json);
  for (const d of problems) {
    const where: string = d.line !== undefined ? `line ${d.line}, column ${d.column ?? 0}` : d.path;
    const severity: 'error' | 'warning' = d.severity;
    console.log(`${severity} ${where}: ${d.message} ${d.hints.join(', ')}`);
  }
  const pages: string[] = engine.renderSvg(json);
  const count: number = engine.pageCount({ ode: 1, content: [] });
  return count > 0 ? pages : [];
}

export function download(json: string): Uint8Array | undefined {
  try {
    return renderPdf(json);
  } catch (e) {
    if (isOdeError(e)) {
      const paths: string[] = e.diagnostics.map((d) => d.path);
      console.error(e.message, paths);
    }
    return undefined;
  }
}

export function outputOf(result: RenderResult): number {
  // A discriminated union: narrowing on `format` types `output`.
  if (result.format === 'pdf') {
    const bytes: Uint8Array = result.output;
    return bytes.length;
  }
  const svgs: string[] = result.output;
  return svgs.length + result.pages + result.warnings.length;
}

export function templates(engine: Engine): number {
  const letter = engine.renderTemplate(
    { ode: 1, content: [{ type: 'paragraph', text: 'Dear {{ name }}' }] },
    { name: 'Ada' },
    'pdf',
  );
  const notes = engine.renderMarkdown('# Notes\n\nSome *text*.', 'svg');
  const families: string[] = engine.families();
  const keys: string[] = engine.assetKeys();
  const valid: Diagnostic[] = validate('{"ode": 1, "content": []}');
  const s: object = schema();
  return outputOf(letter) + outputOf(notes) + families.length + keys.length + valid.length + Object.keys(s).length + FONT_FILES.length;
}

export async function smallDownload(): Promise<Uint8Array> {
  await lite.init();
  const engine = new lite.Engine();
  const added: string[] = await lite.loadDefaultFonts(engine, ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']);
  const url: URL = lite.fontUrl('DejaVuSerif.ttf');
  console.log(added, url.href, lite.Engine.hasBuiltinFonts());
  engine.free();
  return lite.renderPdf('{"ode": 1, "content": []}');
}

export function livePreview(engine: Engine): string[] {
  const info: LayoutInfo = engine.layout({ ode: 1, content: [{ type: 'paragraph', text: 'Hi' }] });
  const t: LayoutInfo = engine.layoutTemplate('{"ode": 1, "content": []}', { name: 'x' });
  const m: LayoutInfo = engine.layoutMarkdown('# Hi');
  const width: number = info.sizes[0].width + t.sizes.length + m.warnings.length;
  console.log(width);
  return Array.from({ length: info.pages }, (_, i) => engine.pageSvg(i));
}

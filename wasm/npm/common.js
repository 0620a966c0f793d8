// Shared by every entry point of @ode/engine.

/** The DejaVu font files shipped in `dist/fonts/` (the faces the full build embeds). */
export const FONT_FILES = Object.freeze([
  'DejaVuSans.ttf',
  'DejaVuSans-Bold.ttf',
  'DejaVuSans-Oblique.ttf',
  'DejaVuSans-BoldOblique.ttf',
  'DejaVuSerif.ttf',
  'DejaVuSerif-Bold.ttf',
  'DejaVuSerif-Italic.ttf',
  'DejaVuSerif-BoldItalic.ttf',
  'DejaVuSansMono.ttf',
  'DejaVuSansMono-Bold.ttf',
  'DejaVuSansMono-Oblique.ttf',
  'DejaVuSansMono-BoldOblique.ttf',
]);

/** Whether `e` is an error thrown by the engine, with its `diagnostics`. */
export function isOdeError(e) {
  return e instanceof Error && e.name === 'OdeError' && Array.isArray(e.diagnostics);
}

/**
 * `init()` for one wasm-bindgen build: `load()` gives what the generated init takes
 * (a URL, a Response or the module's bytes). Runs once; a failed load may be retried.
 */
export function makeInit(wbInit, load) {
  let ready;
  return function init(input) {
    if (!ready) {
      ready = (async () => {
        await wbInit({ module_or_path: input === undefined ? await load() : await input });
      })();
      ready.catch(() => {
        ready = undefined;
      });
    }
    return ready;
  };
}

/** Adds font files to `target` (an Engine, or the module itself for its shared engine). */
export async function addFonts(target, files, read) {
  const families = [];
  for (const file of files) {
    for (const family of target.addFont(await read(file))) {
      if (!families.includes(family)) families.push(family);
    }
  }
  return families;
}

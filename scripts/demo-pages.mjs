// The demo pages' shared frame. Each demos/**/index.html holds only what is its own: the lines for
// its <head> (title, its stylesheet, a <style>), then its <h1>, then the rest of its body. The
// build (scripts/build.mjs) wraps that in the frame every page shares: doctype, charset and
// viewport, the shared stylesheet, the header with the navigation between the pages (the page
// itself marked current) and the adapter line, and the script tag of the page's bundle.
//
//   renderDemoPage(source, page)   page: the file's path under demos/ ('index.html', 'dcgan/index.html')

/** The navigation, in order: each page's folder under demos/ ('' for the gallery) and its link text. */
export const DEMO_NAV = [
  ['', 'Gallery'],
  ['dcgan', 'DCGAN'],
  ['train', 'Train any model'],
  ['draw', 'Draw → pix2pix'],
  ['game', '2-D game'],
  ['upscale', 'Super-resolution'],
  ['inspector', 'Kernel inspector'],
  ['bench', 'Benchmark'],
];

/** Renders one page from its source (the parts described above). */
export function renderDemoPage(source, page) {
  const dir = page.split('/').slice(0, -1).join('/');
  const up = dir === '' ? './' : '../'.repeat(dir.split('/').length);
  const lines = source.replace(/\n$/, '').split('\n');
  const h1 = lines.findIndex((l) => l.startsWith('<h1'));
  if (h1 < 0)
    throw new Error(
      `demos/${page}: no <h1> line at the start of a line (a page's source is its head lines, its <h1>, then its body: see scripts/demo-pages.mjs)`,
    );
  const [title, ...head] = lines.slice(0, h1);
  if (!title?.startsWith('<title>'))
    throw new Error(`demos/${page}: the first line must be the page's <title> (see scripts/demo-pages.mjs)`);
  const indent = (ls, pad) => ls.map((l) => (l === '' ? l : pad + l));
  const nav = DEMO_NAV.map(([to, text]) =>
    to === dir ? `<a href="./" aria-current="page">${text}</a>` : `<a href="${up}${to ? `${to}/` : ''}">${text}</a>`,
  ).join('');
  // The gallery (demos/index.html) has its code in demos/gallery/; every other page beside it.
  const script = dir === '' ? './gallery/main.js' : './main.js';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '  <meta charset="utf-8">',
    '  <meta name="viewport" content="width=device-width, initial-scale=1">',
    '  <link rel="icon" href="data:,">',
    `  ${title}`,
    `  <link rel="stylesheet" href="${up}shared/style.css">`,
    ...indent(head, '  '),
    '</head>',
    '<body>',
    '  <header class="top">',
    `    ${lines[h1]}`,
    `    <nav>${nav}</nav>`,
    '    <span id="adapter">starting WebGPU…</span>',
    '  </header>',
    ...indent(lines.slice(h1 + 1), '  '),
    `  <script type="module" src="${script}"></script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

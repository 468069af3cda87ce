// The trained-model zoo (zoo/<model>/, written by scripts/zoo.mjs) as the demo pages see it. The
// demos build (scripts/build.mjs demos) calls buildZooSite(zooDir, dist/demos/zoo), which writes:
//
//   zoo/index.json                 the manifest the pages read (demos/shared/zoo.ts ZooManifest):
//                                  { format, models: { <model>: entry } }, one entry per zoo folder
//                                  that ships weights (<model>.safetensors), made from the file's own
//                                  metadata (step, config, settings, networks) and run.json (the
//                                  run's planned steps, adapters, wall time); nothing is typed in
//   zoo/<model>/<model>.safetensors  the shipped float16 networks, as committed
//   zoo/<model>/grid.png, run.json, recipe.json, eval.json, metrics.jsonl   when present
//   zoo/<model>/resume.safetensors the run's float32 checkpoint (zoo/<model>/resume/, networks,
//                                  optimisers, noise stream) when it is of the shipped step and run:
//                                  a page that continues training from the shipped weights then
//                                  continues the run itself instead of a fresh D and fresh optimisers
//   zoo/index.html                 the cards of docs/zoo.md (scripts/zoo.mjs renderCards, the same
//                                  generator) as a page, one anchor per model (#<model>), which the
//                                  pages' "see its card" links open
//
// The zoo folder: $GAN_ZOO_DIR, else the repository's zoo/ (as the CLI finds it, cli/zoo.ts).
// Nothing here names a model.

import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, renderCards } from './zoo.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The manifest's format tag (demos/shared/zoo.ts checks it). */
export const ZOO_MANIFEST_FORMAT = 'webgpu-gan/zoo-manifest/1';

/** The zoo folder the build serves: $GAN_ZOO_DIR, else the repository's zoo/. */
export function defaultZooDir() {
  return resolve(process.env.GAN_ZOO_DIR ?? join(ROOT, 'zoo'));
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const jsonMeta = (meta, key, file) => {
  try {
    return JSON.parse(meta[key] ?? 'null');
  } catch (e) {
    throw new Error(`${file}: metadata '${key}' is not JSON (${e.message}); re-export it with node scripts/zoo.mjs export`);
  }
};

/** Metadata only: step, config, extra and zoo entries of a checkpoint file. */
function checkpointMeta(file) {
  const { metadata } = readSafetensors(file);
  if (metadata.format !== 'webgpu-gan/checkpoint')
    throw new Error(
      `${file}: not an engine checkpoint (metadata format ${JSON.stringify(metadata.format)}); re-export it with node scripts/zoo.mjs export`,
    );
  return {
    step: Number(metadata.step),
    config: jsonMeta(metadata, 'config', file),
    extra: jsonMeta(metadata, 'extra', file),
    zoo: jsonMeta(metadata, 'zoo', file),
    models: jsonMeta(metadata, 'models', file) ?? [],
    optimizers: Object.keys(jsonMeta(metadata, 'optimizers', file) ?? {}),
  };
}

/**
 * One model's manifest entry from its zoo folder, or null when it ships no weights. Paths are
 * relative to the site's zoo/ folder.
 */
export function zooEntry(zooDir, model) {
  const dir = join(zooDir, model);
  const weights = join(dir, `${model}.safetensors`);
  if (!existsSync(weights)) return null;
  const meta = checkpointMeta(weights);
  const cfg = meta.config ?? {};
  if (cfg.model !== model)
    throw new Error(`${weights}: the file is a '${cfg.model}' checkpoint, in the folder of '${model}' (zoo/<model>/<model>.safetensors)`);
  const run = existsSync(join(dir, 'run.json')) ? readJson(join(dir, 'run.json')) : null;
  const history = Array.isArray(run?.history) ? run.history : [];
  const adapters = [...new Set(history.map((s) => s.adapter).filter(Boolean))];
  const entry = {
    model,
    step: meta.step,
    /** The run's planned steps (recipe), when known. */
    steps: Number(run?.settings?.steps ?? cfg.settings?.steps ?? meta.zoo?.steps) || null,
    config: cfg.config,
    batch: Number(cfg.settings?.batch),
    lr: Number(cfg.settings?.lr),
    seed: Number(cfg.seed ?? 0),
    dataset: String(meta.extra?.dataset ?? cfg.settings?.dataset ?? ''),
    networks: Array.isArray(meta.extra?.networksOnly) ? meta.extra.networksOnly : meta.models,
    file: `${model}/${model}.safetensors`,
    grid: existsSync(join(dir, 'grid.png')) ? `${model}/grid.png` : null,
    /** The run's logged statistics (gan train's metrics.jsonl), for the pages' charts. */
    metrics: existsSync(join(dir, 'metrics.jsonl')) ? `${model}/metrics.jsonl` : null,
    card: `index.html#${model}`,
    adapters: adapters.length ? adapters : (meta.zoo?.adapters ?? []),
    wallSeconds: history.length ? history.reduce((a, s) => a + (s.wallSeconds || 0), 0) : (meta.zoo?.wallSeconds ?? null),
    resume: null,
  };
  // The run's own float32 checkpoint, when it is of the same step and run: continuing from it is the
  // run itself (D, optimisers, noise stream), not the shipped networks with fresh ones.
  const resume = join(dir, 'resume', 'checkpoint.safetensors');
  if (existsSync(resume)) {
    const r = checkpointMeta(resume);
    if (
      r.step === meta.step &&
      r.config?.model === model &&
      JSON.stringify(r.config?.config) === JSON.stringify(cfg.config) &&
      r.optimizers.length > 0
    )
      entry.resume = { file: `${model}/resume.safetensors`, step: r.step, networks: r.models, optimizers: r.optimizers };
  }
  return entry;
}

/** The manifest of every zoo folder that ships weights, by model name (sorted). */
export function zooManifest(zooDir) {
  const models = existsSync(zooDir)
    ? readdirSync(zooDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  const out = {};
  for (const m of models) {
    const e = zooEntry(zooDir, m);
    if (e) out[m] = e;
  }
  return { format: ZOO_MANIFEST_FORMAT, models: out };
}

// ---- the cards page ------------------------------------------------------------------------------

const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Inline markdown (code, bold, images, links) to HTML. `link(url)` maps a link's target to the
 * site's, or null to keep its text only.
 */
function inline(text, link) {
  const parts = text.split(/(`[^`]*`)/);
  return parts
    .map((p, i) => {
      if (i % 2 === 1) return `<code>${escapeHtml(p.slice(1, -1))}</code>`;
      let h = escapeHtml(p);
      h = h.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
      h = h.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_m, alt, url) => {
        const to = link(url);
        return to ? `<img alt="${alt}" src="${to}" class="pixels zoo-grid">` : alt;
      });
      h = h.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, t, url) => {
        const to = url.startsWith('#') ? url : link(url);
        return to ? `<a href="${to}">${t}</a>` : t;
      });
      return h;
    })
    .join('');
}

/**
 * The subset of markdown scripts/zoo.mjs writes (headings, paragraphs, lists, tables, fenced code,
 * inline code, bold, links, images; HTML comments dropped) as HTML; headings get their text as id.
 */
export function markdownToHtml(md, link) {
  const lines = md.replace(/<!--[\s\S]*?-->/g, '').split('\n');
  const out = [];
  let i = 0;
  const para = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '), link)}</p>`);
    para.length = 0;
  };
  while (i < lines.length) {
    const l = lines[i];
    if (l.startsWith('```')) {
      flush();
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) code.push(lines[i]);
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
      i++;
      continue;
    }
    const h = /^(#{1,4}) (.*)$/.exec(l);
    if (h) {
      flush();
      const id = h[2]
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, '-');
      out.push(`<h${h[1].length} id="${id}">${inline(h[2], link)}</h${h[1].length}>`);
      i++;
      continue;
    }
    if (l.startsWith('|')) {
      flush();
      const rows = [];
      for (; i < lines.length && lines[i].startsWith('|'); i++) rows.push(lines[i]);
      const cells = (r) =>
        r
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim());
      const body = rows.filter((r) => !/^\|[\s|:-]+\|$/.test(r));
      out.push(
        '<table>',
        `<tr>${cells(body[0])
          .map((c) => `<th>${inline(c, link)}</th>`)
          .join('')}</tr>`,
        ...body.slice(1).map(
          (r) =>
            `<tr>${cells(r)
              .map((c) => `<td>${inline(c, link)}</td>`)
              .join('')}</tr>`,
        ),
        '</table>',
      );
      continue;
    }
    const li = /^(\s*)(?:[-*]|\d+\.) (.*)$/.exec(l);
    if (li) {
      flush();
      const ordered = /^\s*\d+\./.test(l);
      const items = [];
      for (; i < lines.length; i++) {
        const m = /^\s*(?:[-*]|\d+\.) (.*)$/.exec(lines[i]);
        if (m) items.push(m[1]);
        else if (/^\s{2,}\S/.test(lines[i]) && items.length) items[items.length - 1] += ` ${lines[i].trim()}`;
        else break;
      }
      const tag = ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.map((t) => `<li>${inline(t, link)}</li>`).join('')}</${tag}>`);
      continue;
    }
    if (l.trim() === '') flush();
    else para.push(l.trim());
    i++;
  }
  flush();
  return out.join('\n');
}

/**
 * The cards page: docs/zoo.md's generator run on `zooDir`, its links pointed at the site's copies.
 * Should the generator fail on a folder, each shipped model still gets its anchor and step.
 */
export function cardsPage(zooDir, models, manifest = zooManifest(zooDir)) {
  let md;
  try {
    md = renderCards(zooDir);
  } catch (e) {
    md = [
      '# Trained models (the zoo)',
      '',
      `The cards could not be generated here (${e.message}); see docs/zoo.md in the repository.`,
      ...Object.values(manifest.models).flatMap((m) => [
        '',
        `## ${m.model}`,
        '',
        `- trained: step ${m.step}${m.steps ? ` of ${m.steps}` : ''}`,
      ]),
    ].join('\n');
  }
  const folders = new Set(models);
  // scripts/zoo.mjs links files as docs/-relative paths (../zoo/<model>/<file>): the site serves
  // those of a model's folder beside this page; other links keep their text.
  const link = (url) => {
    const m = /(?:^|\/)([^/]+)\/([^/]+)$/.exec(url);
    if (!m || !folders.has(m[1])) return null;
    return `${m[1]}/${m[2]}`;
  };
  const body = markdownToHtml(md, link);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '  <meta charset="utf-8">',
    '  <meta name="viewport" content="width=device-width, initial-scale=1">',
    '  <link rel="icon" href="data:,">',
    '  <title>Trained models · webgpu-gan</title>',
    '  <link rel="stylesheet" href="../shared/style.css">',
    '  <style>main { max-width: 60rem; margin: 0 auto; padding: 1rem; } img.zoo-grid { width: 256px; } table { border-collapse: collapse; } td, th { padding: 0.2rem 0.5rem; border-bottom: 1px solid #ddd; text-align: left; } h2 { margin-top: 2rem; }</style>',
    '</head>',
    '<body>',
    '  <main>',
    '  <p><a href="../">← gallery</a></p>',
    body,
    '  </main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Files of a model's zoo folder the site serves beside its weights, when present. */
const SERVED = ['grid.png', 'run.json', 'recipe.json', 'eval.json', 'metrics.jsonl'];

/**
 * Writes the site's zoo/ folder (see the header) from `zooDir` into `outDir`; returns the manifest.
 * `outDir` is replaced.
 */
export function buildZooSite(zooDir, outDir) {
  const manifest = zooManifest(zooDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const folders = existsSync(zooDir)
    ? readdirSync(zooDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
    : [];
  for (const m of folders) {
    const from = join(zooDir, m);
    const to = join(outDir, m);
    mkdirSync(to, { recursive: true });
    for (const f of SERVED) if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
    const e = manifest.models[m];
    if (!e) continue;
    copyFileSync(join(from, `${m}.safetensors`), join(to, `${m}.safetensors`));
    if (e.resume) copyFileSync(join(from, 'resume', 'checkpoint.safetensors'), join(to, 'resume.safetensors'));
  }
  writeFileSync(join(outDir, 'index.json'), JSON.stringify(manifest, null, 1) + '\n');
  writeFileSync(join(outDir, 'index.html'), cardsPage(zooDir, folders, manifest));
  return manifest;
}

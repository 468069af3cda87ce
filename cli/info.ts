// `gan info`: which GPU adapter the engine gets here, its limits and features, and the models the
// CLI can train. Useful first thing on a new machine (and in bug reports).

import { describeAdapter, fmtBytes } from '../engine/device.js';
import { recipes } from '../nets/registry.js';
import { acquireEngine, out, parseOrHelp, table } from './common.js';

const spec = {
  command: 'gan info',
  description: 'Print the WebGPU adapter, its limits and features, and the models available.',
  options: {
    json: { type: 'boolean', help: 'print one JSON object instead of tables' },
  },
} as const;

/** Limits worth knowing for this engine, in the order shown. Byte-sized ones print as sizes. */
const LIMITS: readonly [string, boolean][] = [
  ['maxStorageBufferBindingSize', true],
  ['maxBufferSize', true],
  ['maxComputeWorkgroupStorageSize', true],
  ['maxComputeInvocationsPerWorkgroup', false],
  ['maxComputeWorkgroupSizeX', false],
  ['maxComputeWorkgroupSizeY', false],
  ['maxComputeWorkgroupSizeZ', false],
  ['maxComputeWorkgroupsPerDimension', false],
  ['maxStorageBuffersPerShaderStage', false],
  ['maxUniformBufferBindingSize', true],
  ['minStorageBufferOffsetAlignment', false],
  ['minUniformBufferOffsetAlignment', false],
];

export async function infoCommand(argv: readonly string[]): Promise<number> {
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  const e = await acquireEngine('gan info');
  const a = e.adapter;
  const limits = e.limits as unknown as Record<string, number>;
  const features = [...e.features].sort();
  if (args.options.json) {
    out.line(JSON.stringify({
      adapter: a,
      limits: Object.fromEntries(LIMITS.map(([k]) => [k, limits[k]])),
      features,
      models: Object.keys(recipes),
      node: process.version,
    }));
    e.destroy();
    return 0;
  }
  out.line('Adapter');
  out.line(table([
    ['description', describeAdapter(a)],
    ['vendor', a.vendor || '-'],
    ['architecture', a.architecture || '-'],
    ['device', a.device || '-'],
    ['fallback (software)', a.isFallbackAdapter ? 'yes' : 'no'],
    ['backend', a.backend],
    ['node', process.version],
  ]));
  out.line('');
  out.line('Limits');
  out.line(table(LIMITS.filter(([k]) => typeof limits[k] === 'number').map(([k, bytes]) => [k, bytes ? `${fmtBytes(limits[k])} (${limits[k]})` : String(limits[k])])));
  out.line('');
  out.line('Features');
  const wanted = ['timestamp-query', 'shader-f16', 'subgroups'];
  out.line(table(wanted.map((f) => [f, e.features.has(f) ? 'yes' : 'no'])));
  const others = features.filter((f) => !wanted.includes(f));
  if (others.length) out.line(`  other: ${others.join(', ')}`);
  out.line('');
  out.line('Models');
  out.line(table(Object.values(recipes).map((r) => [r.name, r.description])));
  e.destroy();
  return 0;
}

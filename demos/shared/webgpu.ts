// Starting the engine on a page, and saying plainly what is wrong when it cannot start:
//   - no navigator.gpu (another browser, an old one, WebGPU off, or not a secure context);
//   - navigator.gpu but no adapter (blocklisted GPU, hardware acceleration off);
//   - the device lost later (driver reset, tab in the background too long, GPU removed).
// Each case renders a notice with how to fix it; the page decides what to do next.

import { describeAdapter, initEngine, type Engine } from '../../engine/device.js';
import { el } from './dom.js';

export type StartFailure = { kind: 'no-webgpu' | 'insecure' | 'no-adapter' | 'error'; message: string };

/** What this browser needs to do to get WebGPU, as short paragraphs. */
function howToEnable(kind: StartFailure['kind']): string[] {
  if (kind === 'insecure') {
    return [
      'WebGPU is only available in secure contexts: open the page from http://localhost (as `npm run demo` serves it) or over https.',
    ];
  }
  if (kind === 'no-adapter') {
    return [
      'The browser supports WebGPU but did not hand out a GPU adapter. The GPU or its driver may be blocklisted, or hardware acceleration is switched off.',
      'In Chrome or Edge: turn on "Use graphics acceleration when available" in Settings → System, then look at chrome://gpu for the WebGPU status. On Linux, try chrome://flags/#enable-unsafe-webgpu together with #enable-vulkan.',
    ];
  }
  return [
    'This browser does not expose WebGPU (navigator.gpu is missing).',
    'Use a recent Chrome or Edge (WebGPU is on by default since version 113 on Windows, macOS and ChromeOS), Safari 26 or later, or Firefox 141 or later on Windows.',
    'On Linux, Chrome may need chrome://flags/#enable-unsafe-webgpu (and #enable-vulkan); restart the browser after changing a flag.',
  ];
}

/** Replaces `container`'s content with a notice explaining why there is no GPU. */
export function renderStartFailure(container: HTMLElement, f: StartFailure): void {
  container.replaceChildren(
    el(
      'div',
      { class: 'notice error', role: 'alert', id: 'webgpu-missing', 'data-kind': f.kind },
      el(
        'h2',
        {},
        f.kind === 'no-adapter' ? 'No WebGPU adapter' : f.kind === 'error' ? 'WebGPU failed to start' : 'WebGPU is not available',
      ),
      ...howToEnable(f.kind).map((p) => el('p', {}, p)),
      f.kind === 'error' ? el('pre', {}, f.message) : null,
    ),
  );
}

/** Acquires the engine, or describes why it cannot (nothing is thrown for a missing GPU). */
export async function startEngine(): Promise<{ engine: Engine } | { failure: StartFailure }> {
  const nav = navigator as Navigator & { gpu?: GPU };
  if (!nav.gpu) {
    return { failure: { kind: window.isSecureContext ? 'no-webgpu' : 'insecure', message: 'navigator.gpu is undefined' } };
  }
  try {
    return { engine: await initEngine({ log: false }) };
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    return { failure: { kind: /adapter/i.test(message) ? 'no-adapter' : 'error', message } };
  }
}

/** One line naming the adapter and the features the engine uses. */
export function adapterLine(e: Engine): string {
  const feats = ['timestamp-query', 'shader-f16', 'subgroups'].filter((f) => e.features.has(f));
  return `${describeAdapter(e.adapter)} · features: ${feats.join(', ') || 'none'}`;
}

/** Calls `onLost` once when this engine's device is lost (reason 'destroyed' when the page destroyed it). */
export function watchDeviceLoss(e: Engine, onLost: (reason: string) => void): void {
  e.device.lost.then((info) => onLost(`${info.reason}${info.message ? `: ${info.message.replace(/\.+$/, '')}` : ''}`));
}

// Small DOM helpers shared by the demo pages (no framework: each page is a few panels).

/** The element with this id; throws when the page's HTML lacks it (a build mistake, not user error). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`demo page: no element #${id} in the HTML`);
  return e as T;
}

type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element: el('a', { href: '...', class: 'x' }, 'text', child). `on*` attrs become listeners. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** A short status line in `#status`-like elements; kind picks the colour. */
export function setStatus(target: HTMLElement, text: string, kind: 'info' | 'ok' | 'warn' | 'error' = 'info'): void {
  target.textContent = text;
  target.dataset.kind = kind;
}

/** Formats a number for the stats panel: 4 significant digits, '—' for missing. */
export function fmt(v: number | undefined | null, digits = 4): string {
  if (v === undefined || v === null) return '—';
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/** Integer query parameter with bounds; the default when absent or out of range. */
export function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const v = Number(raw);
  return Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

/** Waits for the next animation frame (or a macrotask when the tab is hidden), so the UI can paint. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    if (document.visibilityState === 'hidden') setTimeout(resolve, 0);
    else requestAnimationFrame(() => resolve());
  });
}

// The training page's layout: the panels it builds inside the page's <main id="app"> (samples with
// the model picker and direction button; training with its controls, start-up progress bar, stats
// and status line; the charts and the page's extra panels join them later), the lost-device banner
// and the notices (restored checkpoint, software adapter). Returns the elements the page wires.

import { recipes } from '../../../nets/registry.js';
import { byId, el } from '../dom.js';

/** The elements of a training page that the page reads and wires. */
export type PageLayout = ReturnType<typeof buildLayout>;

/** The training page's panels, inside the page's <main id="app">; returns the elements it wires. */
export function buildLayout(withPicker: boolean) {
  const button = (id: string, text: string, title?: string, cls?: string) => el('button', { id, disabled: true, title, class: cls }, text);
  const picker = withPicker
    ? el('select', { id: 'model', 'aria-label': 'model' }, ...Object.keys(recipes).map((m) => el('option', { value: m }, m)))
    : null;
  const direction = el('button', { id: 'btn-direction', class: 'hidden', disabled: true }, 'Show B → A');
  const samples = el('canvas', { id: 'samples', class: 'pixels', width: 1, height: 1, 'aria-label': 'generated samples' });
  const samplesNote = el('p', { class: 'muted small', id: 'samples-note' });
  // Which weights the networks hold (trained ones shipped with the project, untrained, a checkpoint)
  // and the switch between trained and untrained (training-page.ts showWeights).
  const weights = el(
    'div',
    { class: 'controls weights', id: 'weights', 'data-weights': '' },
    el('span', { id: 'weights-text' }, 'weights: loading…'),
    button('btn-trained', 'Trained weights', 'load the trained weights shipped with the project (zoo/, docs/zoo.md)'),
    button('btn-untrained', 'Untrained', "new untrained networks from the seed (the page's own run)"),
  );
  const samplesPanel = el(
    'section',
    { class: 'panel', id: 'panel-samples' },
    el('h2', {}, 'Samples ', el('span', { class: 'muted small', id: 'samples-caption' })),
    weights,
    el('div', { class: 'controls' }, picker ? el('label', {}, 'model ', picker) : null, direction),
    samples,
    samplesNote,
  );
  const upload = el('input', { id: 'upload', type: 'file', accept: '.safetensors', class: 'hidden', disabled: true });
  const uploadLabel = el('label', { class: 'button', id: 'upload-label', title: 'load a .safetensors checkpoint' }, 'Upload…', upload);
  const statRows = el('div', { class: 'stat-rows' });
  const status = el('p', { class: 'status', id: 'status', 'aria-live': 'polite' }, 'loading…');
  const lr = el('input', { id: 'lr', type: 'number', step: '0.0001', min: '0.000001', max: '0.5' });
  const seed = el('input', { id: 'seed', type: 'number', step: '1', min: '0' });
  const trainingPanel = el(
    'section',
    { class: 'panel', id: 'panel-training' },
    el('h2', {}, 'Training'),
    el(
      'div',
      { class: 'controls' },
      button('btn-toggle', 'Pause', undefined, 'primary'),
      button('btn-step', 'Step', 'one training step (while paused)'),
      button('btn-reset', 'Reset', 'new networks from the seed'),
    ),
    el('div', { class: 'controls' }, el('label', {}, 'learning rate ', lr), button('btn-lr', 'Apply'), el('label', {}, 'seed ', seed)),
    el(
      'div',
      { class: 'controls' },
      button('btn-save-idb', 'Save in browser', 'keep a checkpoint in this browser (IndexedDB)'),
      button('btn-load-idb', 'Load from browser', 'restore the checkpoint kept in this browser'),
      el('span', { class: 'sep' }),
      button('btn-download', 'Download .safetensors', 'download a .safetensors checkpoint (gan sample / gan train --resume read it)'),
      uploadLabel,
    ),
    el(
      'div',
      { id: 'progress', class: 'progress', role: 'status' },
      el('progress', { id: 'progress-bar' }),
      el('span', { id: 'progress-text' }, 'starting WebGPU…'),
    ),
    el(
      'dl',
      { class: 'stats' },
      el('dt', {}, 'step'),
      el('dd', { id: 'stat-step' }, '0'),
      el('dt', {}, 'steps / s'),
      el('dd', { id: 'stat-sps' }, 'not training yet'),
      el('dt', {}, 'step time'),
      el('dd', { id: 'stat-steptime' }, 'measured after the first step'),
      statRows,
      el('dt', {}, 'model'),
      el('dd', { id: 'stat-model' }, '—'),
      el('dt', {}, 'data'),
      el('dd', { id: 'stat-data' }, '—'),
      el('dt', {}, 'checkpoint'),
      el('dd', { id: 'stat-ckpt' }, 'none yet'),
    ),
    status,
  );
  const panels = el('div', { class: 'panels', id: 'panels' }, samplesPanel, trainingPanel);
  byId('app').replaceChildren(
    el('p', { class: 'lede', id: 'lede' }),
    el('div', { id: 'webgpu-status' }),
    el(
      'div',
      { id: 'lost-banner', class: 'notice error hidden', role: 'alert' },
      el('h2', {}, 'The GPU device was lost'),
      el('p', { id: 'lost-reason' }),
      el('p', {}, 'Training stopped. The page can start a new device and continue from the last checkpoint it kept.'),
      el('button', { id: 'btn-recover', class: 'primary' }, 'Resume from last checkpoint'),
    ),
    el('div', { id: 'restored-note', class: 'notice info hidden' }),
    el('div', { id: 'software-note', class: 'notice info hidden' }),
    panels,
  );
  return {
    status,
    adapter: byId('adapter'),
    toggle: byId<HTMLButtonElement>('btn-toggle'),
    step: byId<HTMLButtonElement>('btn-step'),
    reset: byId<HTMLButtonElement>('btn-reset'),
    lr,
    lrApply: byId<HTMLButtonElement>('btn-lr'),
    seed,
    saveIdb: byId<HTMLButtonElement>('btn-save-idb'),
    loadIdb: byId<HTMLButtonElement>('btn-load-idb'),
    download: byId<HTMLButtonElement>('btn-download'),
    upload,
    uploadLabel,
    picker,
    direction,
    weights,
    weightsText: byId('weights-text'),
    trained: byId<HTMLButtonElement>('btn-trained'),
    untrained: byId<HTMLButtonElement>('btn-untrained'),
    samples,
    samplesNote,
    statRows,
    panels,
    trainingPanel,
  };
}

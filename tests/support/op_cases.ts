// The op suite's test-case tables, one entry per registered op name: the input shapes and
// attributes tests/support/opcheck.ts runs each op on (forward vs the op's float64 reference,
// backward and double backward vs finite differences). The op itself (run, backward, reference,
// input sampler, tolerances) is registered in engine/ops/<file>.ts; its cases live here, beside the
// tests. A registered op with no entry here fails the op suite (tests/ops.test.ts), and so does an
// entry naming no registered op.

export interface OpCase {
  label?: string;
  /** Input shapes, in the order the op's run() takes them. */
  shapes: number[][];
  attrs?: Record<string, unknown>;
  /** Inputs to check gradients for (default: all). */
  gradInputs?: boolean[];
  /** Also check the gradient of the gradient (default: the spec's doubleBackward). */
  doubleBackward?: boolean;
  /** Check the backward at all (default true). */
  backward?: boolean;
}

const bcastCases: OpCase[] = [
  {
    shapes: [
      [3, 5],
      [3, 5],
    ],
  },
  {
    shapes: [
      [2, 3, 4, 5],
      [3, 1, 1],
    ],
  },
  {
    shapes: [
      [1, 7],
      [6, 1],
    ],
  },
  {
    shapes: [
      [2, 1, 3],
      [5, 1],
    ],
  },
];
const unaryShapes: OpCase[] = [{ shapes: [[2, 3, 5, 7]] }, { shapes: [[1000]] }];
const reduceCases: OpCase[] = [
  { shapes: [[2, 3, 4, 5]], attrs: { axes: [0, 2, 3], keepdim: false } },
  { shapes: [[2, 3, 4, 5]], attrs: { axes: [1], keepdim: true } },
  { shapes: [[7, 9]], attrs: { axes: undefined, keepdim: false } },
  { shapes: [[3, 130]], attrs: { axes: [-1], keepdim: false } },
];
const softmaxCases: OpCase[] = [
  { shapes: [[3, 7]], attrs: { dim: -1 } },
  { shapes: [[2, 3, 5]], attrs: { dim: 1 } },
  { shapes: [[2, 131]], attrs: { dim: -1 } },
  { shapes: [[5]], attrs: { dim: 0 } },
];
const randomCases: OpCase[] = [
  { shapes: [], attrs: { shape: [3, 7] } },
  { shapes: [], attrs: { shape: [1030] } },
];
/** Reduction losses: one case per reduction, n inputs of one shape. */
const redCases = (shape: number[], n = 2): OpCase[] =>
  (['mean', 'sum', 'none'] as const).map((reduction) => ({ shapes: Array.from({ length: n }, () => shape), attrs: { reduction } }));
const PAD_MODES = ['zeros', 'reflect', 'replicate'] as const;

/** Test cases by op name. */
export const opCases: Record<string, OpCase[]> = {
  // engine/ops/elementwise.ts
  ...Object.fromEntries(['add', 'sub', 'mul', 'div', 'maximum', 'minimum'].map((n) => [n, bcastCases])),
  ...Object.fromEntries(
    [
      'exp',
      'log',
      'sqrt',
      'rsqrt',
      'square',
      'reciprocal',
      'abs',
      'pow_scalar',
      'affine',
      'relu',
      'leaky_relu',
      'tanh',
      'sigmoid',
      'softplus',
      'elu',
      'clamp',
    ].map((n) => [n, unaryShapes]),
  ),

  // engine/ops/reduce.ts
  ...Object.fromEntries(['sum', 'mean', 'max', 'min'].map((n) => [n, reduceCases])),

  // engine/ops/softmax.ts
  ...Object.fromEntries(['softmax', 'log_softmax'].map((n) => [n, softmaxCases])),

  // engine/ops/random.ts
  rand: randomCases,
  randn: randomCases,
  bernoulli: randomCases,
  dropout: [{ shapes: [[2, 3, 5]] }, { shapes: [[41]] }],

  // engine/ops/conv.ts
  conv2d: [
    { shapes: [[2, 3, 7, 9], [4, 3, 3, 3], [4]], attrs: { padding: 1 }, label: 'odd sizes 3x3 pad 1, bias' },
    {
      shapes: [
        [1, 3, 8, 7],
        [5, 3, 3, 3],
      ],
      attrs: { stride: 2, padding: [1, 0, 2, 1] },
      label: 'stride 2, asymmetric padding',
    },
    { shapes: [[1, 2, 9, 8], [3, 2, 3, 3], [3]], attrs: { dilation: 2, padding: 2 }, label: 'dilation 2' },
    { shapes: [[2, 5, 4, 5], [7, 5, 1, 1], [7]], label: '1x1' },
    {
      shapes: [
        [2, 3, 8, 8],
        [4, 3, 4, 4],
      ],
      attrs: { stride: 2, padding: 1 },
      label: 'DCGAN 4x4 s2 p1',
    },
    { shapes: [[1, 2, 9, 9], [3, 2, 7, 7], [3]], attrs: { padding: 3 }, label: '7x7 pad 3' },
    // 4x4 kernels, as DCGAN's: the weight-gradient kernel for 2x2 ones (conv_wgrad|KK=4) was compiled
    // for these two cases only, about 10 CPU s on lavapipe with an empty shader cache (tests/README.md).
    {
      shapes: [
        [1, 18, 5, 4],
        [3, 18, 4, 4],
      ],
      attrs: { padding: [1, 0, 0, 1] },
      label: '18 input channels',
    },
    { shapes: [[1, 3, 5, 7], [19, 3, 4, 4], [19]], attrs: { stride: [1, 2], padding: [0, 1] }, label: '19 output channels' },
    {
      shapes: [
        [1, 2, 8, 9],
        [3, 2, 3, 2],
      ],
      attrs: { stride: [2, 3], padding: [1, 2, 0, 1], dilation: [2, 1] },
      label: 'mixed stride/dilation',
    },
    { shapes: [[2, 2, 5, 5], [3, 2, 3, 3], [3]], attrs: { padding: 1, activation: 'leaky_relu', slope: 0.2 }, label: 'fused leaky_relu' },
  ],
  conv2d_padding_mode: [
    { shapes: [[2, 3, 5, 6], [4, 3, 3, 3], [4]], attrs: { padding: 1, paddingMode: 'reflect' }, label: 'reflect 3x3 pad 1, bias' },
    { shapes: [[1, 2, 6, 5], [3, 2, 7, 7], [3]], attrs: { padding: 3, paddingMode: 'reflect' }, label: 'reflect 7x7 pad 3 (CycleGAN)' },
    {
      shapes: [
        [1, 2, 7, 6],
        [3, 2, 3, 3],
      ],
      attrs: { stride: 2, padding: [2, 1, 0, 1], paddingMode: 'replicate' },
      label: 'replicate stride 2, asymmetric',
    },
  ],
  conv2d_backward_input: [
    {
      shapes: [
        [2, 4, 7, 9],
        [4, 3, 3, 3],
      ],
      attrs: { xShape: [2, 3, 7, 9], padding: 1 },
    },
    {
      shapes: [
        [1, 4, 5, 3],
        [4, 3, 4, 4],
      ],
      attrs: { xShape: [1, 3, 9, 8], stride: 2, padding: [1, 2, 1, 0] },
      label: 'stride 2, remainder rows',
    },
    {
      shapes: [
        [1, 3, 4, 3],
        [3, 2, 3, 2],
      ],
      attrs: { xShape: [1, 2, 8, 9], stride: [2, 3], padding: [1, 2, 0, 1], dilation: [2, 1] },
      label: 'mixed stride/dilation',
    },
  ],
  conv2d_backward_weight: [
    {
      shapes: [
        [2, 3, 7, 9],
        [2, 4, 7, 9],
      ],
      attrs: { wShape: [4, 3, 3, 3], padding: 1 },
    },
    {
      shapes: [
        [1, 3, 9, 8],
        [1, 4, 5, 3],
      ],
      attrs: { wShape: [4, 3, 4, 4], stride: 2, padding: [1, 2, 1, 0] },
      label: 'stride 2',
    },
    {
      shapes: [
        [1, 2, 8, 9],
        [1, 3, 4, 3],
      ],
      attrs: { wShape: [3, 2, 3, 2], stride: [2, 3], padding: [1, 2, 0, 1], dilation: [2, 1] },
      label: 'mixed stride/dilation',
    },
  ],
  conv_transpose2d: [
    { shapes: [[2, 4, 3, 3], [4, 3, 4, 4], [3]], attrs: { stride: 2, padding: 1 }, label: 'DCGAN 4x4 s2 p1' },
    { shapes: [[1, 5, 3, 4], [5, 2, 3, 3], [2]], attrs: { stride: 2, padding: 1, outputPadding: 1 }, label: 'CycleGAN k3 s2 p1 op1' },
    {
      shapes: [
        [2, 6, 1, 1],
        [6, 5, 4, 4],
      ],
      attrs: { stride: 1, padding: 0 },
      label: 'DCGAN first layer 1x1 -> 4x4',
    },
    {
      shapes: [
        [1, 2, 3, 4],
        [2, 3, 3, 2],
      ],
      attrs: { stride: [3, 2], padding: [1, 0, 0, 2], dilation: [2, 1], outputPadding: [1, 0] },
      label: 'mixed stride/dilation/outputPadding',
    },
    {
      shapes: [
        [1, 2, 4, 4],
        [2, 2, 3, 3],
      ],
      attrs: { dilation: 2, outputPadding: 1 },
      label: 'outputPadding >= stride (< dilation)',
    },
    { shapes: [[1, 17, 3, 2], [17, 3, 3, 3], [3]], attrs: { padding: 1 }, label: '17 input channels' },
  ],

  // engine/ops/losses.ts
  bce_with_logits: [...redCases([3, 5]), { shapes: [[41], [41]], attrs: { reduction: 'mean' } }],
  bce_with_logits_const: [
    { shapes: [[7, 1]], attrs: { target: 1, reduction: 'mean' } },
    { shapes: [[7, 1]], attrs: { target: 0, reduction: 'sum' } },
    { shapes: [[2, 3]], attrs: { target: 0.9, reduction: 'none' } },
  ],
  mse: redCases([3, 5]),
  l1: redCases([3, 5]),
  softmax_cross_entropy: redCases([4, 6]),
  softmax_cross_entropy_index: [
    { shapes: [[5, 3]], attrs: { labels: [0, 2, 1, 1, 0], reduction: 'mean' } },
    { shapes: [[3, 7]], attrs: { labels: [6, 0, 3], reduction: 'none' } },
  ],
  gaussian_kl: [
    {
      shapes: [
        [3, 5],
        [3, 5],
      ],
    },
    {
      shapes: [
        [2, 3, 2],
        [2, 3, 2],
      ],
    },
  ],
  hinge: [
    { shapes: [[4, 5]], attrs: { margin: 0.3, reduction: 'mean' } },
    { shapes: [[9]], attrs: { margin: 0.3, reduction: 'none' } },
  ],
  gradient_penalty: [{ shapes: [[3, 4], [3, 4], [4]], gradInputs: [false, false, true] }],

  // engine/ops/matmul.ts
  matmul: [
    {
      shapes: [
        [5, 7],
        [7, 6],
      ],
    },
    {
      shapes: [
        [7, 5],
        [7, 6],
      ],
      attrs: { transA: true },
    },
    {
      shapes: [
        [5, 7],
        [6, 7],
      ],
      attrs: { transB: true },
    },
    {
      shapes: [
        [7, 5],
        [6, 7],
      ],
      attrs: { transA: true, transB: true },
    },
    // Crosses the 32-wide tile and the 16-deep K step; N and M not multiples of 4.
    {
      shapes: [
        [18, 13],
        [13, 35],
      ],
    },
    {
      shapes: [
        [2, 5, 7],
        [2, 7, 3],
      ],
    },
    {
      shapes: [
        [2, 5, 7],
        [7, 3],
      ],
      label: 'batched a, shared b',
    },
    {
      shapes: [
        [2, 7, 5],
        [3, 7],
      ],
      attrs: { transA: true, transB: true },
      label: 'batched a^T, shared b^T',
    },
    {
      shapes: [
        [5, 7],
        [3, 7, 4],
      ],
      label: 'shared a, batched b',
    },
    {
      shapes: [
        [3, 7, 5],
        [3, 4, 7],
      ],
      attrs: { transA: true, transB: true },
    },
  ],
  linear: [
    { shapes: [[4, 6], [5, 6], [5]] },
    {
      shapes: [
        [3, 9],
        [7, 9],
      ],
      label: 'no bias',
    },
    { shapes: [[2, 3, 6], [5, 6], [5]], label: 'leading dims' },
    { shapes: [[9, 19], [21, 19], [21]], label: 'tile edges' },
  ],

  // engine/ops/movement.ts
  permute: [
    { shapes: [[2, 3, 4, 5]], attrs: { dims: [0, 2, 3, 1] } },
    { shapes: [[3, 7]], attrs: { dims: [1, 0] } },
  ],
  expand: [
    { shapes: [[3, 1, 5]], attrs: { shape: [2, 3, 4, 5] } },
    { shapes: [[1]], attrs: { shape: [6, 7] } },
  ],
  slice: [
    { shapes: [[3, 5, 6]], attrs: { starts: [1, 0, 2], ends: [3, 4, 5] } },
    { shapes: [[9, 4]], attrs: { starts: [2], ends: [-1] } },
    // A channel range of NCHW: coalesces to [2, 3 * 3 * 4] rows of a [2, 6 * 3 * 4] tensor.
    { shapes: [[2, 6, 3, 4]], attrs: { starts: [0, 2], ends: [2, 5] } },
  ],
  concat: [
    {
      shapes: [
        [2, 3, 4],
        [2, 5, 4],
        [2, 1, 4],
      ],
      attrs: { dim: 1 },
    },
    {
      shapes: [
        [3, 2],
        [4, 2],
      ],
      attrs: { dim: 0 },
    },
  ],
  tile: [
    { shapes: [[2, 3, 1, 1]], attrs: { reps: [1, 1, 4, 5] } },
    { shapes: [[3, 2]], attrs: { reps: [2, 3] } },
  ],

  // engine/ops/norm.ts
  instance_norm: [
    { shapes: [[2, 3, 5, 7], [3], [3]], attrs: { affine: true } },
    { shapes: [[1, 2, 6, 6]] },
    { shapes: [[2, 2, 4, 5], [2], [2]], attrs: { affine: true, act: 'leaky_relu', slope: 0.2 } },
    { shapes: [[1, 3, 4, 4], [3], [3]], attrs: { affine: true, act: 'relu' } },
    { shapes: [[3, 1, 9]], attrs: { eps: 1e-3 } },
  ],
  batch_norm: [
    { shapes: [[2, 3, 5, 7], [3], [3]], attrs: { affine: true } },
    { shapes: [[3, 2, 4, 4]] },
    { shapes: [[5, 4], [4], [4]], attrs: { affine: true } },
    { shapes: [[2, 3, 3, 4], [3], [3]], attrs: { affine: true, act: 'leaky_relu', slope: 0.2 } },
    { shapes: [[4, 2, 3, 3], [2], [2]], attrs: { affine: true, act: 'relu' } },
    // Eval: inputs x, gamma, beta, running mean, running var (the running stats get no gradient).
    {
      label: 'eval [2x3x5x5]',
      shapes: [[2, 3, 5, 5], [3], [3], [3], [3]],
      attrs: { training: false, affine: true },
      gradInputs: [true, true, true, false, false],
    },
    {
      label: 'eval relu [3x2x4]',
      shapes: [[3, 2, 4], [2], [2], [2], [2]],
      attrs: { training: false, affine: true, act: 'relu' },
      gradInputs: [true, true, true, false, false],
    },
  ],

  // engine/ops/pyramid.ts
  pyr_down: [{ shapes: [[2, 3, 5, 7]] }, { shapes: [[1, 2, 6, 6]] }, { shapes: [[1, 1, 3, 4]] }],
  pyr_down_adjoint: [
    { shapes: [[1, 2, 3, 4]], attrs: { fine: [5, 7] } },
    { shapes: [[1, 1, 2, 3]], attrs: { fine: [3, 6] } },
  ],
  pyr_up: [
    { shapes: [[2, 3, 3, 4]], attrs: { out: [5, 7] } },
    { shapes: [[1, 2, 3, 3]], attrs: { out: [6, 6] } },
    { shapes: [[1, 1, 2, 2]], attrs: { out: [3, 4] } },
  ],
  pyr_up_adjoint: [{ shapes: [[1, 2, 5, 7]] }, { shapes: [[1, 1, 6, 3]] }],
  laplacian_band: [{ shapes: [[2, 3, 5, 7]] }, { shapes: [[1, 2, 6, 6]] }],
  laplacian_pyramid: [
    { shapes: [[1, 2, 7, 9]], attrs: { levels: 2 } },
    { shapes: [[2, 1, 6, 6]], attrs: { levels: 1 } },
  ],
  reconstruct_pyramid: [
    {
      shapes: [
        [1, 2, 7, 9],
        [1, 2, 4, 5],
        [1, 2, 2, 3],
      ],
    },
    {
      shapes: [
        [2, 1, 6, 6],
        [2, 1, 3, 3],
      ],
    },
  ],

  // engine/ops/spatial.ts
  ...Object.fromEntries(
    PAD_MODES.flatMap((mode) => [
      [
        `pad2d_${mode}`,
        [
          { shapes: [[2, 3, 5, 7]], attrs: { pad: [1, 2, 3, 0], value: mode === 'zeros' ? 0.5 : 0 } },
          { shapes: [[1, 2, 4, 3]], attrs: { pad: [3, 3, 2, 2] } },
          { shapes: [[1, 1, 6, 6]], attrs: { pad: [0, 1, 1, 0] } },
        ],
      ],
      [
        `pad2d_${mode}_adjoint`,
        [
          { shapes: [[1, 2, 8, 10]], attrs: { in: [5, 7], pad: [1, 2, 3, 0] } },
          { shapes: [[2, 1, 10, 7]], attrs: { in: [4, 3], pad: [3, 3, 2, 2] } },
        ],
      ],
    ]),
  ),
  avg_pool2d: [
    { shapes: [[2, 3, 5, 7]], attrs: { k: 2 } },
    { shapes: [[1, 2, 7, 6]], attrs: { k: 3, s: 2, p: 1 } },
    { shapes: [[1, 2, 5, 9]], attrs: { k: [2, 3], s: [1, 2], p: [1, 0] } },
    { shapes: [[1, 1, 7, 7]], attrs: { k: 2, s: 3 } },
  ],
  avg_pool2d_adjoint: [
    { shapes: [[1, 2, 4, 3]], attrs: { k: 3, s: 2, p: 1, in: [7, 6] } },
    { shapes: [[1, 1, 2, 2]], attrs: { k: 2, s: 3, in: [7, 7] } },
  ],
  upsample_nearest: [
    { shapes: [[2, 3, 3, 5]], attrs: { scale: 2 } },
    { shapes: [[1, 2, 4, 3]], attrs: { scale: [3, 1] } },
  ],
  upsample_bilinear: [
    { shapes: [[2, 3, 3, 5]], attrs: { size: [6, 10] } },
    { shapes: [[1, 2, 4, 5]], attrs: { size: [7, 9], align: true } },
    { shapes: [[1, 2, 7, 9]], attrs: { size: [3, 4] } },
    { shapes: [[1, 1, 5, 4]], attrs: { size: [2, 7], align: true } },
    { shapes: [[1, 1, 1, 3]], attrs: { size: [4, 5] } },
  ],
  upsample_bilinear_adjoint: [
    { shapes: [[1, 2, 7, 10]], attrs: { in: [3, 5] } },
    { shapes: [[1, 2, 7, 9]], attrs: { in: [4, 5], align: true } },
    { shapes: [[1, 1, 3, 4]], attrs: { in: [7, 9] } },
  ],
};

/** The cases of one registered op; throws, naming the file to edit, when it has none. */
export function casesOf(op: string): OpCase[] {
  const cs = opCases[op];
  if (!cs || cs.length === 0) {
    throw new Error(
      `op suite: the registered op '${op}' has no test cases; add an entry '${op}: [{ shapes: [...] }]' to tests/support/op_cases.ts`,
    );
  }
  return cs;
}

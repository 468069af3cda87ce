// Edge maps (edges2shoes-style data preparation): non-maximum suppression and threshold on a Sobel
// gradient that engine/ops/edges.ts computes with conv2d. Not differentiable (a data op).
// Legend:
//   g        [N, 2, H, W]: channel 0 the horizontal Sobel response gx, channel 1 the vertical gy
//   y        [N, C, H, W]: -1 on an edge, +1 elsewhere (black lines on white), C copies
//   mag      |(gx, gy)| = sqrt(gx^2 + gy^2)
//   dir      the gradient direction quantised to 0: -, 1: /, 2: |, 3: \ (tan 22.5 deg = TAN22);
//            the neighbours across the edge are (y, x) +- (dy, dx) = (0, 1), (1, -1), (1, 0), (1, 1);
//            a neighbour outside the image counts as magnitude 0
//   edge     mag >= threshold, mag >= mag(+) and mag > mag(-) (strict on one side: a two-pixel
//            plateau keeps exactly one pixel)
// One thread per (n, y, x) pixel (grid1d), writing all C channels.
import { index1d, main1d } from './common.js';

export const EDGES_WG = 256;

export function edgeNmsSource(): string {
  return /* wgsl */ `
struct Params { n: u32, H: u32, W: u32, C: u32, threshold: f32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const TAN22: f32 = 0.41421356237309503;

fn mag(b: u32, r: i32, c: i32) -> f32 {
  if (r < 0 || c < 0 || r >= i32(u.H) || c >= i32(u.W)) { return 0.0; }
  let p = u32(r) * u.W + u32(c);
  let plane = u.H * u.W;
  let gx = g[b * 2u * plane + p];
  let gy = g[(b * 2u + 1u) * plane + p];
  return sqrt(gx * gx + gy * gy);
}

${main1d(EDGES_WG)} {
  let i = ${index1d(EDGES_WG)};
  if (i >= u.n) { return; }
  let plane = u.H * u.W;
  let b = i / plane;
  let p = i % plane;
  let r = i32(p / u.W);
  let c = i32(p % u.W);
  let gx = g[b * 2u * plane + p];
  let gy = g[(b * 2u + 1u) * plane + p];
  let m = sqrt(gx * gx + gy * gy);
  let ax = abs(gx);
  let ay = abs(gy);
  var d = vec2<i32>(1, -1);
  if (ay <= ax * TAN22) { d = vec2<i32>(0, 1); }
  else if (ax <= ay * TAN22) { d = vec2<i32>(1, 0); }
  else if (gx * gy > 0.0) { d = vec2<i32>(1, 1); }
  let m1 = mag(b, r + d.x, c + d.y);
  let m2 = mag(b, r - d.x, c - d.y);
  let edge = m >= u.threshold && m >= m1 && m > m2;
  let v = select(1.0, -1.0, edge);
  for (var k = 0u; k < u.C; k++) { y[(b * u.C + k) * plane + p] = v; }
}`;
}

// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011), written from the published description.
// Legend:
//   key  (k0, k1)          the generator's seed split into low/high 32-bit words
//   ctr  (c0, c1, c2, c3)  128-bit counter; thread i uses (off_lo + i, off_hi + carry, 0, 0)
//   M0, M1                 round multipliers 0xD2511F53, 0xCD9E8D57
//   W0, W1                 Weyl key increments 0x9E3779B9, 0xBB67AE85
//   one round:  (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2   (full 64-bit products)
//               c' = (hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0);  then k += (W0, W1)
//   ten rounds; the key bump happens between rounds (nine bumps in all).
// WGSL has no 64-bit integers, so mulhi is assembled from 16-bit halves (every partial product
// fits in 32 bits). One thread produces one 4-word block and writes outputs 4i .. 4i+3, so a
// launch of n values consumes ceil(n / 4) counters; the host advances the generator by that much.
// Word -> float: u = (w >> 8) * 2^-24, exact in f32 and in [0, 1). Normals use Box-Muller on word
// pairs with u1 in (0, 1] (never log(0)) and the angle kept inside [-pi, pi), where WGSL's sin/cos
// have a guaranteed accuracy.
//
// Kinds (one entry point each, output y):
//   uniform   y = p0 + (p1 - p0) * u                (rand, uniform_)
//   normal    y = p0 + p1 * z                       (randn, normal_)
//   bernoulli y = (u < p0) ? p1 : 0                 (bernoulli with p1 = 1; dropout masks use
//                                                    p0 = keep probability, p1 = 1 / keep)
//   randint   y = low + floor(w * span / 2^32)     (int32 output, span = high - low <= 2^32;
//                                                    span 2^32 is passed as 0 and yields the raw word)
import { index1d, main1d } from './common.js';

export const RANDOM_WG = 128;

export type RandomKind = 'uniform' | 'normal' | 'bernoulli' | 'randint';

/** WGSL: the Philox4x32-10 block function. */
export const philoxWgsl = /* wgsl */ `
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  // 32x32 -> 64-bit product as (hi, lo) from 16-bit halves.
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}
fn philox_round(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  let p0 = mulhilo(0xD2511F53u, c.x);
  let p1 = mulhilo(0xCD9E8D57u, c.z);
  return vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
}
fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  c = philox_round(c, k);
  for (var r = 1u; r < 10u; r++) {
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
    c = philox_round(c, k);
  }
  return c;
}
fn scale_word(w: u32, span: u32) -> u32 { return select(mulhilo(w, span).x, w, span == 0u); } // [0, span)
fn u01(w: u32) -> f32 { return f32(w >> 8u) * 5.9604644775390625e-8; }         // [0, 1)
fn u01_open0(w: u32) -> f32 { return f32((w >> 8u) + 1u) * 5.9604644775390625e-8; } // (0, 1]
fn box_muller(w0: u32, w1: u32) -> vec2<f32> {
  let r = sqrt(-2.0 * log(u01_open0(w0)));
  let theta = 6.2831853071795864 * u01(w1) - 3.14159265358979;
  return vec2<f32>(r * cos(theta), r * sin(theta));
}
`;

export function randomSource(kind: RandomKind): string {
  const outType = kind === 'randint' ? 'i32' : 'f32';
  // p0/p1 are f32 for the float kinds; randint reads them as (low: i32, span: u32).
  const params = kind === 'randint' ? 'low: i32, span: u32' : 'p0: f32, p1: f32';
  let body: string;
  switch (kind) {
    case 'uniform':
      body = `let v = vec4<f32>(u01(w.x), u01(w.y), u01(w.z), u01(w.w)) * (u.p1 - u.p0) + u.p0;`;
      break;
    case 'normal':
      body = `let v = vec4<f32>(box_muller(w.x, w.y), box_muller(w.z, w.w)) * u.p1 + u.p0;`;
      break;
    case 'bernoulli':
      body = `let q = vec4<f32>(u01(w.x), u01(w.y), u01(w.z), u01(w.w));
  let v = select(vec4<f32>(0.0), vec4<f32>(u.p1), q < vec4<f32>(u.p0));`;
      break;
    case 'randint':
      // span == 0 encodes 2^32 (the full word); i32 addition wraps.
      body = `let v = vec4<i32>(u.low + i32(scale_word(w.x, u.span)), u.low + i32(scale_word(w.y, u.span)),
                     u.low + i32(scale_word(w.z, u.span)), u.low + i32(scale_word(w.w, u.span)));`;
      break;
  }
  return /* wgsl */ `
struct Params { n: u32, k0: u32, k1: u32, off_lo: u32, off_hi: u32, ${params}, pad: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> y: array<${outType}>;
${philoxWgsl}
${main1d(RANDOM_WG)} {
  let i = ${index1d(RANDOM_WG)};
  let base = i * 4u;
  if (base >= u.n) { return; }
  let c0 = u.off_lo + i;
  let carry = select(0u, 1u, c0 < u.off_lo);
  let w = philox4x32_10(vec4<u32>(c0, u.off_hi + carry, 0u, 0u), vec2<u32>(u.k0, u.k1));
  ${body}
  for (var j = 0u; j < 4u; j++) {
    if (base + j < u.n) { y[base + j] = v[j]; }
  }
}`;
}

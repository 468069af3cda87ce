// WGSL snippets shared by kernels.
// Legend: u = the uniform struct at binding 0; a vec8 is `array<vec4<u32>, 2>` holding up to 8
// dims (uniform arrays need a 16-byte element stride); nwg = @builtin(num_workgroups).

/** The 1-D thread index of kernels launched with grid1d(): gid.x + gid.y * nwg.x * WG. */
export const index1d = (wg: number) => `gid.x + gid.y * nwg.x * ${wg}u`;

/** Entry point header for 1-D kernels. */
export const main1d = (wg: number) =>
  `@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** Reads element d of a vec8 uniform array. */
export const at8 = `fn at8(v: array<vec4<u32>, 2>, d: u32) -> u32 { return v[d / 4u][d % 4u]; }`;

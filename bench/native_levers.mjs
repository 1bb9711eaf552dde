#!/usr/bin/env node
// What the next levers on the `tensorflow` backend could save, measured in isolation at vit-mini's
// shapes (issue 12's profile; nothing here is used by vitlens):
//   TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2 node bench/native_levers.mjs [rows] [reps]
// rows = images × tokens (128 × 65 = 8320 for a micro-batch of 128). Each case is the median ms of
// `reps` runs after warm-up; every TensorFlow op tfjs-node runs is synchronous on the CPU, so the
// time around the call is the op's.
import { FUSED_KERNELS, initBackend, tf } from '@vitlens/core';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';

const rows = Number(process.argv[2] ?? 8320);
const reps = Number(process.argv[3] ?? 15);
const choice = await initBackend({ prefer: 'tensorflow', fastKernels: true });
if (choice.name !== 'tensorflow') throw new Error(`backend ${choice.name}, not tensorflow`);
const backend = tf.backend();
const b = backend.binding;
const T = { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT };
const run1 = (op, attrs, inputs) => backend.executeMultipleOutputs(op, attrs, inputs, 1)[0];

function time(label, fn) {
  const once = () => {
    const out = fn();
    tf.dispose(out);
  };
  for (let i = 0; i < 3; i++) once();
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    once();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, z) => a - z);
  const med = ms[Math.floor(ms.length / 2)];
  console.log(`| ${label} | ${med.toFixed(3)} |`);
  return med;
}
const tryTime = (label, fn) => {
  try {
    return time(label, fn);
  } catch (e) {
    console.log(`| ${label} | not available: ${String(e.message ?? e).split('\n')[0].slice(0, 160)} |`);
    return undefined;
  }
};

const r = (shape) => tf.randomNormal(shape);
console.log(`# levers at ${rows} rows, ${tf.getBackend()} ${choice.tensorflowVersion}, TF threads ${process.env.TF_NUM_INTRAOP_THREADS ?? 'default'}\n`);
console.log('| case | ms (median) |\n| --- | --- |');

// 1. Bias add after a Linear (tfjs-node's _FusedMatMul = BatchMatMulV2 + broadcasting Add).
for (const d of [128, 512]) {
  const x = r([rows, d]);
  const bias = r([d]);
  time(`bias add [${rows},${d}] + [${d}]: Add (today)`, () => tf.add(x, bias));
  time(`bias add [${rows},${d}] + [${d}]: BiasAdd op`, () => run1('BiasAdd', [T, { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' }], [x, bias]));
}
// 2. Linear D→4D with and without the bias add; with transpose flags vs the weight as stored.
{
  const x = r([rows, 128]);
  const w = r([512, 128]);
  const wT = r([128, 512]);
  const bias = r([512]);
  time(`matMul [${rows},128]×[128,512] (transposeB on [512,128])`, () => tf.matMul(x, w, false, true));
  time(`matMul [${rows},128]×[128,512] (plain)`, () => tf.matMul(x, wT));
  time(`tf.fused.matMul + bias (today's _FusedMatMul path)`, () => tf.fused.matMul({ a: x, b: w, transposeB: true, bias }));
  time(`tf.fused.matMul + bias + GELU (today: _FusedMatMul then VitlensGelu)`, () =>
    tf.tidy(() => tf.engine().runKernel(FUSED_KERNELS.gelu, { x: tf.fused.matMul({ a: x, b: w, transposeB: true, bias }) }, {})),
  );
  // TF's own fused op: fused_ops is a list(string) attribute, which tfjs-node 4.22's binding cannot set
  // (its TF_ATTR_STRING case takes one string): try anyway to record what happens.
  tryTime('TF _FusedMatMul with fused_ops [BiasAdd] (one string)', () =>
    run1('_FusedMatMul', [T, { name: 'transpose_a', type: b.TF_ATTR_BOOL, value: false }, { name: 'transpose_b', type: b.TF_ATTR_BOOL, value: true },
      { name: 'num_args', type: b.TF_ATTR_INT, value: 1 }, { name: 'fused_ops', type: b.TF_ATTR_STRING, value: 'BiasAdd' }], [x, w, bias]),
  );
}
// 3. GELU forward / gradient pieces on [rows, 512].
{
  const x = r([rows, 512]);
  const dy = r([rows, 512]);
  time(`GELU forward (VitlensGelu: 5 TF ops) [${rows},512]`, () => tf.engine().runKernel(FUSED_KERNELS.gelu, { x }, {}));
  time(`GELU gradient (VitlensGeluGrad: 11 TF ops) [${rows},512]`, () => tf.engine().runKernel(FUSED_KERNELS.geluGrad, { dy, x }, {}));
  time(`one elementwise Mul [${rows},512] (a pass over the tensor)`, () => tf.mul(x, dy));
  time(`Erf [${rows},512]`, () => tf.erf(x));
}
// 4. LayerNorm forward / gradient on [rows, 128].
{
  const x = r([rows, 128]);
  const dy = r([rows, 128]);
  const gamma = r([128]);
  const beta = r([128]);
  time(`LayerNorm forward (VitlensLayerNorm, FusedBatchNormV3 NCHW) [${rows},128]`, () => tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: 1e-12 }));
  const [, mean, rstd] = tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: 1e-12 });
  time(`LayerNorm gradient (VitlensLayerNormGrad) [${rows},128]`, () => tf.engine().runKernel(FUSED_KERNELS.layerNormGrad, { dy, x, mean, rstd, gamma }, {}));
  const empty = tf.zeros([0]);
  const x4 = tf.reshape(x, [1, rows, 128, 1]);
  const ones = tf.ones([rows]);
  const zeros = tf.zeros([rows]);
  time('  FusedBatchNormV3 alone (NCHW [1,rows,D,1])', () =>
    backend.executeMultipleOutputs('FusedBatchNormV3', [T, { name: 'U', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }, { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: 1e-12 },
      { name: 'exponential_avg_factor', type: b.TF_ATTR_FLOAT, value: 1 }, { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NCHW' }, { name: 'is_training', type: b.TF_ATTR_BOOL, value: true }],
      [x4, ones, zeros, empty, empty], 6));
  tryTime('  _MklLayerNorm (oneDNN LayerNorm, forward only)', () =>
    run1('_MklLayerNorm', [T, { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: 1e-12 }], [x, gamma, beta]));
  time('  moments composite: Mean, SquaredDifference, Mean, Rsqrt, Sub, Mul, Mul, Add', () =>
    tf.tidy(() => {
      const m = tf.mean(x, -1, true);
      const v = tf.mean(tf.squaredDifference(x, m), -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, m), tf.rsqrt(tf.add(v, 1e-12))), gamma), beta);
    }));
}
// 5. AdamW: per parameter (today, ~13 TF ops × 104 tensors) vs one flat vector of the same size.
{
  const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32'), { seed: 0 });
  const params = [...model.params.values()];
  const n = params.reduce((s, p) => s + p.size, 0);
  const slot = () => params.map((p) => tf.zerosLike(p));
  const m = slot();
  const v = slot();
  const g = params.map((p) => tf.onesLike(p));
  const step = (p, mm, vv, gg) => {
    const decayed = tf.mul(p, 1 - 1e-6 * 0.01);
    const mNew = tf.add(tf.mul(mm, 0.9), tf.mul(gg, 0.1));
    const vNew = tf.add(tf.mul(vv, 0.999), tf.mul(tf.mul(gg, gg), 0.001));
    const denom = tf.add(tf.div(tf.sqrt(vNew), 0.5), 1e-8);
    return [mNew, vNew, tf.sub(decayed, tf.mul(tf.div(mNew, denom), 1e-6))];
  };
  time(`AdamW, ${params.length} tensors (${n} values), one update each (today's ops, no assign)`, () => tf.tidy(() => params.flatMap((p, i) => step(p, m[i], v[i], g[i]))));
  const P = tf.zeros([n]);
  const M = tf.zeros([n]);
  const V = tf.zeros([n]);
  const G = tf.ones([n]);
  time(`AdamW, one flat [${n}] vector (same ops)`, () => tf.tidy(() => step(P, M, V, G)));
  time(`  + concat of the ${params.length} gradients into it`, () => tf.concat(g.map((t) => tf.reshape(t, [-1]))));
}

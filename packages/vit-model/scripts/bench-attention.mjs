// Which attention formulation is fastest on wasm? QKᵀ and AV for ViT-Tiny/4 at 32×32 shapes.
// Run: node scripts/bench-attention.mjs [batch]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
const B = Number(process.argv[2] ?? 64), H = 3, T = 65, D = 64;
const q = tf.randomNormal([B * H, T, D]), k = tf.randomNormal([B * H, T, D]), v = tf.randomNormal([B * H, T, D]);
const variants = {
  batchedTransposeB: () => { const s = tf.matMul(q, k, false, true); const p = tf.softmax(s); return tf.matMul(p, v); },
  batchedExplicitT: () => { const kt = tf.transpose(k, [0, 2, 1]); const s = tf.matMul(q, kt); const p = tf.softmax(s); return tf.matMul(p, v); },
  loop2d: () => {
    const qs = tf.unstack(q), kts = tf.unstack(tf.transpose(k, [0, 2, 1])), vs = tf.unstack(v);
    const outs = qs.map((qi, i) => tf.matMul(tf.softmax(tf.matMul(qi, kts[i])), vs[i]));
    return tf.stack(outs);
  },
};
const ref = tf.tidy(variants.batchedTransposeB);
for (const [name, fn] of Object.entries(variants)) {
  const times = [];
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    const out = tf.tidy(fn); out.dataSync();
    times.push(performance.now() - t0);
    if (r === 0) { const d = tf.tidy(() => tf.max(tf.abs(tf.sub(out, ref)))).dataSync()[0]; console.log(name, 'maxdiff', d); }
    out.dispose();
  }
  times.shift(); times.sort((a, b) => a - b);
  const flops = 2 * 2 * B * H * T * T * D;
  console.log(`${name}: median ${times[1].toFixed(1)} ms, ${(flops / times[1] / 1e6).toFixed(2)} GFLOP/s`);
}

// Stock vs fast wasm BatchMatMul at the attention shapes, and ViT forward images/s with fast
// kernels off/on, alternating in one process (the machine is shared: compare within a run).
// Run after `pnpm --filter @vitlens/core build` and `pnpm --filter @vitlens/vit-model build`:
//   node packages/core/bench/bmm.bench.mjs            (REPEAT=5 timed runs per figure; medians)
//   SECTIONS=linear,vit node packages/core/bench/bmm.bench.mjs   (any of attention,linear,vit)
import { initBackend, registerFastWasmKernels, tf, unregisterFastWasmKernels } from '../dist/index.js';
import { ViTForImageClassification, createConfig } from '../../vit-model/dist/index.js';

const REPEAT = Number(process.env.REPEAT ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const SECTIONS = new Set((process.env.SECTIONS ?? 'attention,linear,vit').split(','));
/** false: tfjs's kernel; true: fast kernel, plain 2-D to XNNPACK; 'plain2d': fast for plain 2-D too. */
const setFast = (mode) => {
  unregisterFastWasmKernels();
  if (mode) registerFastWasmKernels({ plain2d: mode === 'plain2d' });
};

await initBackend({ prefer: 'wasm' });
console.log(`tfjs ${tf.version_core}, backend ${tf.getBackend()}, node ${process.version}, REPEAT=${REPEAT}`);

/** [G, M, K]×[G, K, N] (logical), stored per the transpose flags. */
const CASES = [
  { name: 'QKᵀ  d=32', G: 256, M: 65, K: 32, N: 65, tA: false, tB: true },
  { name: 'AV   d=32', G: 256, M: 65, K: 65, N: 32, tA: false, tB: false },
  { name: 'QKᵀ  d=48', G: 192, M: 65, K: 48, N: 65, tA: false, tB: true },
  { name: 'AV   d=48', G: 192, M: 65, K: 65, N: 48, tA: false, tB: false },
  { name: 'dV=AᵀdO d=32', G: 256, M: 65, K: 65, N: 32, tA: true, tB: false },
  { name: 'dA=dO·Vᵀ d=32', G: 256, M: 65, K: 32, N: 65, tA: false, tB: true },
  { name: 'QK plain d=32', G: 256, M: 65, K: 32, N: 65, tA: false, tB: false },
  { name: 'ViT-B QKᵀ', G: 48, M: 197, K: 64, N: 197, tA: false, tB: true },
  { name: 'ViT-B AV', G: 48, M: 197, K: 197, N: 64, tA: false, tB: false },
];

/** Median ms per call for each mode, alternating modes; each sample lasts ≥ 200 ms. */
function timeModes(modes, fn) {
  const ms = new Map(modes.map((m) => [m, []]));
  const inner = new Map();
  for (const m of modes) {
    setFast(m);
    fn(); // warm-up
    const t0 = performance.now();
    fn();
    inner.set(m, Math.max(1, Math.ceil(200 / (performance.now() - t0))));
  }
  for (let r = 0; r < REPEAT; r++) {
    for (const m of modes) {
      setFast(m);
      const t0 = performance.now();
      for (let i = 0; i < inner.get(m); i++) fn();
      ms.get(m).push((performance.now() - t0) / inner.get(m));
    }
  }
  return new Map(modes.map((m) => [m, median(ms.get(m))]));
}

if (SECTIONS.has('attention')) {
console.log('\nBatchMatMul GFLOP/s (median of', REPEAT, ')');
console.log('case                   shape                      stock     fast   speed-up');
for (const c of CASES) {
  const a = tf.randomNormal(c.tA ? [c.G, c.K, c.M] : [c.G, c.M, c.K]);
  const b = tf.randomNormal(c.tB ? [c.G, c.N, c.K] : [c.G, c.K, c.N]);
  const flops = 2 * c.G * c.M * c.K * c.N;
  const ms = { false: [], true: [] };
  for (const fast of [false, true]) {
    setFast(fast);
    tf.matMul(a, b, c.tA, c.tB).dispose(); // warm-up
  }
  // Each sample repeats the product until it lasts ≥ 200 ms, so one preemption on the busy
  // machine does not decide a sample of a few milliseconds.
  const inner = { false: 1, true: 1 };
  for (const fast of [false, true]) {
    setFast(fast);
    const t0 = performance.now();
    tf.matMul(a, b, c.tA, c.tB).dispose();
    inner[fast] = Math.max(1, Math.ceil(200 / (performance.now() - t0)));
  }
  for (let r = 0; r < REPEAT; r++) {
    for (const fast of [false, true]) {
      setFast(fast);
      const t0 = performance.now();
      for (let i = 0; i < inner[fast]; i++) tf.matMul(a, b, c.tA, c.tB).dispose();
      ms[fast].push((performance.now() - t0) / inner[fast]);
    }
  }
  const gf = (list) => flops / median(list) / 1e6;
  const shape = `[${c.G},${c.M},${c.K}]×[${c.G},${c.K},${c.N}]${c.tA ? ' tA' : ''}${c.tB ? ' tB' : ''}`;
  console.log(
    `${c.name.padEnd(22)} ${shape.padEnd(26)} ${gf(ms.false).toFixed(2).padStart(6)}  ${gf(ms.true).toFixed(2).padStart(7)}  ${(gf(ms.true) / gf(ms.false)).toFixed(1).padStart(6)}×`,
  );
  a.dispose();
  b.dispose();
}
}

// Plain 2-D products of ViT Linear layers, T = 65 tokens at batch 64 (rows 4160): forward
// x[4160,in]·Wᵀ, dW = dYᵀ·X and dX = dY·W, each stored plain (the model transposes explicitly)
// and with the transpose flags instead. 'stock' = tfjs (XNNPACK plain, naive loop transposed).
if (SECTIONS.has('linear')) {
  const ROWS = 4160;
  const LINEAR = [[128, 384], [128, 512], [512, 128], [192, 576], [192, 768], [768, 192]];
  const cases = [];
  for (const [inp, out] of LINEAR) {
    cases.push({ name: `fwd ${inp}→${out}`, M: ROWS, K: inp, N: out, tA: false, tB: false });
    cases.push({ name: `dW  ${inp}→${out}`, M: out, K: ROWS, N: inp, tA: false, tB: false });
    cases.push({ name: `dX  ${inp}→${out}`, M: ROWS, K: out, N: inp, tA: false, tB: false });
  }
  for (const [inp, out] of LINEAR) {
    cases.push({ name: `fwd ${inp}→${out}`, M: ROWS, K: inp, N: out, tA: false, tB: true });
    cases.push({ name: `dW  ${inp}→${out}`, M: out, K: ROWS, N: inp, tA: true, tB: false });
    cases.push({ name: `dX  ${inp}→${out}`, M: ROWS, K: out, N: inp, tA: false, tB: true });
  }
  console.log(`\n2-D BatchMatMul GFLOP/s (median of ${REPEAT}); fast = fast kernel forced on plain 2-D`);
  console.log('case          shape                    stock     fast   speed-up');
  for (const c of cases) {
    const a = tf.randomNormal(c.tA ? [c.K, c.M] : [c.M, c.K]);
    const b = tf.randomNormal(c.tB ? [c.N, c.K] : [c.K, c.N]);
    const t = timeModes([false, 'plain2d'], () => tf.matMul(a, b, c.tA, c.tB).dispose());
    const gf = (m) => (2 * c.M * c.K * c.N) / t.get(m) / 1e6;
    const shape = `[${c.M},${c.K}]×[${c.K},${c.N}]${c.tA ? ' tA' : ''}${c.tB ? ' tB' : ''}`;
    console.log(
      `${c.name.padEnd(13)} ${shape.padEnd(24)} ${gf(false).toFixed(2).padStart(6)}  ${gf('plain2d').toFixed(2).padStart(7)}  ${(gf('plain2d') / gf(false)).toFixed(2).padStart(6)}×`,
    );
    a.dispose();
    b.dispose();
  }
}

if (SECTIONS.has('vit')) {
// ViT forward, vit-mini-patch4-32 (hidden 128, 6 layers, 4 heads → G = 64·4 = 256, T = 65, d = 32).
const BATCH = Number(process.env.BATCH ?? 64);
const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32'), { seed: 0 });
const x = tf.randomNormal([BATCH, 32, 32, 3]);
const forward = () => {
  const { logits } = model.forward(x);
  logits.dataSync();
  logits.dispose();
};
const MODES = [false, true, 'plain2d'];
const ms = new Map(MODES.map((m) => [m, []]));
for (const m of MODES) {
  setFast(m);
  forward(); // warm-up
}
for (let r = 0; r < REPEAT; r++) {
  for (const m of MODES) {
    setFast(m);
    const t0 = performance.now();
    forward();
    ms.get(m).push(performance.now() - t0);
  }
}
const ips = (m) => (BATCH * 1000) / median(ms.get(m));
console.log(`\nViT forward vit-mini-patch4-32, batch ${BATCH}, images/s (median of ${REPEAT}):`);
console.log(
  `  stock ${ips(false).toFixed(1)}   fast ${ips(true).toFixed(1)} (${(ips(true) / ips(false)).toFixed(2)}×)` +
    `   fast+plain2d ${ips('plain2d').toFixed(1)} (${(ips('plain2d') / ips(false)).toFixed(2)}×)`,
);
x.dispose();
model.dispose();
}

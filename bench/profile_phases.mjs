#!/usr/bin/env node
// Where the time of a vit-mini step goes on the `tensorflow` backend, by phase (issue 12's profile).
//   TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2 node bench/profile_phases.mjs [preset] [trainBatch] [inferBatch] [reps] [microBatch] > phases-tf.json
// Every TensorFlow eager op that tfjs-node executes (binding.executeOp, synchronous on the CPU) is
// timed and attributed to the outermost registered tfjs kernel that issued it (tf.engine().runKernelFunc is
// wrapped to keep a stack), with that kernel's input shapes, so the composite kernels (vitlens's
// LayerNorm/GELU and their gradients, _FusedMatMul) are not double counted. Prints one JSON object;
// bench/profile_phases.py turns it and bench/torch_profile.py's JSON into the phase table.
import { initBackend, tf } from '@vitlens/core';
import { AdamW, LocalGradientEngine } from '@vitlens/train-loop';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';

const [preset = 'vit-mini-patch4-32', trainB = '128', inferB = '64', repsArg = '5', microArg] = process.argv.slice(2);
const trainBatch = Number(trainB);
const inferBatch = Number(inferB);
const reps = Number(repsArg);
// Images per forward/backward pass (default: the whole training batch, one pass).
const microBatch = Number(microArg ?? trainB);

const choice = await initBackend({ prefer: 'tensorflow', fastKernels: true });
if (choice.name !== 'tensorflow') throw new Error(`backend ${choice.name}, not tensorflow`);

const stack = [];
const engine = tf.engine();
const runKernelFunc = engine.runKernelFunc.bind(engine);
engine.runKernelFunc = (params) => {
  const name = params.kernelName ?? 'scope';
  const shapes = params.inputs ? Object.values(params.inputs).map((t) => t?.shape ?? null) : [];
  stack.push({ name, shapes });
  try {
    return runKernelFunc(params);
  } finally {
    stack.pop();
  }
};

let active = false;
const records = new Map();
const backend = tf.backend();
const binding = backend.binding;
const executeOp = (op, ...rest) => {
  if (!active) return binding.executeOp(op, ...rest);
  const t0 = performance.now();
  try {
    return binding.executeOp(op, ...rest);
  } finally {
    const ms = performance.now() - t0;
    // The chain of kernels (and unnamed customGrad/op scopes) that issued this op, outermost first.
    const chain = stack.map((s) => s.name);
    const named = stack.find((s) => s.name !== 'scope') ?? stack[0] ?? { name: '(none)', shapes: [] };
    const key = `${chain.join('>')}|${JSON.stringify(named.shapes)}|${op}`;
    const r = records.get(key) ?? { chain, outer: named.name, shapes: named.shapes, op, ms: 0, calls: 0 };
    r.ms += ms;
    r.calls++;
    records.set(key, r);
  }
};
backend.binding = Object.create(binding, { executeOp: { value: executeOp } });

const config = createConfig(preset);
const model = ViTForImageClassification.create(config, { seed: 0 });
const size = config.image_size;
const mk = (b) => Float32Array.from({ length: b * size * size * 3 }, (_, i) => Math.sin(i));
const trainImages = mk(trainBatch);
const labels = Int32Array.from({ length: trainBatch }, (_, i) => i % 10);
const gradEngine = new LocalGradientEngine(model, { microBatchSize: microBatch });
const optimizer = new AdamW(model.params, { decay: model.decayParamNames() });
const ones = new Map([...model.params].map(([n, p]) => [n, tf.onesLike(p)]));
const xInfer = tf.tensor4d(mk(inferBatch), [inferBatch, size, size, 3]);

const work = {
  train: async () => {
    const { grads } = await gradEngine.computeGradients({ images: trainImages, shape: [trainBatch, size, size, 3], labels }, { training: true, labelSmoothing: 0, seed: 0 });
    for (const g of grads.values()) g.dispose();
  },
  adamw: async () => {
    optimizer.applyGradients(ones, 1e-6);
    await [...model.params.values()].at(-1)?.data();
  },
  infer: async () => {
    const { logits } = model.forward(xInfer);
    await logits.data();
    logits.dispose();
  },
};

const out = { preset, trainBatch, microBatch, inferBatch, reps, tensorflow: choice.tensorflowVersion, threads: process.env.TF_NUM_INTRAOP_THREADS ?? 'default', sections: {} };
for (const [label, run] of Object.entries(work)) {
  await run();
  const walls = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    walls.push(performance.now() - t0);
  }
  walls.sort((a, b) => a - b);
  records.clear();
  active = true;
  const t0 = performance.now();
  await run();
  const instrumentedMs = performance.now() - t0;
  active = false;
  out.sections[label] = { wallMs: walls[Math.floor(walls.length / 2)], walls, instrumentedMs, ops: [...records.values()] };
}
console.log(JSON.stringify(out));

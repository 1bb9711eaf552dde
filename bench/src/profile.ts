// `pnpm --filter @vitlens/bench run profile [preset] [batch] [--backend wasm|tensorflow]
//   [--fast-kernels on|off|both] [--tf-threads n] [--top n] [--reps n]`
// Which kernels dominate a training step (forward + loss + backward), an AdamW update and a
// forward pass, and how many kernels each runs. Kernel times come from tf.profile; on tensorflow
// every TensorFlow eager op is also counted and timed where tfjs-node runs it (its binding's
// executeOp, synchronous on the CPU), since several tfjs kernels there are made of other ones.
// `--fast-kernels both` runs the stock composite LayerNorm/GELU and vitlens's fused kernels in one
// process on one model, the timed runs alternating, so both see the same machine load. Shares and
// counts are more robust than absolute times on a busy machine.
import { FUSED_KERNELS, initBackend, tf } from '@vitlens/core';
import { AdamW, LocalGradientEngine } from '@vitlens/train-loop';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';
import { setTensorflowThreads, tensorflowThreads } from './machine';
import { median } from './stats';

interface Options {
  preset: string;
  batch: number;
  backend: 'wasm' | 'tensorflow';
  fastKernels: ('on' | 'off')[];
  tfThreads: number | undefined;
  top: number;
  /** Timed runs per setting. */
  reps: number;
}

const USAGE = 'usage: profile [preset] [batch] [--backend wasm|tensorflow] [--fast-kernels on|off|both] [--tf-threads n] [--top n] [--reps n]';

function parseArgs(argv: string[]): Options {
  const positional: string[] = [];
  const env = process.env.VITLENS_BACKEND?.trim();
  const o: Options = {
    preset: 'vit-tiny-patch4-32',
    batch: 16,
    backend: env === 'tensorflow' ? 'tensorflow' : 'wasm',
    fastKernels: [process.env.VITLENS_FAST_KERNELS?.trim() === '0' ? 'off' : 'on'],
    tfThreads: undefined,
    top: 15,
    reps: 5,
  };
  const int = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: '${v}' is not a positive integer; ${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue;
    if (a === '--backend') {
      const v = argv[++i];
      if (v !== 'wasm' && v !== 'tensorflow') throw new Error(`--backend: '${v}' is not one of wasm, tensorflow`);
      o.backend = v;
    } else if (a === '--fast-kernels') {
      const v = argv[++i];
      if (v === 'both') o.fastKernels = ['off', 'on'];
      else if (v === 'on' || v === 'off') o.fastKernels = [v];
      else throw new Error(`--fast-kernels: '${v}' is not one of on, off, both`);
    } else if (a === '--tf-threads') o.tfThreads = int(a, argv[++i]);
    else if (a === '--top') o.top = int(a, argv[++i]);
    else if (a === '--reps') o.reps = int(a, argv[++i]);
    else if (a.startsWith('--')) throw new Error(`unknown option '${a}'; ${USAGE}`);
    else positional.push(a);
  }
  if (positional[0] !== undefined) o.preset = positional[0];
  if (positional[1] !== undefined) o.batch = int('batch', positional[1]);
  return o;
}

interface KernelRow {
  kernel: string;
  ms: number;
  calls: number;
}

/** One piece of work to profile: a training step, an optimizer update, a forward pass. */
interface Work {
  label: string;
  /** Images it processes (for kernels per image); undefined for the optimizer. */
  images: number | undefined;
  run: () => Promise<void>;
}

/** What one profiled piece of work ran with one kernel setting. */
interface Section {
  label: string;
  fast: 'on' | 'off';
  /** tfjs kernel calls (tf.profile), composite ones included. */
  kernels: number;
  /** Kernel ms without double counting (composite kernels and scopes left out). */
  kernelMs: number;
  /** TensorFlow eager ops (tensorflow only). */
  tfOps: number | undefined;
  tfOpMs: number | undefined;
  /** Median wall ms of the timed runs without profiling (interleaved with the other setting). */
  wallMs: number;
}

/** Counts and times every TensorFlow op tfjs-node executes, by op name. */
class TfOpCounter {
  readonly ops = new Map<string, KernelRow>();
  active = false;

  constructor() {
    // The binding's own properties are read-only (N-API defaults): put a child object in its place
    // on the backend, which is where tfjs-node (and vitlens's native kernels) look it up.
    const backend = tf.backend() as unknown as { binding: { executeOp: (name: string, ...rest: unknown[]) => unknown } };
    const binding = backend.binding;
    const executeOp = (name: string, ...rest: unknown[]) => {
      if (!this.active) return binding.executeOp(name, ...rest);
      const t0 = performance.now();
      try {
        return binding.executeOp(name, ...rest);
      } finally {
        const r = this.ops.get(name) ?? { kernel: name, ms: 0, calls: 0 };
        r.ms += performance.now() - t0;
        r.calls++;
        this.ops.set(name, r);
      }
    };
    backend.binding = Object.create(binding, { executeOp: { value: executeOp } });
  }
}

/**
 * tf.profile entries whose time includes other entries: scopes (`tf.customGrad` bodies, op
 * scopes such as `fusedMatMul__op`, which are no registered kernel) and, on tensorflow, kernels
 * that tfjs-node or vitlens build from other tfjs ops (`_FusedMatMul` is matMul + add + activation
 * there; vitlens's native LayerNorm/GELU are several ops).
 */
function isComposite(name: string, backend: string): boolean {
  if (tf.getKernel(name, backend) === undefined) return true;
  return backend === 'tensorflow' && (name === '_FusedMatMul' || (Object.values(FUSED_KERNELS) as string[]).includes(name));
}

function printTable(title: string, rows: (KernelRow & { composite?: boolean })[], total: number, top: number): void {
  console.log(`\n${title}\n`);
  console.log('| kernel | ms | share | calls | µs per call |\n| --- | --- | --- | --- | --- |');
  for (const r of rows.slice(0, top)) {
    const share = r.composite ? '(nested)' : `${((100 * r.ms) / total).toFixed(1)}%`;
    console.log(`| ${r.kernel}${r.composite ? ' *' : ''} | ${r.ms.toFixed(1)} | ${share} | ${r.calls} | ${((1000 * r.ms) / r.calls).toFixed(1)} |`);
  }
  if (rows.length > top) {
    const rest = rows.slice(top);
    console.log(`| ${rest.length} others | ${rest.reduce((s, r) => s + r.ms, 0).toFixed(1)} | | ${rest.reduce((s, r) => s + r.calls, 0)} | |`);
  }
}

/** Profile `work` once with tf.profile (and the TF op counter), after the timed runs. */
async function profileOnce(work: Work, fast: 'on' | 'off', wallMs: number, o: Options, counter: TfOpCounter | undefined): Promise<Section> {
  counter?.ops.clear();
  if (counter) counter.active = true;
  const info = await tf.profile(work.run);
  if (counter) counter.active = false;
  const backend = tf.getBackend();
  const rows = new Map<string, KernelRow & { composite: boolean }>();
  for (const k of info.kernels) {
    // Batched matMuls (the attention) take a different kernel path on wasm than plain 2-D ones.
    const rank = k.inputShapes[0]?.length ?? 0;
    const name = k.name === 'BatchMatMul' || k.name === '_FusedMatMul' ? `${k.name} ${rank === 2 ? '2-D' : `${rank}-D`}` : k.name;
    const r = rows.get(name) ?? { kernel: name, ms: 0, calls: 0, composite: isComposite(k.name, backend) };
    r.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    r.calls++;
    rows.set(name, r);
  }
  const sorted = [...rows.values()].sort((a, b) => b.ms - a.ms);
  const total = sorted.filter((r) => !r.composite).reduce((s, r) => s + r.ms, 0);
  const leaves = sorted.filter((r) => !r.composite).reduce((s, r) => s + r.calls, 0);
  const perImage = (n: number) => (work.images === undefined ? '' : ` (${(n / work.images).toFixed(1)} per image)`);
  console.log(`\n## ${work.label}, fused kernels ${fast}\n`);
  console.log(
    `${leaves} tfjs kernels${perImage(leaves)} plus ${info.kernels.length - leaves} composite calls (*), ${total.toFixed(0)} ms in the kernels while profiled; ` +
      `${wallMs.toFixed(0)} ms wall without profiling (median).`,
  );
  printTable('### by tfjs kernel (tf.profile; * = composite, its time is in the rows it calls)', sorted, total, o.top);
  let tfOps: number | undefined;
  let tfOpMs: number | undefined;
  if (counter) {
    const ops = [...counter.ops.values()].sort((a, b) => b.ms - a.ms);
    tfOps = ops.reduce((s, r) => s + r.calls, 0);
    tfOpMs = ops.reduce((s, r) => s + r.ms, 0);
    console.log(`\n${tfOps} TensorFlow ops${perImage(tfOps)}, ${tfOpMs.toFixed(0)} ms in them (${((1000 * tfOpMs) / tfOps).toFixed(1)} µs each on average).`);
    printTable('### by TensorFlow op (timed around tfjs-node’s executeOp, synchronous on the CPU)', ops, tfOpMs, o.top);
  }
  return { label: work.label, fast, kernels: leaves, kernelMs: total, tfOps, tfOpMs, wallMs };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // Before initBackend imports tfjs-node, which loads libtensorflow.
  if (o.tfThreads !== undefined) setTensorflowThreads(process.env, o.tfThreads);
  // Switching the fused kernels on or off only (un)registers kernels: the model asks on every call.
  const setFast = (fast: 'on' | 'off') => initBackend({ prefer: o.backend, fastKernels: fast === 'on' });
  const choice = await setFast(o.fastKernels[0]!);
  const counter = o.backend === 'tensorflow' ? new TfOpCounter() : undefined;
  const threads = o.backend === 'tensorflow' ? `, TF intra-op threads ${tensorflowThreads()}, libtensorflow ${choice.tensorflowVersion}` : '';
  console.log(`# profile ${o.preset}, batch ${o.batch}, backend ${choice.name}${threads}, fused kernels ${o.fastKernels.join(' and ')}`);

  const config = createConfig(o.preset);
  const model = ViTForImageClassification.create(config, { seed: 0 });
  const size = config.image_size;
  const images = Float32Array.from({ length: o.batch * size * size * 3 }, (_, i) => Math.sin(i));
  const labels = Int32Array.from({ length: o.batch }, (_, i) => i % 10);
  const engine = new LocalGradientEngine(model, { microBatchSize: o.batch });
  const optimizer = new AdamW(model.params, { decay: model.decayParamNames() });
  const ones = new Map([...model.params].map(([name, p]) => [name, tf.onesLike(p)] as [string, tf.Tensor]));
  const x = tf.tensor4d(images, [o.batch, size, size, 3]);
  const work: Work[] = [
    {
      label: `training step (forward + loss + backward), batch ${o.batch}`,
      images: o.batch,
      run: async () => {
        const { grads } = await engine.computeGradients({ images, shape: [o.batch, size, size, 3], labels }, { training: true, labelSmoothing: 0, seed: 0 });
        for (const g of grads.values()) g.dispose();
      },
    },
    {
      // Once per batch whatever the micro-batch: its kernels are per step, not per image.
      label: `AdamW update (${model.params.size} parameters)`,
      images: undefined,
      run: async () => {
        optimizer.applyGradients(ones, 1e-6);
        await [...model.params.values()].at(-1)?.data(); // the sync point: the last parameter updated
      },
    },
    {
      label: `forward, batch ${o.batch}`,
      images: o.batch,
      run: async () => {
        const { logits } = model.forward(x);
        await logits.data();
        logits.dispose();
      },
    },
  ];

  const sections: Section[] = [];
  for (const w of work) {
    // Warm-up (XNNPACK operator caches, wasm heap growth, oneDNN primitives), then timed runs
    // alternating between the settings so both see the same machine load.
    for (const fast of o.fastKernels) {
      await setFast(fast);
      await w.run();
    }
    const walls = new Map(o.fastKernels.map((f) => [f, [] as number[]]));
    for (let r = 0; r < o.reps; r++) {
      for (const fast of o.fastKernels) {
        await setFast(fast);
        const t0 = performance.now();
        await w.run();
        walls.get(fast)!.push(performance.now() - t0);
      }
    }
    for (const fast of o.fastKernels) {
      await setFast(fast);
      sections.push(await profileOnce(w, fast, median(walls.get(fast)!), o, counter));
    }
  }
  tf.dispose([x, ...ones.values()]);
  optimizer.dispose();
  model.dispose();

  if (o.fastKernels.length > 1) {
    console.log('\n# fused kernels off / on\n');
    console.log(`Wall: median of ${o.reps} runs each, the two settings alternating.\n`);
    console.log('| work | fused kernels | tfjs kernels | TF ops | kernel ms (profiled) | wall ms |\n| --- | --- | --- | --- | --- | --- |');
    for (const x of sections) console.log(`| ${x.label} | ${x.fast} | ${x.kernels} | ${x.tfOps ?? '–'} | ${x.kernelMs.toFixed(0)} | ${x.wallMs.toFixed(0)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

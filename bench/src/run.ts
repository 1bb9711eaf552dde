// `pnpm bench [--backend wasm|tensorflow|all] [--quick] [--only <preset>[,<preset>]] [--compare torch]
//   [--workers 1,2] [--tf-threads 2,1] [--micro-batch <n>|<backend>=<n>] [--out <dir>]`
// Runs every measurement in its own child process (so peak RSS, the wasm heap, which never shrinks,
// and TensorFlow's thread pool belong to one configuration) and writes results/benchmarks.{json,md}.
// Per preset and measure the backends and PyTorch run one after another, so they see similar load.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic, writeJsonAtomic } from '@vitlens/core/node';
import { countForwardFlops, createConfig } from '@vitlens/vit-model';
import type { InfoResult, Job, JobResult } from './jobs';
import { machineInfo, setTensorflowThreads } from './machine';
import { type BenchBackend, PRESETS, microBatchFor, parseArgs, presetBatches } from './options';
import { type Measure, type Report, type Row, toMarkdown } from './report';
import { round } from './roofline';
import { spread } from './stats';
import { runTorch, torchAvailable } from './torch';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The bench package folder: the nearest parent holding torch_vit.py (dist/ when built). */
function findBenchDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'torch_vit.py'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}
const benchDir = findBenchDir(here);
const repoRoot = path.resolve(benchDir, '..');

type Outcome<T> = T | { error: string };

/**
 * The child's environment: TensorFlow reads its thread counts once, when libtensorflow loads, so
 * they are set here rather than by the job. The wasm heap is capped at 4 GiB per replica; the JS
 * heap needs room for the batch arrays.
 */
function childEnv(job: Job): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=8192`.trim() };
  env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  if (job.tfThreads !== undefined) setTensorflowThreads(env, job.tfThreads);
  return env;
}

function jobLabel(job: Job): string {
  const { kind, backend, tfThreads, ...rest } = job;
  return `${kind} ${backend}${tfThreads !== undefined ? ` ${tfThreads}t` : ''} ${JSON.stringify(rest)}`;
}

function runChild<T extends object = JobResult>(job: Job): Outcome<T> {
  process.stdout.write(`… ${jobLabel(job)} (load ${os.loadavg()[0]?.toFixed(1)})\n`);
  const r = spawnSync(process.execPath, [path.join(here, 'job.js'), JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 1 << 26, env: childEnv(job) });
  const result = jobOutcome<T>(r.stdout ?? '', `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').slice(-2000)}`);
  if ('error' in result) process.stdout.write(`  ✗ ${result.error.split('\n')[0]}\n`);
  else if (job.kind !== 'info') {
    const m = result as JobResult;
    process.stdout.write(`  → ${m.value} ${m.unit} (spread ${(m.spread * 100).toFixed(0)}%, peak RSS ${m.peakRssMiB} MiB)\n`);
  }
  return result;
}

/** The `@@result` or `@@error` line a job printed, or `failure` when it printed neither. */
function jobOutcome<T extends object>(stdout: string, failure: string): Outcome<T> {
  const line = stdout.split('\n').find((l) => l.startsWith('@@result ') || l.startsWith('@@error '));
  if (line?.startsWith('@@result ')) return JSON.parse(line.slice(9)) as T;
  return { error: line ? (JSON.parse(line.slice(8)) as string) : failure };
}

/**
 * The same roofline job in `n` processes at once: the per-core rate when n cores are busy (shared
 * caches, memory bandwidth and clock), which is what an n-worker wasm run is held to.
 * Returns the first process's result with `value` the mean over the processes.
 */
async function runConcurrentRoofline(job: Extract<Job, { kind: 'roofline' }>, n: number): Promise<Outcome<JobResult>> {
  if (n === 1) return runChild(job);
  process.stdout.write(`… roofline ${job.preset} on ${n} cores at once ${JSON.stringify(job)}\n`);
  const one = () =>
    new Promise<Outcome<JobResult>>((resolve) => {
      const child = spawn(process.execPath, [path.join(here, 'job.js'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(job) });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += String(d);
      });
      child.stderr.on('data', (d) => {
        err += String(d);
      });
      child.on('close', (code) => resolve(jobOutcome(out, `exit ${code}: ${err.slice(-2000)}`)));
    });
  const results = await Promise.all(Array.from({ length: n }, one));
  const failed = results.find((r): r is { error: string } => 'error' in r);
  if (failed) return failed;
  const ok = results as JobResult[];
  const mean = ok.reduce((s, r) => s + r.value, 0) / n;
  process.stdout.write(`  → ${mean.toFixed(2)} GFLOP/s per core (${ok.map((r) => r.value).join(', ')})\n`);
  return { ...ok[0]!, value: round(mean), runs: ok.map((r) => r.value), detail: { ...ok[0]!.detail, cores: n } };
}

/** Which backends this run measures, with what each one loaded (an `info` job per backend). */
function probeBackends(requested: BenchBackend[] | 'auto', tfThreads: number): { infos: InfoResult[]; note: string | undefined } {
  const wanted: BenchBackend[] = requested === 'auto' ? ['wasm', 'tensorflow'] : requested;
  const infos: InfoResult[] = [];
  let note: string | undefined;
  for (const backend of wanted) {
    const info = runChild<InfoResult>({ kind: 'info', backend, ...(backend === 'tensorflow' ? { tfThreads } : {}) });
    if (!('error' in info)) {
      infos.push(info);
      continue;
    }
    const why = info.error.split('\n')[0] ?? info.error;
    if (requested !== 'auto') throw new Error(`--backend ${backend}: the backend does not load: ${why}`);
    note = `${backend} not measured: it does not load here (${why}); \`pnpm native\` builds the native addon`;
  }
  return { infos, note };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2), repoRoot);
  const presets = o.only.length > 0 ? o.only : [...PRESETS];
  const command = `pnpm bench${process.argv.length > 2 ? ` ${process.argv.slice(2).filter((a) => a !== '--').join(' ')}` : ''}`;
  const machine = machineInfo();
  const q = o.quick;
  const warmup = 1;
  const reps = 3;
  // The 32×32 presets' runs take seconds: 5 of them make the median robust to this VM's swings.
  const modelReps = (preset: string) => (q || preset === 'vit-base-patch16-224' ? reps : 5);
  const torchThreads = [...new Set([1, os.availableParallelism()])];

  const torch = o.compareTorch ? torchAvailable() : { ok: false, why: 'not requested (pnpm bench --compare torch)' };
  if (o.compareTorch && !torch.ok) throw new Error(`--compare torch: PyTorch cannot be imported (${torch.why}); see bench/README.md`);
  const { infos, note } = probeBackends(o.backends, o.tfThreads[0]!);
  const backends = infos.map((i) => i.name as BenchBackend);
  const report: Report = {
    command,
    date: new Date().toISOString(),
    machine,
    backends: infos,
    backendNote: note,
    settings: { workers: backends.includes('wasm') ? o.workers : [], tfThreads: backends.includes('tensorflow') ? o.tfThreads : [], torchThreads: o.compareTorch ? torchThreads : [], microBatch: {} },
    torch: { available: torch.ok, note: torch.why },
    roofline: [],
    data: null,
    rows: [],
    quick: q,
  };
  if (o.compareTorch) {
    report.torch.mmGflops = {};
    for (const t of torchThreads) report.torch.mmGflops[t] = runTorch(benchDir, { mode: 'mm', threads: t, warmup: 2, reps: 3 }).gflops ?? 0;
  }
  const describe = infos.map((b) => `${b.name}${b.tensorflowVersion ? ` (TF ${b.tensorflowVersion}, threads ${o.tfThreads.join('/')})` : ''}${b.fastKernels ? '' : ' without fused kernels'}`);
  process.stdout.write(`vitlens bench: ${describe.join(', ')}; ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join('/')}${note ? `\n${note}` : ''}\n`);

  if (o.only.length === 0) report.data = runChild<JobResult>({ kind: 'data', backend: backends[0] ?? 'wasm', reps, quick: q });

  for (const preset of presets) {
    const base = preset === 'vit-base-patch16-224';
    const { infer: inferBatch, train: trainBatch } = presetBatches(preset, q);
    const micro = Object.fromEntries(backends.map((b) => [b, microBatchFor(o, b, preset)])) as Partial<Record<BenchBackend, number>>;
    report.settings.microBatch[preset] = micro;
    const config = createConfig(preset);
    const fwdFlops = countForwardFlops(config);

    // Rooflines first: plain 2-D matMul at this preset's shapes on each backend as configured.
    const roofline = new Map<string, number | undefined>();
    const keep = (key: string, r: Outcome<JobResult>, total: (r: JobResult) => number) => {
      if ('error' in r) return;
      report.roofline.push(r);
      roofline.set(key, total(r));
    };
    if (backends.includes('wasm')) {
      keep('wasm inference 1', runChild({ kind: 'roofline', backend: 'wasm', preset, batch: inferBatch, training: false, reps }), (r) => r.value);
      for (const workers of o.workers) {
        // Per core with as many cores busy as the workers use; the row is held to per core × workers.
        const r = await runConcurrentRoofline({ kind: 'roofline', backend: 'wasm', preset, batch: micro.wasm!, training: true, reps }, workers);
        keep(`wasm training ${workers}`, r, (x) => x.value * workers);
      }
    }
    if (backends.includes('tensorflow')) {
      for (const t of o.tfThreads) {
        keep(`tensorflow inference ${t}`, runChild({ kind: 'roofline', backend: 'tensorflow', tfThreads: t, preset, batch: inferBatch, training: false, reps }), (r) => r.value);
        keep(`tensorflow training ${t}`, runChild({ kind: 'roofline', backend: 'tensorflow', tfThreads: t, preset, batch: micro.tensorflow!, training: true, reps }), (r) => r.value);
      }
    }

    const vitlensRow = (what: Measure, system: BenchBackend, cores: number, job: Job & { batch: number }, rf?: string): void => {
      const microBatch = job.kind === 'train' ? job.microBatch : undefined;
      report.rows.push({ preset, what, system, cores, batch: job.batch, microBatch, result: runChild(job), rooflineGflops: rf === undefined ? undefined : roofline.get(rf) });
    };
    const torchRows = (what: Measure, batch: number): void => {
      if (!o.compareTorch) return;
      const mode = what === 'training' ? 'train' : 'infer';
      for (const threads of torchThreads) {
        const load = round(os.loadavg()[0] ?? 0);
        let result: Row['result'];
        try {
          const t = runTorch(benchDir, { mode, threads, config, batch, warmup, reps });
          const s = batch / (t.imagesPerSecond ?? Number.NaN);
          const work = (what === 'training' ? 3 : 1) * fwdFlops * batch;
          result = { value: round(t.imagesPerSecond ?? Number.NaN), unit: 'images/s', runs: t.runs.map((v) => round(v, 4)), spread: round(spread(t.runs)), gflopsEffective: round(work / s / 1e9), secondsPerImage: round(s / batch, 4), peakRssMiB: t.peakRssMiB ?? Number.NaN, load };
          process.stdout.write(`  torch ${mode} ${preset} batch ${batch} ${threads}t → ${result.value} images/s (peak RSS ${result.peakRssMiB} MiB)\n`);
        } catch (error) {
          result = { error: error instanceof Error ? error.message : String(error) };
          process.stdout.write(`  ✗ torch ${mode} ${preset} ${threads}t: ${result.error.split('\n')[0]}\n`);
        }
        report.rows.push({ preset, what, system: 'torch', cores: threads, batch, result });
      }
    };

    const measures: Measure[] = base ? ['inference', 'latency', 'training'] : ['inference', 'training'];
    for (const what of measures) {
      const batch = what === 'training' ? trainBatch : what === 'latency' ? 1 : inferBatch;
      const n = what === 'latency' ? reps : modelReps(preset);
      if (what !== 'training') {
        if (backends.includes('wasm')) vitlensRow(what, 'wasm', 1, { kind: 'infer', backend: 'wasm', preset, batch, warmup, reps: n }, what === 'inference' ? 'wasm inference 1' : undefined);
        for (const t of backends.includes('tensorflow') ? o.tfThreads : []) {
          vitlensRow(what, 'tensorflow', t, { kind: 'infer', backend: 'tensorflow', tfThreads: t, preset, batch, warmup, reps: n }, what === 'inference' ? `tensorflow inference ${t}` : undefined);
        }
      } else {
        // ViT-B/16 training is minutes per step on wasm: one timed step after a warm-up on a few
        // images (one per wasm replica). On tensorflow (seconds per step) the warm-up is a whole
        // batch: the process's first full batch (its memory growing to the peak, the first gradient
        // accumulation) is slower than the steady state, and timing it understated TF by ~15%.
        const trainJob = (backend: BenchBackend, workers: number, tfThreads?: number): Job & { batch: number } => ({
          kind: 'train',
          backend,
          ...(tfThreads !== undefined ? { tfThreads } : {}),
          preset,
          batch,
          microBatch: micro[backend]!,
          workers,
          ...(base ? { warmup: 0, reps: 1, warmupBatch: backend === 'wasm' ? workers : batch } : { warmup, reps: n }),
        });
        if (backends.includes('wasm')) for (const w of o.workers) vitlensRow(what, 'wasm', w, trainJob('wasm', w), `wasm training ${w}`);
        for (const t of backends.includes('tensorflow') ? o.tfThreads : []) vitlensRow(what, 'tensorflow', t, trainJob('tensorflow', 1, t), `tensorflow training ${t}`);
      }
      torchRows(what, batch);
      await writeOut(o.out, report);
    }
  }
  report.loadAverageEnd = os.loadavg().map((x) => round(x));
  await writeOut(o.out, report);
  process.stdout.write(`\n${toMarkdown(report)}\nwrote ${path.join(o.out, 'benchmarks.json')} and benchmarks.md\n`);
}

async function writeOut(dir: string, report: Report): Promise<void> {
  await writeJsonAtomic(path.join(dir, 'benchmarks.json'), report);
  await writeFileAtomic(path.join(dir, 'benchmarks.md'), toMarkdown(report));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

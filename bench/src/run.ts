// `pnpm bench [--quick] [--only <preset>[,<preset>]] [--compare torch] [--workers 1,2] [--out <dir>]`
// Runs every measurement in its own child process (so peak RSS and the wasm heap, which never
// shrinks, belong to one configuration) and writes results/benchmarks.{json,md}.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@vitlens/core';
import { writeFileAtomic, writeJsonAtomic } from '@vitlens/core/node';
import type { Job, JobResult } from './jobs';
import { backendInfo, machineInfo } from './machine';
import { type Report, type Row, toMarkdown } from './report';
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

export const PRESETS = ['vit-tiny-patch4-32', 'vit-mini-patch4-32', 'vit-base-patch16-224'] as const;

interface Options {
  quick: boolean;
  only: string[];
  compareTorch: boolean;
  workers: number[];
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, only: [], compareTorch: false, workers: [1, 2], out: path.join(repoRoot, 'results') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only.push(...value().split(','));
    else if (a === '--compare') {
      const v = value();
      if (v !== 'torch') throw new Error(`--compare: unknown reference '${v}'; the one reference is 'torch'`);
      o.compareTorch = true;
    } else if (a === '--workers') {
      o.workers = value().split(',').map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--workers: '${s}' is not a positive integer (e.g. --workers 1,2)`);
        return n;
      });
    } else if (a === '--out') o.out = path.resolve(value());
    else throw new Error(`unknown argument '${a}'; valid: --quick, --only <preset>, --compare torch, --workers 1,2, --out <dir>`);
  }
  for (const p of o.only) {
    if (!(PRESETS as readonly string[]).includes(p)) throw new Error(`--only: unknown preset '${p}'; valid presets are ${PRESETS.join(', ')}`);
  }
  return o;
}

function runChild(job: Job): JobResult | { error: string } {
  const label = `${job.kind} ${'preset' in job ? job.preset : ''} ${JSON.stringify(job)}`;
  process.stdout.write(`… ${label}\n`);
  const r = spawnSync(process.execPath, [path.join(here, 'job.js'), JSON.stringify(job)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    // The wasm heap is capped at 4 GiB per replica; the JS heap needs room for the batch arrays.
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=8192`.trim() },
  });
  const result = jobOutcome(r.stdout ?? '', `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').slice(-2000)}`);
  if ('error' in result) process.stdout.write(`  ✗ ${result.error.split('\n')[0]}\n`);
  else process.stdout.write(`  → ${result.value} ${result.unit} (spread ${(result.spread * 100).toFixed(0)}%)\n`);
  return result;
}

/** The `@@result` or `@@error` line a job printed, or `failure` when it printed neither. */
function jobOutcome(stdout: string, failure: string): JobResult | { error: string } {
  const line = stdout.split('\n').find((l) => l.startsWith('@@result ') || l.startsWith('@@error '));
  if (line?.startsWith('@@result ')) return JSON.parse(line.slice(9)) as JobResult;
  return { error: line ? (JSON.parse(line.slice(8)) as string) : failure };
}

/**
 * The same roofline job in `n` processes at once: the per-core rate when n cores are busy (shared
 * caches, memory bandwidth and clock), which is what an n-worker training run is held to.
 * Returns the first process's result with `value` the mean over the processes.
 */
async function runConcurrentRoofline(job: Extract<Job, { kind: 'roofline' }>, n: number): Promise<JobResult | { error: string }> {
  if (n === 1) return runChild(job);
  process.stdout.write(`… roofline ${job.preset} on ${n} cores at once ${JSON.stringify(job)}\n`);
  const one = () =>
    new Promise<JobResult | { error: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(here, 'job.js'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  return { ...ok[0]!, value: Math.round(mean * 100) / 100, runs: ok.map((r) => r.value), detail: { ...ok[0]!.detail, cores: n } };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const presets = o.only.length > 0 ? o.only : [...PRESETS];
  const command = `pnpm bench${process.argv.length > 2 ? ` ${process.argv.slice(2).filter((a) => a !== '--').join(' ')}` : ''}`;
  await initBackend({ prefer: (process.env.VITLENS_BACKEND as 'wasm' | undefined) ?? 'wasm' });
  const backend = await backendInfo();
  const machine = machineInfo();
  const q = o.quick;
  const warmup = 1;
  const reps = 3;
  // The 32×32 presets' runs take seconds: 5 of them make the median robust to this VM's swings.
  const modelReps = (preset: string) => (q || preset === 'vit-base-patch16-224' ? reps : 5);

  const torch = o.compareTorch ? torchAvailable() : { ok: false, why: 'not requested (pnpm bench --compare torch)' };
  if (o.compareTorch && !torch.ok) throw new Error(`--compare torch: PyTorch cannot be imported (${torch.why}); see bench/README.md`);
  const report: Report = {
    command,
    date: new Date().toISOString(),
    machine,
    backend,
    torch: { available: torch.ok, note: torch.why },
    roofline: [],
    data: null,
    rows: [],
    quick: q,
  };
  if (o.compareTorch) {
    report.torch.mmGflops = {};
    for (const t of [1, 2]) report.torch.mmGflops[t] = runTorch(benchDir, { mode: 'mm', threads: t, warmup: 2, reps: 3 }).gflops ?? 0;
  }
  process.stdout.write(`vitlens bench: ${backend.name} (${backend.threads} thread/replica, SIMD ${backend.simd}), ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join('/')}\n`);

  if (o.only.length === 0) report.data = runChild({ kind: 'data', reps, quick: q });

  for (const preset of presets) {
    const base = preset === 'vit-base-patch16-224';
    // 64, not 128, for the 32×32 presets: on wasm vit-tiny inference ran at ~50 images/s at batch
    // 32 or 64 but ~30 at batch 128 (packages/vit-model/scripts/bench-forward.mjs), so 64 is its best case.
    const inferBatch = base ? 4 : q ? 32 : 64;
    const trainBatch = base ? (q ? 2 : 16) : q ? 32 : 128;
    const micro = base ? 1 : q ? 16 : 32;
    const configFor = async () => ((await import('@vitlens/vit-model')).createConfig(preset));

    const rfInfer = runChild({ kind: 'roofline', preset, batch: inferBatch, training: false, reps });
    // The training roofline per core with as many cores busy as each worker count uses.
    const rfTrain = new Map<number, JobResult | { error: string }>();
    for (const workers of o.workers) {
      rfTrain.set(workers, await runConcurrentRoofline({ kind: 'roofline', preset, batch: micro, training: true, reps }, workers));
    }
    for (const r of [rfInfer, ...rfTrain.values()]) if (!('error' in r)) report.roofline.push(r);
    const rf = (r: JobResult | { error: string } | undefined) => (r === undefined || 'error' in r ? undefined : r.value);

    const torchRows = (row: Row, mode: 'train' | 'infer', batch: number) => {
      if (!o.compareTorch) return;
      return configFor().then((config) => {
        row.torch = [1, 2].map((threads) => {
          const t = runTorch(benchDir, { mode, threads, config, batch, warmup, reps });
          process.stdout.write(`  torch ${mode} ${preset} batch ${batch} ${threads}t → ${t.imagesPerSecond?.toFixed(2)} images/s\n`);
          return { threads, imagesPerSecond: t.imagesPerSecond ?? Number.NaN };
        });
      });
    };

    const infer: Row = { preset, what: 'inference', batch: inferBatch, workers: 1, result: runChild({ kind: 'infer', preset, batch: inferBatch, warmup, reps: modelReps(preset) }), rooflineGflops: rf(rfInfer) };
    report.rows.push(infer);
    await torchRows(infer, 'infer', inferBatch);
    if (base) {
      report.rows.push({ preset, what: 'latency', batch: 1, workers: 1, result: runChild({ kind: 'infer', preset, batch: 1, warmup, reps }), rooflineGflops: undefined });
    }
    for (const workers of o.workers) {
      // ViT-B/16 training is minutes per step: one timed step after a one-image warm-up.
      const trainJob: Job = base
        ? { kind: 'train', preset, batch: trainBatch, microBatch: micro, workers, warmup: 0, reps: 1, warmupBatch: workers }
        : { kind: 'train', preset, batch: trainBatch, microBatch: micro, workers, warmup, reps: modelReps(preset) };
      const row: Row = { preset, what: 'training', batch: trainBatch, microBatch: micro, workers, result: runChild(trainJob), rooflineGflops: rf(rfTrain.get(workers)) };
      report.rows.push(row);
    }
    const firstTrain = report.rows.find((r) => r.preset === preset && r.what === 'training');
    if (firstTrain) {
      await torchRows(firstTrain, 'train', trainBatch);
      for (const r of report.rows) if (r.preset === preset && r.what === 'training') r.torch = firstTrain.torch;
    }
    await writeOut(o.out, report);
  }
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

import type { InfoResult, JobResult, Measured } from './jobs';
import type { MachineInfo } from './machine';
import type { BenchBackend } from './options';

export type Measure = 'inference' | 'latency' | 'training';
export type System = BenchBackend | 'torch';

export interface Row {
  preset: string;
  what: Measure;
  system: System;
  /** wasm: replicas (main thread + workers), one core each; tensorflow: intra-op threads; torch: threads. */
  cores: number;
  batch: number;
  microBatch?: number | undefined;
  result: JobResult | Measured | { error: string };
  /**
   * The plain-matMul rate this configuration can reach, GFLOP/s: on wasm per core (measured with
   * as many cores busy) × replicas; on tensorflow at the same thread count.
   */
  rooflineGflops?: number | undefined;
}

export interface Report {
  command: string;
  date: string;
  machine: MachineInfo;
  /** 1/5/15-minute load average when the run ended. */
  loadAverageEnd?: number[];
  backends: InfoResult[];
  /** Why a backend asked for (or `auto`) was left out. */
  backendNote?: string | undefined;
  settings: {
    workers: number[];
    tfThreads: number[];
    torchThreads: number[];
    /** preset → backend → micro-batch. */
    microBatch: Record<string, Partial<Record<BenchBackend, number>>>;
  };
  torch: { available: boolean; note: string; mmGflops?: Record<string, number> };
  roofline: JobResult[];
  data: JobResult | { error: string } | null;
  rows: Row[];
  quick: boolean;
}

/**
 * Issue 12's targets on the project's 2-core VM: tensorflow on all cores against PyTorch at its
 * best thread count (images/s ratio), and tensorflow's peak RSS within 2× of PyTorch's.
 */
export const TARGETS: { preset: (p: string) => boolean; what: Measure; ratio: number }[] = [
  { preset: (p) => p.endsWith('-32'), what: 'training', ratio: 1.3 },
  { preset: (p) => p.endsWith('-32'), what: 'inference', ratio: 1.3 },
  { preset: (p) => p === 'vit-base-patch16-224', what: 'inference', ratio: 1.5 },
  { preset: (p) => p === 'vit-base-patch16-224', what: 'training', ratio: 1.0 },
];
export const MEMORY_TARGET = 2;

const f = (x: number | undefined | null, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '–' : x.toFixed(d));
const ok = (r: Row['result'] | undefined): r is JobResult | Measured => r !== undefined && !('error' in r);

/** The fraction of roofline a row reaches: effective GFLOP/s / the configuration's roofline. */
export function rooflineFraction(row: Row): number | undefined {
  if (!ok(row.result) || row.rooflineGflops === undefined || row.result.gflopsEffective === undefined) return undefined;
  return row.result.gflopsEffective / row.rooflineGflops;
}

const SYSTEM_NAMES: Record<System, string> = { wasm: 'wasm', tensorflow: 'tensorflow', torch: 'PyTorch' };
const unitOf = (s: System) => (s === 'wasm' ? 'w' : 't');

/** A median with its spread: `35.8 (5%)`. */
function cell(r: Row['result'] | undefined, digits: number): string {
  if (r === undefined) return '–';
  if (!ok(r)) return 'failed';
  return `${f(r.value, digits)} (${f(r.spread * 100, 0)}%)`;
}

/** Per preset and measure, one column per configuration measured: wasm workers, TF threads, torch threads. */
function combinedTable(r: Report): string[] {
  const columns: { system: System; cores: number }[] = [];
  for (const system of ['wasm', 'tensorflow', 'torch'] as const) {
    const cores = [...new Set(r.rows.filter((x) => x.system === system).map((x) => x.cores))];
    // wasm and torch from 1 up; tensorflow from all cores down (its default first).
    cores.sort((a, b) => (system === 'tensorflow' ? b - a : a - b));
    for (const c of cores) columns.push({ system, cores: c });
  }
  const tfBest = Math.max(...r.settings.tfThreads, 0);
  const withRatio = tfBest > 0 && r.rows.some((x) => x.system === 'torch');
  const lines: string[] = [];
  const head = ['preset', 'measure', 'batch (micro)', ...columns.map((c) => `${SYSTEM_NAMES[c.system]} ${c.cores}${unitOf(c.system)}`)];
  if (withRatio) head.push(`tensorflow ${tfBest}t / PyTorch best (target)`, `peak RSS MiB: tensorflow ${tfBest}t / PyTorch (≤ ${MEMORY_TARGET}×)`);
  lines.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`);
  const groups = new Map<string, Row[]>();
  for (const row of r.rows) {
    const key = `${row.preset}\u0000${row.what}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const rows of groups.values()) {
    const { preset, what, batch } = rows[0]!;
    const digits = preset === 'vit-base-patch16-224' ? 2 : 1;
    const micro = r.settings.microBatch[preset] ?? {};
    const microText = what === 'training' ? ` (${(['wasm', 'tensorflow'] as const).filter((b) => micro[b] !== undefined).map((b) => `${b} ${micro[b]}`).join(', ')})` : '';
    const find = (system: System, cores: number) => rows.find((x) => x.system === system && x.cores === cores)?.result;
    const cells = [preset, what, `${batch}${microText}`, ...columns.map((c) => cell(find(c.system, c.cores), digits))];
    if (withRatio) {
      const tf = find('tensorflow', tfBest);
      const torch = rows.filter((x) => x.system === 'torch' && ok(x.result)).map((x) => x.result as Measured);
      const best = torch.reduce<Measured | undefined>((b, x) => (b === undefined || x.value > b.value ? x : b), undefined);
      const target = TARGETS.find((t) => t.what === what && t.preset(preset))?.ratio;
      if (ok(tf) && best !== undefined) {
        const ratio = tf.value / best.value;
        const mark = target === undefined ? '' : ` (≥ ${target}: ${ratio >= target ? '✓' : '✗'})`;
        const mem = tf.peakRssMiB / best.peakRssMiB;
        cells.push(`${f(ratio, 2)}${mark}`, `${f(tf.peakRssMiB, 0)} / ${f(best.peakRssMiB, 0)} = ${f(mem, 2)}× ${mem <= MEMORY_TARGET ? '✓' : '✗'}`);
      } else cells.push('–', '–');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

export function toMarkdown(r: Report): string {
  const lines: string[] = [];
  lines.push('# vitlens benchmarks', '');
  lines.push(`Command: \`${r.command}\`${r.quick ? ' (quick: small batches, fewer runs)' : ''}  `);
  lines.push(`Date: ${r.date}  `);
  lines.push(
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.platform}; Node ${r.machine.node}; tfjs-core ${r.machine.tfjs}; ` +
      `load average at start ${r.machine.loadAverage.join(' / ')}${r.loadAverageEnd ? `, at end ${r.loadAverageEnd.join(' / ')}` : ''}  `,
  );
  for (const b of r.backends) {
    const threads = b.name === 'tensorflow' ? `libtensorflow ${b.tensorflowVersion ?? '?'}, intra-op threads ${r.settings.tfThreads.join(' and ')}` : `${b.threads} thread(s) per replica, SIMD ${b.simd ?? 'n/a'}, workers ${r.settings.workers.join(' and ')}`;
    lines.push(`Backend: ${b.name} (${b.module}), ${threads}, vitlens fused kernels ${b.fastKernels ? 'on' : 'off'}  `);
  }
  if (r.backendNote) lines.push(`${r.backendNote}  `);
  lines.push(`PyTorch reference: ${r.torch.note}${r.torch.mmGflops ? ` — 2048² torch.mm: ${Object.entries(r.torch.mmGflops).map(([t, g]) => `${f(g, 0)} GFLOP/s at ${t} thread(s)`).join(', ')}` : ''}`);
  lines.push(
    '',
    'Figures are medians of the timed runs after warm-up, with the spread, (max − min) / median, in parentheses. Training is forward + loss + backward + AdamW on synthetic images; effective GFLOP/s counts matmul FLOPs only (training = 3 × forward). Peak RSS is each process\'s own maximum resident set (getrusage), worker threads included.',
    '',
  );

  lines.push('## Images/s by backend', '');
  lines.push('`w`: wasm replicas (main thread + worker_threads, one core each); `t`: TensorFlow intra-op threads or PyTorch threads. The targets are issue 12\'s, for the project\'s 2-core VM.', '');
  lines.push(...combinedTable(r));

  lines.push('', '## Every measurement', '');
  lines.push('| preset | measure | system | cores | batch (micro) | images/s | spread | s/image | eff. GFLOP/s | roofline | of roofline | peak RSS MiB | wasm heap MiB | load |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of r.rows) {
    const batch = row.microBatch !== undefined && row.microBatch < row.batch ? `${row.batch} (${row.microBatch})` : String(row.batch);
    const cores = `${row.cores}${unitOf(row.system)}`;
    const head = `| ${row.preset} | ${row.what} | ${SYSTEM_NAMES[row.system]} | ${cores} | ${batch}`;
    if (!ok(row.result)) {
      lines.push(`${head} | failed: ${row.result.error.split('\n')[0]?.slice(0, 120)} | | | | | | | | |`);
      continue;
    }
    const res = row.result;
    const frac = rooflineFraction(row);
    const heap = 'wasmHeapMiB' in res ? res.wasmHeapMiB : null;
    lines.push(
      `${head} | ${f(res.value, 2)} | ${f(res.spread * 100, 0)}% | ${f(res.secondsPerImage, 3)} | ${f(res.gflopsEffective)} | ${f(row.rooflineGflops)} | ${frac === undefined ? '–' : `${f(frac * 100, 0)}%`} | ${f(res.peakRssMiB, 0)} | ${f(heap, 0)} | ${f(res.load)} |`,
    );
  }

  lines.push('', "## Roofline: the backend's own plain 2-D matMul at the model's shapes", '');
  lines.push(
    'wasm: one thread per process; for the n-worker rows n processes run the same shapes at once and the figure is their mean, per core (a row is held to it × n). tensorflow: one process at the given intra-op threads (a row is held to it).',
    '',
  );
  lines.push('| preset | backend | pass | batch | threads × processes | FLOP-weighted GFLOP/s | shapes (GFLOP/s, first process) |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const j of r.roofline) {
    if (j.job.kind !== 'roofline') continue;
    const shapes = (j.detail?.shapes as { shape: string; what: string; gflops: number }[]) ?? [];
    const processes = (j.detail?.cores as number | undefined) ?? 1;
    lines.push(
      `| ${j.job.preset} | ${j.backend} | ${j.job.training ? 'training (fwd + dX + dW)' : 'forward'} | ${j.job.batch} | ${j.threads} × ${processes} | ${f(j.value)} | ${shapes.map((s) => `${s.what} ${s.shape}: ${f(s.gflops)}`).join('; ')} |`,
    );
  }

  lines.push('', '## Data pipeline', '');
  if (r.data === null) lines.push('Not measured (--only).');
  else if ('error' in r.data) lines.push(`Not measured: ${r.data.error.split('\n')[0]}`);
  else {
    const d = r.data.detail as { decodeImages?: number; batches?: { policy: string; size: number; imagesPerSecond: number }[] };
    lines.push(`JPEG decode (one thread, ${d.decodeImages ?? '?'} images from memory): ${f(r.data.value, 0)} images/s.`, '');
    lines.push('| augmentation | model input | batches: images/s |', '| --- | --- | --- |');
    for (const b of d.batches ?? []) lines.push(`| ${b.policy} | ${b.size}×${b.size} | ${f(b.imagesPerSecond, 0)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

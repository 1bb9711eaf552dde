#!/usr/bin/env node
// Load and attack probe for `vitlens serve`, rerunnable: starts the built CLI on 127.0.0.1 (a free
// port) with the shipped model and a small image folder that holds links leading out, then
//   load       N requests over the routes, C at a time: rate, latency percentiles, errors, server memory
//   traversal  path variants aimed at files outside every served folder, Host names (DNS rebinding)
//   abuse      slow headers (slowloris), a 100 MB POST, huge headers, long URLs
// and prints the figures (--json for machines). Loopback only; bounded in requests and time.
//   pnpm --filter @vitlens/cli run probe [-- --requests 2000 --concurrency 32 --max-seconds 120 --json]
// Needs `pnpm build` first (it runs apps/cli/dist/bin.js).
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { postBody } from './http-probes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'dist', 'bin.js');
const shippedModel = path.join(here, '..', '..', '..', 'models', 'default');
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const cifar = process.env.VITLENS_CIFAR10_JPEG ?? path.join(here, '..', '..', '..', '..', 'shared', 'data', 'cifar10-jpeg');

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const REQUESTS = Math.min(flag('requests', 2000), 20_000);
const CONCURRENCY = Math.min(flag('concurrency', 32), 256);
const MAX_SECONDS = Math.min(flag('max-seconds', 120), 600);
const JSON_OUT = process.argv.includes('--json');
const deadline = Date.now() + MAX_SECONDS * 1000;
const SECRET = `vitlens-probe-secret-${process.pid}`;

/** One request with the path sent byte for byte; resolves to status, body and time. */
function request(port, rawPath, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers, agent: false });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), ms: performance.now() - started }));
      res.on('error', () => resolve({ status: 0, body: Buffer.alloc(0), ms: performance.now() - started }));
    });
    req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0), ms: performance.now() - started }));
    req.end(body);
  });
}

async function fixture(root) {
  const secret = path.join(root, 'secret.jpg');
  await fs.writeFile(secret, SECRET);
  // the shipped model, its trainer state saying 5 images per class were held out: /api/sample
  // then offers the held-out images the loader lists (links included, before the fix)
  const checkpoint = path.join(root, 'checkpoint');
  await fs.mkdir(checkpoint);
  for (const file of ['config.json', 'preprocessor_config.json', 'model.safetensors']) await fs.copyFile(path.join(shippedModel, file), path.join(checkpoint, file));
  const state = JSON.parse(await fs.readFile(path.join(shippedModel, 'trainer_state.json'), 'utf8'));
  await fs.writeFile(path.join(checkpoint, 'trainer_state.json'), JSON.stringify({ ...state, config: { ...state.config, valPerClass: 5, seed: 42 } }));
  const data = path.join(root, 'data');
  for (const cls of CLASSES) {
    const dir = path.join(data, 'train', cls);
    await fs.mkdir(dir, { recursive: true });
    await fs.symlink(secret, path.join(dir, '0000.jpg')); // a link leading out of the data folder
    for (let i = 1; i <= 9; i++) {
      const from = path.join(cifar, 'train', cls, `000${i}.jpg`);
      await fs.copyFile(from, path.join(dir, `000${i}.jpg`)).catch(() => fs.writeFile(path.join(dir, `000${i}.jpg`), Buffer.from([0xff, 0xd8, 0xff, 0xd9])));
    }
  }
  return { secret, data, checkpoint };
}

function startServe(data, checkpoint) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1', '--checkpoint', checkpoint, '--data', data], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VITLENS_REPORT_PEAK_MEMORY: '1' },
    });
    let out = '';
    const onData = (c) => {
      out += c;
      const m = /serving the page at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve({ child, port: Number(m[1]), output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`vitlens serve exited with ${code}: ${out}`)));
  });
}

/** Resident memory of a process in MB (Linux /proc; null elsewhere). */
async function rssMB(pid) {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;

async function load(port, pid) {
  const routes = ['/', '/api/checkpoint', '/api/dataset', '/api/sample', '/api/checkpoint/config.json', '/api/checkpoint/preprocessor_config.json', '/nope.js'];
  const rssBefore = await rssMB(pid);
  const times = [];
  const statuses = {};
  let leaked = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS && Date.now() < deadline) {
        const route = routes[next++ % routes.length];
        const r = await request(port, route);
        times.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.body.includes(SECRET)) leaked++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    requests: times.length,
    concurrency: CONCURRENCY,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(times.length / seconds),
    latencyMs: { p50: Number(percentile(times, 50)?.toFixed(1)), p95: Number(percentile(times, 95)?.toFixed(1)), p99: Number(percentile(times, 99)?.toFixed(1)) },
    statuses,
    leakedSecret: leaked,
    serverRssMB: { before: rssBefore, after: await rssMB(pid) },
  };
}

async function traversal(port, secret) {
  const rel = path.relative('/', secret);
  const name = path.basename(secret);
  const variants = [
    `/../${name}`, `/../../${name}`, `/assets/../../${name}`, `/%2e%2e/${name}`, `/%2E%2E/${name}`, `/%2e%2e%2f${name}`,
    `/..%2f${name}`, `/..%5c${name}`, `/%2e%2e%5c${name}`, `/..\\${name}`, `/%252e%252e/${name}`, `/.%2e/${name}`, `/%2e./${name}`,
    `/${name}%00.html`, `/index.html%00/../../${name}`, '/%zz', '/%c0%ae%c0%ae/', `/%u002e%u002e/${name}`, `/./../${name}`,
    `/${'../'.repeat(12)}${rel}`, `/${rel}`, `//${rel}`, `///${rel}`, `/\\\\${rel}`, `/%2f${rel.replaceAll('/', '%2f')}`,
    `http://127.0.0.1/../${name}`, `http://127.0.0.1/%2e%2e/${name}`, `/api/checkpoint/../../${name}`, `/api/checkpoint/..%2f..%2f${name}`,
    '/api/checkpoint/trainer_state.json', '/api/checkpoint/README.md', '/api/checkpoint/%2e%2e', `/api/checkpoint/config.json/../../${name}`,
    '/api/sample/../../etc/passwd', '/api/../../etc/passwd', '/api/dataset/..', '/etc/passwd', '/../../../../etc/passwd', '/proc/self/environ',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..;/..;/etc/passwd', '/assets/..%252f..%252fetc/passwd', '/index.html/../../etc/passwd',
  ];
  const statuses = {};
  let leaked = 0;
  for (const v of variants) {
    const r = await request(port, v);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.body.includes(SECRET) || r.body.includes('root:x:0:0')) leaked++;
  }
  // the data folder's 0000.jpg files link to the secret: every sample must come from inside
  let sampleLeaks = 0;
  const samples = 60;
  for (let i = 0; i < samples; i++) if ((await request(port, '/api/sample')).body.includes(SECRET)) sampleLeaks++;
  const hosts = ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, 'localhost.evil.example', '192.168.1.20', ''];
  const hostStatuses = {};
  for (const host of hosts) {
    const r = await request(port, '/api/checkpoint', { headers: host === '' ? {} : { Host: host } });
    hostStatuses[host || '(default)'] = r.status;
  }
  return { variants: variants.length, statuses, leakedSecret: leaked, samples, sampleLeaks, hosts: hostStatuses };
}

async function abuse(port) {
  // slowloris: 50 connections sending one header byte a second; the server must keep answering
  const slow = Array.from({ length: 50 }, () => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const timer = setInterval(() => s.write('a'), 1000);
    return { s, timer };
  });
  const during = [];
  for (let i = 0; i < 20; i++) during.push((await request(port, '/api/dataset')).status);
  for (const { s, timer } of slow) {
    clearInterval(timer);
    s.destroy();
  }
  // a 100 MB POST: answered, then the connection closed without reading the body
  const { status, sent } = await postBody({ host: '127.0.0.1', port }, 100 * 2 ** 20);
  const post = { status, sentMB: Number((sent / 2 ** 20).toFixed(1)), ofMB: 100 };
  const bigHeader = (await request(port, '/', { headers: { 'X-Big': 'x'.repeat(32 * 1024) } })).status;
  const longUrl = (await request(port, `/${'a'.repeat(10_000)}`)).status;
  return { slowloris: { connections: slow.length, answeredDuring: during.filter((s) => s === 200).length, of: during.length }, post, bigHeader, longUrl };
}

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-probe-'));
let server;
try {
  const { secret, data, checkpoint } = await fixture(root);
  server = await startServe(data, checkpoint);
  const result = {
    node: process.version,
    cpus: os.availableParallelism(),
    load: await load(server.port, server.child.pid),
    traversal: await traversal(server.port, secret),
    abuse: await abuse(server.port),
  };
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGINT');
  await exited;
  result.samplesFrom = /random samples from (.*)/.exec(server.output())?.[1] ?? null;
  result.serverPeakMB = Number(/peak memory (\d+) MB/.exec(server.output())?.[1] ?? Number.NaN);
  const hostsRefused = Object.entries(result.traversal.hosts).every(([host, status]) => (host === '(default)' ? status === 200 : status === 403));
  const ok =
    result.load.leakedSecret === 0 &&
    result.traversal.leakedSecret === 0 &&
    result.traversal.sampleLeaks === 0 &&
    hostsRefused &&
    result.abuse.post.sentMB < 50 &&
    result.abuse.slowloris.answeredDuring === result.abuse.slowloris.of;
  if (JSON_OUT) {
    console.log(JSON.stringify({ ok, ...result }, null, 2));
  } else {
    const { load: l, traversal: t, abuse: a } = result;
    console.log(`load       ${l.requests} requests, ${l.concurrency} at a time, in ${l.seconds} s: ${l.perSecond}/s; latency p50 ${l.latencyMs.p50} ms, p95 ${l.latencyMs.p95} ms, p99 ${l.latencyMs.p99} ms`);
    console.log(`           statuses ${JSON.stringify(l.statuses)}; server RSS ${l.serverRssMB.before} → ${l.serverRssMB.after} MB, peak ${result.serverPeakMB} MB`);
    console.log(`traversal  ${t.variants} variants: statuses ${JSON.stringify(t.statuses)}; secret leaked ${t.leakedSecret} times`);
    console.log(`           /api/sample with links leading out: ${t.sampleLeaks} of ${t.samples} leaked (samples from ${result.samplesFrom})`);
    console.log(`           Host header: ${Object.entries(t.hosts).map(([h, s]) => `${h} → ${s}`).join(', ')}`);
    console.log(`abuse      slowloris ${a.slowloris.connections} connections: ${a.slowloris.answeredDuring}/${a.slowloris.of} requests answered meanwhile`);
    console.log(`           100 MB POST: ${a.post.status}, ${a.post.sentMB} MB sent before the server closed; 32 KB header: ${a.bigHeader}; 10 kB URL: ${a.longUrl}`);
    console.log(ok ? 'ok' : 'FAILED: see above');
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  await fs.rm(root, { recursive: true, force: true });
}

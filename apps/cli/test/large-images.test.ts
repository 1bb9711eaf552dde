import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readPng } from '@vitlens/attention-viz/node';
import { decodeImage, initBackend } from '@vitlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../src/images';
import { runBuiltCli, writeTinyCheckpoint } from './cli-fixtures';
import { peakMemoryMB, writeBlackPng, writeRampJpeg } from './helpers/large-images';

// Each CLI run prints its own peak memory (process.resourceUsage().maxRSS) at exit.
process.env.VITLENS_REPORT_PEAK_MEMORY = '1';

let tmp: string;
let checkpoint: string;
let hugePng: string;
let phoneJpeg: string;

beforeAll(async () => {
  [tmp] = await Promise.all([fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-large-')), initBackend({ prefer: 'wasm' })]);
  // a tiny real checkpoint (2 layers) and the two large images, generated here
  checkpoint = path.join(tmp, 'ckpt');
  await writeTinyCheckpoint(checkpoint);
  hugePng = path.join(tmp, 'huge.png');
  await writeBlackPng(hugePng, 10_000, 10_000); // 100 MP in ~290 KB
  phoneJpeg = path.join(tmp, 'phone.jpg');
  await writeRampJpeg(phoneJpeg, 4000, 3000); // 12 MP, a phone photo
}, 120_000);

afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

describe('large images', () => {
  it('refuses a PNG over 40 MP from its header, before decoding a pixel', async () => {
    const bytes = await fs.readFile(hugePng);
    const before = process.memoryUsage().rss;
    expect(() => decodeImage(bytes, 'huge.png')).toThrow(/huge\.png: 10000×10000 pixels \(100\.0 MP\) is over the 40\.0 MP limit/);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 2 ** 20);
  });

  it('predict on a 10000×10000 PNG stops with a one-line message within 300 MB', async () => {
    const r = await runBuiltCli(['predict', '--checkpoint', checkpoint, '--image', hugePng]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vitlens: .*huge\.png: 10000×10000 pixels \(100\.0 MP\) is over the 40\.0 MP limit; scale the image down first\n/);
    expect(peakMemoryMB(r.stderr)).toBeLessThan(300); // before: 3.8 GB
  }, 120_000);

  it('reads a 12 MP photo shrunk to the working size right after decoding', async () => {
    const image = await readImage(phoneJpeg, { maxSide: 1024 });
    expect([image.width, image.height]).toEqual([1024, 768]);
    expect(image.original).toEqual({ width: 4000, height: 3000 });
  }, 60_000);

  it('visualize draws a 12 MP phone photo at display size within 700 MB', async () => {
    const out = path.join(tmp, 'vis');
    const r = await runBuiltCli(['visualize', '--checkpoint', checkpoint, '--image', phoneJpeg, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(peakMemoryMB(r.stderr)).toBeLessThan(700); // before: 4.9 GB
    const input = await readPng(path.join(out, 'phone', 'input.png'));
    expect([input.width, input.height]).toEqual([512, 384]);
    const overlay = await readPng(path.join(out, 'phone', 'rollout.png'));
    expect([overlay.width, overlay.height]).toEqual([512, 384]);
    const figure = await readPng(path.join(out, 'phone', 'figure.png'));
    expect(figure.width).toBeLessThan(4000); // before: 24084×6128, 46 MB
    expect((await fs.stat(path.join(out, 'phone', 'figure.png'))).size).toBeLessThan(3 * 2 ** 20);
  }, 180_000);

  it('--full-resolution draws the overlays at the image size, with the same prediction', async () => {
    const photo = path.join(tmp, 'wide.jpg');
    await writeRampJpeg(photo, 1200, 700);
    const small = await runBuiltCli(['visualize', '--checkpoint', checkpoint, '--image', photo, '--method', 'rollout', '--out', path.join(tmp, 'small')]);
    const full = await runBuiltCli(['visualize', '--checkpoint', checkpoint, '--image', photo, '--method', 'rollout', '--full-resolution', '--out', path.join(tmp, 'full')]);
    expect(full.code, full.stderr).toBe(0);
    const overlay = await readPng(path.join(tmp, 'full', 'wide', 'rollout.png'));
    expect([overlay.width, overlay.height]).toEqual([1200, 700]);
    expect((await readPng(path.join(tmp, 'small', 'wide', 'rollout.png'))).width).toBe(512);
    const predicted = (s: string) => /predicted (.*?);/.exec(s)?.[1];
    expect(predicted(full.stdout)).toBe(predicted(small.stdout));
  }, 180_000);
});

import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findSharedCifarJpeg } from '../src/node/index';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('findSharedCifarJpeg', () => {
  it('takes the folder from VITLENS_CIFAR10_JPEG, over the old name, without a warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubEnv('VITLENS_CIFAR10_JPEG', 'data/new');
    vi.stubEnv('VITLENS_CIFAR_JPEG', 'data/old');
    expect(findSharedCifarJpeg()).toBe(path.resolve('data/new'));
    expect(warn).not.toHaveBeenCalled();
  });

  it('still reads the deprecated VITLENS_CIFAR_JPEG, warning once to use VITLENS_CIFAR10_JPEG', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubEnv('VITLENS_CIFAR10_JPEG', '');
    vi.stubEnv('VITLENS_CIFAR_JPEG', 'data/old');
    expect(findSharedCifarJpeg()).toBe(path.resolve('data/old'));
    expect(findSharedCifarJpeg()).toBe(path.resolve('data/old'));
    expect(warn.mock.calls).toEqual([['vitlens: VITLENS_CIFAR_JPEG is deprecated; set VITLENS_CIFAR10_JPEG instead']]);
  });
});

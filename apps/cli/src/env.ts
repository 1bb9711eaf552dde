/**
 * Settings the CLI reads from the environment, named once (as transformers.js's `env`). Only the
 * CLI's own settings are read here; the libraries it uses read theirs where they apply, and are
 * listed so that every variable `vitlens` honours is named in this file (and in the root README's
 * table, with the scripts' and tests' variables):
 *
 * - `VITLENS_BACKEND` (`@vitlens/core` `initBackend`): force a backend, as `--backend` does.
 * - `VITLENS_FAST_KERNELS=0` (`@vitlens/core`): keep tfjs's stock kernels instead of vitlens's fused ones.
 * - `VITLENS_CACHE_DIR` (`@vitlens/cifar10-data`, `@vitlens/vit-model`): download and decoded-image
 *   cache, as `--cache-dir` does (default `~/.cache/vitlens`).
 * - `VITLENS_CIFAR10_URL` (`@vitlens/cifar10-data`): where `--data cifar10` downloads the archive from.
 * - `VITLENS_HUB_ENDPOINT` (`@vitlens/vit-model`): the Hub a `--checkpoint <owner/name>` comes from.
 */
export const env = {
  /**
   * `VITLENS_REPORT_PEAK_MEMORY=1`: at exit, print the process's peak resident memory
   * (`process.resourceUsage().maxRSS`) to stderr as `vitlens: peak memory <MB> MB (maxRSS)`.
   * Used by the memory tests and probes; off by default.
   */
  reportPeakMemory: process.env.VITLENS_REPORT_PEAK_MEMORY === '1',
} as const;

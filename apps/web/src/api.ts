// The JSON that `vitlens serve` (apps/cli/src/server) answers the page with, for both sides to
// import with `import type`: the server builds these objects, the page reads them. Types only, so
// importing this module adds nothing to either bundle. It lives with the page because the CLI
// already depends on the page (it ships the built page); the reverse would be a dependency cycle.

/** The files of a checkpoint folder the server hands out, each at `GET api/checkpoint/<file>`. */
export type CheckpointFileName = 'config.json' | 'preprocessor_config.json' | 'model.safetensors';

/**
 * `GET api/checkpoint`: 200 with the checkpoint's files and their sizes in bytes when the server
 * can hand it out, else 404 with why not. `name` is the folder as the server names it (never an
 * absolute path).
 */
export type CheckpointListing =
  | { available: true; name: string; files: Partial<Record<CheckpointFileName, number>> }
  | { available: false; name: string; error: string };

/** The validation images a training run held out of a split: `valPerClass` per class, drawn with `seed`. */
export interface HeldOutSplit {
  valPerClass: number;
  seed: number;
}

/**
 * `GET api/dataset`: always 200 (the page asks on every load). `split` is 'test', 'train' or ''
 * (classes directly under the data folder); `heldOut` is set when only a training run's held-out
 * validation images are offered; `count` is the number of images `api/sample` draws from.
 */
export type DatasetInfo =
  | { available: true; split: string; heldOut: HeldOutSplit | null; classes: string[]; count: number }
  | { available: false; error: string };

/** `GET api/sample`: a random image's bytes, with these headers (values URI-encoded). */
export interface SampleHeaders {
  /** The image's class name. */
  'X-Vitlens-Label': string;
  /** The class index, as a decimal string. */
  'X-Vitlens-Class-Index': string;
  /** `<class>/<file>` inside the split folder. */
  'X-Vitlens-Sample': string;
}

/** The body of every error answer (4xx, 5xx) but `api/checkpoint`'s 404, which is a `CheckpointListing`. */
export interface ApiError {
  error: string;
  status: number;
}

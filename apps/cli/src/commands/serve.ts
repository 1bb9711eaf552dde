import { type Command, InvalidArgumentError } from 'commander';
import { defaultCheckpointDir, locateWebRoot, startServer } from '../server';

export interface ServeCommandOptions {
  checkpoint?: string;
  data?: string;
  port: number;
  host: string;
  verbose?: boolean;
  allowHost?: string[];
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`--port expects an integer from 0 to 65535 (0 picks a free port), got '${value}'`);
  }
  return n;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Start the server for `vitlens serve`, print its URL, and keep running until SIGINT/SIGTERM. */
export async function runServe(opts: ServeCommandOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const web = locateWebRoot();
  if (web.found === undefined) {
    throw new Error(`the page is not built (looked in ${web.tried.join(' and ')}); run 'pnpm --filter @vitlens/cli... build'`);
  }
  const checkpointDir = opts.checkpoint ?? defaultCheckpointDir();
  const running = await startServer({
    webRoot: web.found,
    checkpointDir,
    dataDir: opts.data,
    host: opts.host,
    port: opts.port,
    logRequest: opts.verbose ? out : undefined,
    allowedHosts: opts.allowHost,
  });
  out(running.checkpoint.available ? `vitlens: checkpoint ${checkpointDir}` : `vitlens: warning: ${running.checkpoint.error}`);
  if (running.dataset) {
    const { root, files, classes, heldOut } = running.dataset;
    const which = heldOut ? `, the validation images training held out: ${heldOut.valPerClass} per class, seed ${heldOut.seed}` : '';
    out(`vitlens: random samples from ${root} (${files.length} images, ${classes.length} classes${which})`);
    if (running.dataset.warning) out(`vitlens: warning: ${running.dataset.warning}`);
  }
  if (!LOOPBACK.has(opts.host)) out(`vitlens: warning: listening on ${opts.host}, reachable from other machines`);
  // the URL comes last: scripts wait for this line
  out(`vitlens: serving the page at ${running.url}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      running.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the page: drop an image, see the class and the attention maps, computed in the browser')
    .option('--checkpoint <dir>', 'checkpoint folder (config.json, preprocessor_config.json, model.safetensors); default: the shipped model')
    .option('--data <dir>', 'image folder for the "random test image" button (<dir>/<class>/*.jpg or <dir>/test|train/<class>/*.jpg)')
    .option('--port <n>', 'port (0: a free one)', portNumber, 8080)
    .option('--host <address>', 'interface to bind', '127.0.0.1')
    .option('--allow-host <name...>', 'also answer requests for these host names (loopback names and the bound address always work)')
    .option('--verbose', 'print one line per request')
    .action(async (opts: ServeCommandOptions) => {
      await runServe(opts);
    });
}

import { Command, CommanderError } from 'commander';
import { registerAverage } from './commands/average';
import { registerEvaluate } from './commands/evaluate';
import { registerInfo } from './commands/info';
import { registerPredict } from './commands/predict';
import { registerServe } from './commands/serve';
import { registerTrain } from './commands/train';
import { registerVisualize } from './commands/visualize';
import { registerNarrow } from './commands/narrow';
import { registerWiden } from './commands/widen';
import { CLI_VERSION } from './version';

export { defaultCheckpointDir } from './server/locate';
export { CLI_VERSION } from './version';

/** Build the `vitlens` program with every command registered. */
export function createProgram(): Command {
  const program = new Command('vitlens')
    .description('Vision Transformer on CIFAR-10 with TensorFlow.js: train, evaluate, visualize attention, serve the page')
    .version(CLI_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of [registerInfo, registerTrain, registerEvaluate, registerPredict, registerVisualize, registerWiden, registerNarrow, registerAverage, registerServe]) {
    register(program);
  }
  return program;
}

/** Run the CLI with `argv` (as `process.argv`); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (and help where asked for)
      return error.exitCode;
    }
    throw error;
  }
}

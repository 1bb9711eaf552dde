// The commands as functions (ESM): run one with process.argv-style arguments, get its exit code.
import { createProgram, defaultCheckpointDir, runCli } from '@vitlens/cli';

const image = process.argv[2] ?? 'cat.jpg';
const code = await runCli(['node', 'vitlens', 'predict', '--image', image, '--top', '3', '--json']); // prints the predictions
console.log(code); // 0
console.log(defaultCheckpointDir()); // /…/node_modules/@vitlens/cli/dist/models/default: the shipped model
console.log(createProgram().commands.map((command) => command.name())); // [ 'info', 'train', 'evaluate', 'predict', 'visualize', 'widen', 'narrow', 'average', 'serve' ]

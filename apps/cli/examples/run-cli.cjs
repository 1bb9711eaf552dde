// The commands as functions (CommonJS): the same calls through require.
const { CLI_VERSION, createProgram, runCli } = require('@vitlens/cli');

console.log(CLI_VERSION, createProgram().name()); // 0.1.0 vitlens
runCli(['node', 'vitlens', 'info', '--json']).then((code) => {
  console.log(code); // 0, after the versions and the backend chosen here, as JSON
  process.exitCode = code;
});

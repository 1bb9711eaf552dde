// Child-process entry: runs one benchmark job given as JSON in argv[2], prints one JSON line.
import { type Job, runJob } from './jobs';

const spec = process.argv[2];
if (spec === undefined) {
  console.error('usage: node dist/job.js <job JSON>');
  process.exit(2);
}
try {
  const result = await runJob(JSON.parse(spec) as Job);
  process.stdout.write(`@@result ${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (error) {
  process.stdout.write(`@@error ${JSON.stringify(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  process.exit(1);
}

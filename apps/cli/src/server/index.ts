// The HTTP server behind `vitlens serve`: the built page, the checkpoint files and dataset samples.
export { startServer, type RunningServer, type ServeOptions } from './server';
export { CHECKPOINT_FILES, checkpointStatus } from './checkpoint';
export { listSampleFolder, randomSample, type Sample, type SampleFolder } from './dataset';
export { contentTypeFor } from './content-types';
export { decodePathSegments, resolveInside, PathRefusedError } from './safe-path';
export { cliPackageRoot, defaultCheckpointDir, locateWebRoot } from './locate';

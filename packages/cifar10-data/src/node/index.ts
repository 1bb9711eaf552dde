// Node-only entry of @vitlens/cifar10-data (file system, network).
export { loadDataset, type LoadDatasetOptions } from './loadDataset';
export { ensureCifar10, CIFAR10_ARCHIVE, CIFAR10_MD5, CIFAR10_URL, type EnsureCifar10Options } from './cifar10';
export { downloadFile, NetworkUnavailableError, type DownloadOptions } from './download';
export { extractTarGz } from './extract';
export { md5File } from './md5';
export { resolveCacheDir } from './cacheDir';
export { isBinaryBatchFolder, loadBinaryFolder } from './binaryFolder';
export { listImageFolder, loadImageFolder, resolveSplitDir, type ImageFolderOptions } from './imageFolder';
export { readDatasetCache, writeDatasetCache } from './datasetCache';
export { naturalCompare } from './naturalSort';
export { ProgressBar, formatBytes, type ProgressOptions } from './progress';
export { benchData, findSharedCifarJpeg, type BenchDataOptions, type BenchDataResult } from './bench';

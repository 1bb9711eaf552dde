export { load } from './load';
export { softmax } from './pipeline';
export { DEFAULT_TOPK } from './constants';
export { type CheckpointReader, modelFromReader } from './sources';
export type {
  CheckpointFiles,
  Classification,
  ClassifyOptions,
  Embedding,
  ExplainOptions,
  Explanation,
  ImageInput,
  LoadOptions,
  ModelSource,
  Prediction,
  ViTPipeline,
} from './types';

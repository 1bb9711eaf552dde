// Public API of @vitlens/vit-model (browser-safe).
export {
  CIFAR10_CLASS_NAMES,
  ConfigError,
  PRESET_NAMES,
  classNames,
  createConfig,
  defaultProcessorConfig,
  parseConfig,
  parseProcessorConfig,
  processorToPreprocessOptions,
  MODEL_TYPES,
  geometry,
  tokenLayout,
  type Geometry,
  type ImageProcessorConfig,
  type ModelType,
  type TokenLayout,
  type ViTConfig,
} from './config';
export {
  DeiTForImageClassification,
  DeiTForImageClassificationWithTeacher,
  DeiTModel,
  ViTForImageClassification,
  ViTModel,
  VisionTransformer,
  type AttentionGradients,
  type ClassifierForwardOptions,
  type CreateOptions,
  type FeaturesOutput,
  type ForwardOptions,
  type ForwardOutput,
} from './model';
export { ARCHITECTURES, layoutOf, type Architecture, type HeadSpec, type Layout } from './layouts';
export {
  CONFIG_FILE,
  CheckpointError,
  PROCESSOR_FILE,
  WEIGHTS_FILE,
  modelFromFiles,
  modelToFiles,
  type ModelFromFilesOptions,
} from './checkpoint';
export { countForwardFlops, forwardFlopsBreakdown, type ForwardFlops } from './flops';
export { bicubicResize, interpolatePositionEmbeddings } from './bicubic';
export { paramSpecs, type ParamSpec } from './params';
export {
  WidenError,
  narrowModel,
  narrowWeights,
  widenModel,
  widenWeights,
  type NarrowOptions,
  type ParamValue,
  type WidenOptions,
} from './widen';
export { AverageError, averageModels, averageShares, parameterDistance, type AverageOptions } from './average';
export {
  DEFAULT_TOPK,
  load,
  modelFromReader,
  softmax,
  type CheckpointFiles,
  type CheckpointReader,
  type Classification,
  type ClassifyOptions,
  type Embedding,
  type ExplainOptions,
  type Explanation,
  type ImageInput,
  type LoadOptions,
  type ModelSource,
  type Prediction,
  type ViTPipeline,
} from './inference/index';
export const version = '0.1.0';

/** Classes `classify` returns when `topk` is not given (fewer when the model has fewer), as tfjs-models' classifiers. */
export const DEFAULT_TOPK = 5;

/** The options each call takes; any other key is refused with this list (a typo such as `topK` fails loudly). */
export const LOAD_OPTION_KEYS = ['warmup', 'fetch', 'id2label', 'imageSize', 'seed'] as const;
export const CLASSIFY_OPTION_KEYS = ['topk'] as const;
export const EXPLAIN_OPTION_KEYS = ['classIndex', 'gradient', 'topk', 'query', 'fusion', 'head', 'discardRatio'] as const;

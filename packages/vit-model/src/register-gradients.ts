// attentionGradients and training need tfjs-core's gradient functions, which tfjs-core does not
// register by itself. @vitlens/core holds them, written against the public tfjs-core entry, and
// registers them on the app's one tfjs-core (idempotent: train-loop and initBackend call it too).
import { registerGradients } from '@vitlens/core';

registerGradients();

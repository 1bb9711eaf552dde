#!/usr/bin/env bash
# The run that makes the shipped model (models/default): vit-mini-patch4-32 from scratch with the
# `cifar-default` recipe (50 epochs in one warmup + cosine, EMA 0.999) on the native tensorflow
# backend (`pnpm native` first), 500 images per class held out, seed 42. It runs in resumable
# chunks: stop it with Ctrl-C (it saves the current step) whenever needed, run this again, and it
# continues exactly where it stopped.
#
#   scripts/train-default.sh [run folder]        (default: ../runs/default, outside the repository)
#
# The run folder keeps the checkpoints. models/default-run/ in the repository holds the latest one
# with its optimizer state, average of the weights and metrics.jsonl: when the run folder is gone
# (a new machine), the run continues from that copy.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${1:-../runs/default}"
DATA="${VITLENS_CIFAR10_JPEG:-../shared/data/cifar10-jpeg}"
SNAPSHOT=models/default-run

has_checkpoint() {
  compgen -G "$1/epoch-*" >/dev/null || compgen -G "$1/step-*" >/dev/null
}

if ! has_checkpoint "$RUN" && [ -f "$SNAPSHOT/metrics.jsonl" ]; then
  echo "train-default: $RUN has no checkpoint; continuing from the copy in $SNAPSHOT" >&2
  mkdir -p "$RUN"
  cp -R "$SNAPSHOT"/. "$RUN"/
  rm -f "$RUN/README.md"
fi

if has_checkpoint "$RUN"; then
  exec node apps/cli/dist/bin.js train --data "$DATA" --resume --out "$RUN" --backend tensorflow
fi
exec node apps/cli/dist/bin.js train --data "$DATA" --recipe cifar-default --model vit-mini-patch4-32 \
  --micro-batch-size 128 --val-per-class 500 --seed 42 --backend tensorflow --out "$RUN"

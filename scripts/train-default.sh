#!/usr/bin/env bash
# The run that makes the shipped model (models/default): vit-mini-patch4-32 from scratch with the
# `cifar-default` recipe (50 epochs in one warmup + cosine, EMA 0.999) on the native tensorflow
# backend, 500 images per class held out. It runs in resumable chunks: start it, stop it with Ctrl-C
# (or SIGINT) whenever needed, and run this again to continue exactly where it stopped.
#
#   scripts/train-default.sh [run folder]        (default: ../runs/default, outside the repository)
#
# The run folder keeps every checkpoint; models/default-run/ in the repository holds the latest one
# with its optimizer state, so a machine that lost the folder can continue from it (see
# models/default/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${1:-../runs/default}"
DATA="${VITLENS_DATA:-../shared/data/cifar10-jpeg}"
if [ -e "$RUN/last" ]; then
  exec node apps/cli/dist/bin.js train --data "$DATA" --resume --out "$RUN" --backend tensorflow
fi
exec node apps/cli/dist/bin.js train --data "$DATA" --recipe cifar-default --model vit-mini-patch4-32 \
  --micro-batch-size 128 --val-per-class 500 --seed 42 --backend tensorflow --out "$RUN"

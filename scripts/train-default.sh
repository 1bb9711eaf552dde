#!/usr/bin/env bash
# The runs that make the shipped model (models/default), in two stages, on the native tensorflow
# backend (`pnpm native` first), 500 images per class held out, seed 42:
#
#   stage 1  vit-mini-patch4-32 from scratch with the `cifar-default` recipe: 50 epochs in one
#            warmup + cosine, pad-4 crop + flip, label smoothing 0.1, EMA 0.999      → <run>
#   stage 2  from stage 1's final averaged weights (epoch-050/ema), a warm restart: 80 epochs in a
#            new warmup + cosine to a peak lr of 5e-4, RandAugment (2 ops, magnitude 9) on top of
#            crop + flip, the rest as stage 1                                         → <run>-stage2
#
#   scripts/train-default.sh [run folder]        (default: ../runs/default, outside the repository)
#
# It runs in resumable chunks: stop it with Ctrl-C (it saves the current step) whenever needed, run
# this again, and it continues exactly where it stopped, starting stage 2 when stage 1 is done.
# Stage 2's folder keeps stage 1's metrics in earlier-stages/ so its learning curve covers both.
#
# models/default-run/ in the repository holds the latest checkpoint of the stage in progress, with
# its optimizer state, average of the weights and metrics: when the run folders are gone (a new
# machine), the run continues from that copy.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE1="${1:-../runs/default}"
STAGE2="${STAGE1}-stage2"
STAGE1_FINAL="$STAGE1/epoch-050"
DATA="${VITLENS_CIFAR10_JPEG:-../shared/data/cifar10-jpeg}"
SNAPSHOT=models/default-run
COMMON=(--data "$DATA" --micro-batch-size 128 --val-per-class 500 --seed 42 --backend tensorflow)

has_checkpoint() {
  compgen -G "$1/epoch-*" >/dev/null || compgen -G "$1/step-*" >/dev/null
}

restore_snapshot() { # $1: the stage folder the copy in models/default-run belongs to
  echo "train-default: no checkpoint on disk; continuing from the copy in $SNAPSHOT" >&2
  mkdir -p "$1"
  cp -R "$SNAPSHOT"/. "$1"/
  rm -f "$1/README.md"
}

if ! has_checkpoint "$STAGE1" && ! has_checkpoint "$STAGE2" && [ -f "$SNAPSHOT/metrics.jsonl" ]; then
  if [ -d "$SNAPSHOT/earlier-stages" ]; then restore_snapshot "$STAGE2"; else restore_snapshot "$STAGE1"; fi
fi

if has_checkpoint "$STAGE2"; then
  exec node apps/cli/dist/bin.js train --data "$DATA" --resume --out "$STAGE2" --backend tensorflow
fi

if [ ! -d "$STAGE1_FINAL" ]; then
  if has_checkpoint "$STAGE1"; then
    node apps/cli/dist/bin.js train --data "$DATA" --resume --out "$STAGE1" --backend tensorflow
  else
    rm -f "$STAGE1/metrics.jsonl" # lines of a start stopped before its first checkpoint
    node apps/cli/dist/bin.js train --recipe cifar-default --model vit-mini-patch4-32 "${COMMON[@]}" --out "$STAGE1"
  fi
  # stopped before its last epoch (Ctrl-C saves and exits): the next call resumes it
  [ -d "$STAGE1_FINAL" ] || exit 0
fi

mkdir -p "$STAGE2/earlier-stages"
rm -f "$STAGE2/metrics.jsonl" # lines of a start stopped before its first checkpoint
cp "$STAGE1/metrics.jsonl" "$STAGE2/earlier-stages/1-default.jsonl"
exec node apps/cli/dist/bin.js train --recipe cifar-default --pretrained "$STAGE1_FINAL/ema" --epochs 80 --lr 5e-4 \
  --augment randaugment "${COMMON[@]}" --out "$STAGE2"

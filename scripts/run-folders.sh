# Sourced by scripts/train-default.sh and scripts/train-lite.sh: run folders and the repository's copy
# of the run in progress (models/default-run, written by scripts/ship-model.mjs --snapshot-only).
SNAPSHOT=models/default-run

# Whether folder $1 holds a checkpoint a run can resume from.
has_checkpoint() {
  compgen -G "$1/epoch-*" >/dev/null || compgen -G "$1/step-*" >/dev/null
}

# Copy models/default-run into run folder $1, less what only describes the copy.
copy_snapshot_into() {
  mkdir -p "$1"
  cp -R "$SNAPSHOT"/. "$1"/
  rm -f "$1/README.md" "$1/run-folder"
}

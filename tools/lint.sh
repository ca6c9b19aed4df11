#!/usr/bin/env bash
# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# Lint and format check with a pinned ruff, without the OpenMMLab stack:
# .venv's ruff when set-up installed it, else a small tool venv cached in
# ~/.cache/mmusot (MMUSOT_CACHE). `tools/lint.sh --fix` rewrites in place.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUFF_VERSION=0.17.6
PATHS=(mmusot tools data_converters configs tests)

RUFF="$ROOT/.venv/bin/ruff"
if [ ! -x "$RUFF" ] || [ "$("$RUFF" --version)" != "ruff $RUFF_VERSION" ]; then
  TOOLS="${MMUSOT_CACHE:-$HOME/.cache/mmusot}/ruff-$RUFF_VERSION"
  RUFF="$TOOLS/bin/ruff"
  if [ ! -x "$RUFF" ]; then
    echo "==> [lint] installing ruff $RUFF_VERSION into $TOOLS"
    "${PYTHON:-python3}" -m venv "$TOOLS.tmp"
    "$TOOLS.tmp/bin/pip" install -q "ruff==$RUFF_VERSION"
    rm -rf "$TOOLS" && mv "$TOOLS.tmp" "$TOOLS"  # ruff is one binary
  fi
fi

cd "$ROOT"
if [ "${1:-}" = "--fix" ]; then
  "$RUFF" check --fix "${PATHS[@]}"
  "$RUFF" format "${PATHS[@]}"
else
  "$RUFF" check "${PATHS[@]}"
  "$RUFF" format --check "${PATHS[@]}"
fi

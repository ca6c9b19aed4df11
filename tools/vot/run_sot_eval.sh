#!/usr/bin/env bash
# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The VOT toolkit recipe of tools/vot/README.md in one go: lay sequences out
# as a workspace, register the tracker, `vot evaluate`, `vot analysis`, and
# print the analysis.
#
#   bash tools/vot/run_sot_eval.sh CONFIG CHECKPOINT [SEQUENCE ...]
#
# Environment: SOT_EVAL (default ../shared/data/sot_eval), WORKSPACE
# (default work_dirs/vot_ws; reused: finished runs are not repeated),
# TRACKER (identifier, default USOT), THREADS (torch threads, default 2),
# VOT (the vot command, default the one beside this Python), PYTHON.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ $# -ge 2 ] || { sed -n '3,11p' "$0"; exit 2; }
CONFIG="$1"; CHECKPOINT="$2"; shift 2
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
VOT="${VOT:-$(dirname "$PYTHON")/vot}"
SOT_EVAL="${SOT_EVAL:-$ROOT/../shared/data/sot_eval}"
WORKSPACE="${WORKSPACE:-$ROOT/work_dirs/vot_ws}"
TRACKER="${TRACKER:-USOT}"
THREADS="${THREADS:-2}"
STACK="$ROOT/tools/vot/sot_eval_stack.yaml"
SEQ_ARGS=()
[ $# -gt 0 ] && SEQ_ARGS=(--sequences "$@")

"$PYTHON" -m mmusot.cli.otb_to_vot "$SOT_EVAL" "$WORKSPACE" "${SEQ_ARGS[@]}"
"$PYTHON" -m mmusot.cli.vot_trax "$CONFIG" --checkpoint "$CHECKPOINT" \
  --threads "$THREADS" --name "$TRACKER" \
  --print-trackers-ini "$TRACKER" > "$WORKSPACE/trackers.ini"
if [ ! -f "$WORKSPACE/config.yaml" ]; then
  "$VOT" initialize "$STACK" --workspace "$WORKSPACE"
fi
"$VOT" evaluate --workspace "$WORKSPACE" "$TRACKER"
"$VOT" analysis --workspace "$WORKSPACE" --name sot_eval "$TRACKER"
"$PYTHON" -m mmusot.cli.vot_summary "$WORKSPACE/analysis/sot_eval.json"

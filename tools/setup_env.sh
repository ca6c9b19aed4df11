#!/usr/bin/env bash
# Builds .venv/ with the pinned OpenMMLab stack (see README "Set-up").
#
#   bash tools/setup_env.sh            # create or refresh .venv
#   bash tools/setup_env.sh --keep-torch   # reuse the torch already installed
#                                          # on this machine (e.g. a CUDA build)
#
# Idempotent: a finished set-up leaves a stamp in .venv; re-running with an
# unchanged recipe only re-checks the imports. The mmcv wheel, which takes
# ~10 minutes to compile on 2 cores, is cached in ~/.cache/mmusot/ keyed by
# the Python and torch versions.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMUSOT_VENV:-$ROOT/.venv}"
CACHE="${MMUSOT_CACHE:-$HOME/.cache/mmusot}"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="${MMUSOT_TORCH_VERSION:-2.13.0}"
MMCV_VERSION=2.0.0rc4
KEEP_TORCH=0
for arg in "$@"; do
  case "$arg" in
    --keep-torch) KEEP_TORCH=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

STEP="start"
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "setup: FAILED at step: $STEP (exit $rc). See the output above." >&2; fi' EXIT
step() { STEP="$1"; echo "==> [setup] $1"; }

step "check the toolchain"
command -v "$PYTHON" >/dev/null || { echo "setup: $PYTHON not found; install Python >= 3.9" >&2; exit 1; }
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 9), sys.version' \
  || { echo "setup: Python >= 3.9 is required" >&2; exit 1; }
"$PYTHON" -c 'import venv' 2>/dev/null \
  || { echo "setup: the venv module is missing (Debian: apt-get install python3-venv)" >&2; exit 1; }

# The recipe's fingerprint: change this script and the stamp no longer matches.
RECIPE_HASH="$(cat "$0" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-keep$KEEP_TORCH"
STAMP="$VENV/.mmusot-setup-done"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$RECIPE_HASH" ] \
   && "$VENV/bin/python" -c 'import mmtrack.models, mmcv.ops, mmusot' 2>/dev/null; then
  STEP="done"; echo "==> [setup] .venv is up to date ($VENV)"; exit 0
fi

step "create the virtual environment $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  if [ "$KEEP_TORCH" = 1 ]; then
    "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    "$PYTHON" -m venv "$VENV"
  fi
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)
# setuptools < 81 still ships pkg_resources, which mmcv's setup.py and
# mmengine's `mmtrack::` config resolution need (stack.md).
"${PIP[@]}" --upgrade pip 'setuptools>=77,<81' wheel

step "install torch"
if [ "$KEEP_TORCH" = 1 ] && "$PY" -c 'import torch' 2>/dev/null; then
  echo "    keeping torch $("$PY" -c 'import torch; print(torch.__version__)')"
elif "$PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  echo "    torch $TORCH_VERSION already installed"
else
  # An exact pin: a range would pull a multi-GB CUDA build on CPU machines.
  "${PIP[@]}" "torch==$TORCH_VERSION"
fi
TORCH_TAG="$("$PY" -c 'import torch; print(torch.__version__.replace("+", "_"))')"
PY_TAG="$("$PY" -c 'import sys; print("py%d%d" % sys.version_info[:2])')"

"${PIP[@]}" 'numpy>=2'

step "mmcv $MMCV_VERSION with ops (cached build)"
if ! "$PY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
  # CPU ops by default (all mmusot needs; minutes instead of an hour on a
  # CUDA machine); MMUSOT_MMCV_CUDA=1 also compiles mmcv's CUDA kernels.
  if [ "${MMUSOT_MMCV_CUDA:-0}" = 1 ]; then OPS_TAG=cudaops; HIDE_GPUS=(env); \
  else OPS_TAG=cpuops; HIDE_GPUS=(env CUDA_VISIBLE_DEVICES= FORCE_CUDA=0); fi
  WHEEL_DIR="$CACHE/mmcv-$MMCV_VERSION-$PY_TAG-torch$TORCH_TAG-$OPS_TAG"
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    command -v "${CXX:-g++}" >/dev/null \
      || { echo "setup: a C++ compiler (g++) is needed to build mmcv's ops (Debian: apt-get install build-essential)" >&2; exit 1; }
    "$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
      || { echo "setup: Python headers (Python.h) are missing (Debian: apt-get install python3-dev)" >&2; exit 1; }
    BUILD="$(mktemp -d)"
    # --no-build-isolation: the sdist's setup.py needs pkg_resources and torch.
    "$PY" -m pip download -q --no-deps --no-build-isolation --no-binary :all: \
      "mmcv==$MMCV_VERSION" -d "$BUILD"
    tar xzf "$BUILD"/mmcv-*.tar.gz -C "$BUILD"
    # torch 2.x headers need C++17; mmcv's setup.py hard-codes C++14.
    sed -i 's/-std=c++14/-std=c++17/g' "$BUILD/mmcv-$MMCV_VERSION/setup.py"
    echo "    compiling mmcv ops (about 10 minutes on 2 cores)..."
    BUILT="$BUILD/wheel"
    (cd "$BUILD/mmcv-$MMCV_VERSION" && "${HIDE_GPUS[@]}" MMCV_WITH_OPS=1 \
      MAX_JOBS="${MAX_JOBS:-$(nproc)}" "$PY" -m pip wheel -q --no-build-isolation --no-deps -w "$BUILT" .)
    mkdir -p "$WHEEL_DIR"
    # Copy then rename, so a killed build never leaves a half wheel cached.
    for w in "$BUILT"/mmcv-*.whl; do
      cp "$w" "$WHEEL_DIR/.tmp-$(basename "$w")"
      mv "$WHEEL_DIR/.tmp-$(basename "$w")" "$WHEEL_DIR/$(basename "$w")"
    done
    rm -rf "$BUILD"
  else
    echo "    using cached wheel from $WHEEL_DIR"
  fi
  "${PIP[@]}" "$WHEEL_DIR"/mmcv-*.whl
fi

step "install mmengine, mmdet, mmcls, trackeval and the runtime deps"
"${PIP[@]}" 'numpy>=2' mmengine==0.10.7 mmdet==3.0.0rc5 mmcls==1.0.0rc6 trackeval==1.3.0 \
  opencv-python-headless scikit-video tqdm pytest ruff==0.17.6

step "install mmtrack 1.0.0rc1 (--no-deps) and its real runtime deps"
# mmtrack's metadata pins pandas<=1.3.5 and scipy<=1.7.3, which cannot build
# on Python >= 3.11; install it without deps and add current versions.
"${PIP[@]}" --no-deps mmtrack==1.0.0rc1
"${PIP[@]}" attributee lap motmetrics pandas pycocotools scikit-learn scipy \
  seaborn tabulate terminaltables

step "install mmusot (editable)"
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"

step "install the optional evaluation clients (extras vot, got10k, deploy)"
# pyproject.toml's extras: vot-trax + vot-toolkit (VOT toolkit over TraX)
# and got10k, and the deployment runtime (onnx, onnxruntime, openvino);
# they resolve against the pinned stack. MMUSOT_EXTRAS=0 skips.
if [ "${MMUSOT_EXTRAS:-1}" = 1 ]; then
  "${PIP[@]}" --no-build-isolation -e "$ROOT[vot,got10k,deploy]"
  "$PY" -c 'import trax, vot.region, got10k.experiments, onnx, onnxruntime, openvino' \
    || { echo "setup: the vot / got10k / deploy extras do not import" >&2; exit 1; }
fi

step "check the imports"
"$PY" - <<'PY'
import mmcv, mmcv.ops, mmdet, mmengine, mmtrack, torch
from mmtrack.utils import register_all_modules
register_all_modules()
import mmtrack.models  # noqa: F401
import mmusot  # noqa: F401
print(f'    torch {torch.__version__}, mmcv {mmcv.__version__}, '
      f'mmdet {mmdet.__version__}, mmengine {mmengine.__version__}, '
      f'mmtrack {mmtrack.__version__}')
PY
echo "$RECIPE_HASH" > "$STAMP"
STEP="done"
echo "==> [setup] done: activate with 'source $VENV/bin/activate'"

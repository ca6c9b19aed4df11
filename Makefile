# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# `make demo` and `make test` set up .venv first when needed (idempotent).
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo smoke test lint weights clean-venv

setup:
	bash tools/setup_env.sh

# The main job: discover objects in real unlabeled clips, learn a tracker
# from them on the CPU (about 10 minutes), track, write videos and a
# summary to demo_out/ (DEMO_ARGS, e.g. "--videos DIR --track ...").
DEMO_ARGS ?=
demo: weights
	$(PY) tools/demo/learn_and_track.py $(DEMO_ARGS)

# The stack alone: mmtrack's own SiamRPN++ trains a step and tracks.
smoke: setup
	$(PY) tools/demo/smoke_demo.py

# Pretrained backbones (MobileNetV2 ImageNet, ResNet-50 AugNet), fetched
# once into ~/.cache/mmusot/weights ($MMUSOT_CACHE) and converted.
weights: setup
	$(PY) tools/fetch_weights.py

test: lint setup
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff check + format check; needs no set-up (tools/lint.sh --fix rewrites)
lint:
	bash tools/lint.sh

clean-venv:
	rm -rf .venv

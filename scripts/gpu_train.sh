#!/usr/bin/env bash
# The session-9 GPU training run (one H100, 16 cores): a Sudoku continuation and a new, larger
# Countdown model trained side by side for MINUTES each, then the training-speed benchmark.
# Weights and logs go to $OUT. Run from the repository root with ../shared/benchmarks/countdown
# present (Countdown training excludes its targets). For a dry run on a CPU:
#   DEVICE=cpu MINUTES=0.2 WORKERS=2 OUT=/tmp/gpu-out bash scripts/gpu_train.sh
# On the workplace's device machine (which has torch but not ../shared, and maybe other typer
# and rich versions), first, here: add /.whl/ and /.devshared/ to .git/info/exclude, then
#   pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl typer rich annotated-doc \
#     shellingham markdown-it-py mdurl pygments   # the versions installed here
#   mkdir -p .devshared && cp -r ../shared/benchmarks/countdown .devshared/
# and run with carry [".whl", ".devshared"] and a 600 s limit:
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site &&
#   mkdir -p ../shared/benchmarks && cp -r .devshared/countdown ../shared/benchmarks/ && bash scripts/gpu_train.sh
set -u
DEVICE=${DEVICE:-cuda} MINUTES=${MINUTES:-7} WORKERS=${WORKERS:-12}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$OUT"
{ nvidia-smi || true; python3 -c 'import torch; print(torch.__version__)'; nproc; } >"$OUT/machine.txt" 2>&1
python3 -m rmdm_cli train sudoku --device "$DEVICE" --init-from weights/sudoku.safetensors \
  --depth 8 --grad-iterations 8 --batch-size 1024 --train-steps 1000000 --minutes "$MINUTES" --lr 1.5e-3 \
  --warmup-steps 300 --seed 7 --threads 1 --workers 2 --eval-count 500 \
  --out "$OUT/sudoku.safetensors" --state /tmp/sudoku.state.pt >"$OUT/sudoku.log" 2>&1 &
python3 -m rmdm_cli train countdown --device "$DEVICE" --width 256 --heads 8 --layers 3 \
  --depth 4 --grad-iterations 4 --batch-size 512 --train-steps 1000000 --minutes "$MINUTES" --lr 1.5e-3 \
  --warmup-steps 300 --seed 7 --threads 1 --workers "$WORKERS" --eval-count 500 \
  --out "$OUT/countdown.safetensors" --state /tmp/countdown.state.pt >"$OUT/countdown.log" 2>&1 &
wait
tail -n 3 "$OUT/sudoku.log" "$OUT/countdown.log"
timeout 45 python3 benchmarks/train_speed.py --device "$DEVICE" --batch-size 1024 --repeats 10 >"$OUT/train_speed.txt" 2>&1
cat "$OUT/train_speed.txt"
python3 -m rmdm_cli solve sudoku --device "$DEVICE" --weights "$OUT/sudoku.safetensors" --format jsonl \
  ..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3.. 2>&1 | tee "$OUT/solve.txt"

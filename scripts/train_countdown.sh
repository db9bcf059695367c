#!/usr/bin/env bash
# The shipped Countdown weights' recipe: one run from random weights, then five continuations,
# each from the previous weights with a new data seed and a lower learning rate (the last three
# with batches of 128). About 6 hours on one CPU core; every run resumes where it stopped if the
# script is run again. The shipped weights were trained while the generator built targets from
# random operations (docs/training.md); this script trains on today's generator, whose problems
# are as hard as the benchmark's, so it makes a model of the same recipe, not the same weights.
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--depth 4 --grad-iterations 4 --threads 1 --eval-count 300)
step() {  # step OUT ARGS...: train into runs/OUT.safetensors unless it is there already
    local out="runs/$1.safetensors"; shift
    [[ -e "$out" ]] || rmdm train countdown "${common[@]}" --out "$out" "$@"
}
step countdown-base --batch-size 64 --train-steps 6000
step countdown-cont2 --init-from runs/countdown-base.safetensors --batch-size 64 --train-steps 5000 --lr 1e-3 --warmup-steps 50 --seed 2
step countdown-cont3 --init-from runs/countdown-cont2.safetensors --batch-size 64 --train-steps 3000 --lr 1e-3 --warmup-steps 50 --seed 3
step countdown-cont4 --init-from runs/countdown-cont3.safetensors --batch-size 128 --train-steps 2500 --lr 1e-3 --warmup-steps 50 --seed 4
step countdown-cont5 --init-from runs/countdown-cont4.safetensors --batch-size 128 --train-steps 1500 --lr 1e-3 --warmup-steps 50 --seed 5
step countdown-final --init-from runs/countdown-cont5.safetensors --batch-size 128 --train-steps 2800 --lr 1e-3 --warmup-steps 50 --seed 6
echo "runs/countdown-final.safetensors is the recipe's result; compare it with rmdm eval, then copy it to weights/ to ship it"

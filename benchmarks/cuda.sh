#!/usr/bin/env bash
# The device checks of issue 30 as one script (under 10 minutes on one H100): the landscape of each real network
# against the loop and the floor on CUDA in float32, tf32 and bf16 (the surface's difference from float32 is
# printed), and the curvature against PyHessian. Run from the repository root with the package importable.
set -e
L="python benchmarks/landscape.py --device cuda --repeat 3"
$L --models resnet18 --samples 512 --grid 5
$L --models resnet18 --samples 512 --grid 5 --precision tf32
$L --models resnet18 --samples 512 --grid 5 --precision bf16
$L --models resnet18 --samples 512 --grid 5 --channels-last
$L --models digits-cnn,vit,bert,lstm --samples 1024 --grid 5
$L --models digits-cnn,vit --samples 1024 --grid 5 --precision bf16
python benchmarks/hessian.py --device cuda --repeat 3 --cases mlp,cnn,resnet18
python -m pytest -q tests/test_own_model.py -k "cuda or precision" -p no:cacheprovider

#!/usr/bin/env bash
# Installs what is missing, builds the `vecrl` executable and its libraries (Release, build/; the
# test suite is scripts/test.sh's), and trains the quickstart config: GRPO on the real stories260K
# model with a three-dimensional story-constraint reward. Prints the time of each phase.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
vecrl_phase packages
vecrl_install_packages
vecrl_phase configure
vecrl_configure
vecrl_phase build
vecrl_compile vecrl
cd "$VECRL_ROOT"
vecrl_phase train
./build/vecrl train configs/quickstart.yaml "$@"
vecrl_phase plot
./build/vecrl plot runs/quickstart   # rewards.png, kl.png, entropy.png, length.png, tradeoff.png
vecrl_phases_done

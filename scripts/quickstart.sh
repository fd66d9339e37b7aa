#!/usr/bin/env bash
# Installs what is missing, builds vecrl (Release, build/), and trains the quickstart config:
# GRPO on the real stories260K model with a three-dimensional story-constraint reward.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
vecrl_install_packages
vecrl_build
cd "$VECRL_ROOT"
./build/vecrl train configs/quickstart.yaml "$@"
./build/vecrl plot runs/quickstart   # rewards.png, kl.png, entropy.png, length.png, tradeoff.png

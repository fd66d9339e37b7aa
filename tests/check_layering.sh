#!/usr/bin/env bash
# Fails if a layer includes a layer it must not (architecture.md): dependencies point one way,
#   core <- models, algorithms, distributed, sandbox <- rewards <- agents <- trainer <- apps
# and rewards may use models; sandbox (running untrusted programs) sits below rewards and agents.
# Usage: check_layering.sh REPO_ROOT
set -u
root=${1:-.}
declare -A allowed=(
  [core]="core"
  [models]="core models"
  [algorithms]="core algorithms"
  [distributed]="core distributed"
  [sandbox]="core sandbox"
  [rewards]="core models sandbox rewards"
  [agents]="core models sandbox rewards agents"
  [trainer]="core models algorithms distributed sandbox rewards agents trainer"
  [apps]="core models algorithms distributed sandbox rewards agents trainer apps"
)
layers="core models algorithms distributed sandbox rewards agents trainer apps"
status=0
for layer in $layers; do
  [[ -d "$root/$layer" ]] || { echo "missing layer folder $layer"; status=1; continue; }
  while IFS= read -r hit; do
    file=${hit%%:*}
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$hit")
    [[ " $layers " == *" $target "* ]] || continue
    if [[ " ${allowed[$layer]} " != *" $target "* ]]; then
      echo "layering violation: $file includes $target/ (allowed for $layer/: ${allowed[$layer]})"
      status=1
    fi
  done < <(grep -rnE '^\s*#\s*include\s+"[a-z_]+/' "$root/$layer" --include='*.h' --include='*.cpp' --include='*.hpp')
done
# Headers must not pull in the LibTorch umbrella header (slow builds for every includer).
if grep -rlE '#\s*include\s+<torch/torch.h>' "$root"/{core,models,algorithms,distributed,sandbox,rewards,agents,trainer,apps} --include='*.h' >/dev/null; then
  echo "headers include <torch/torch.h>:"; grep -rlE '#\s*include\s+<torch/torch.h>' "$root"/{core,models,algorithms,distributed,sandbox,rewards,agents,trainer,apps} --include='*.h'
  status=1
fi
[[ $status == 0 ]] && echo "layering OK"
exit $status

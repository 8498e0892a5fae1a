#!/usr/bin/env bash
# Execute notebooks in place so their committed outputs (numbers, plots) are fresh, then clean them.
# Usage: tools/run_nb.sh nbs/03_bigram_nn.ipynb [more notebooks...]
set -eo pipefail
cd "$(dirname "$0")/.."
for nb in "$@"; do
  (cd nbs && jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=3600 "../$nb" \
     2> >(grep -v 'WARNING | Kernel is running over TCP' >&2))
  nbdev_clean --fname "$nb"
done
# the README is rendered from nbs/index.ipynb, outputs included
python tools/readme.py

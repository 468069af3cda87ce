#!/bin/bash
# Two bundled CLIs' `gan train <model> --quick` alternated, steady steps per second from each run's
# metrics.jsonl (between its first and last logged step, so start-up and the first steps' pipeline
# compilation are left out). Used for issue 14's quick-run figures (bench/NOTES.md).
#   bash bench/quick_ab.sh OLD.mjs NEW.mjs [rounds=3] [out=/tmp/quick_ab]
# MODELS="name steps logEvery;..." picks other runs (default "dcgan 60 10;pix2pix 30 5;cyclegan 10 2").
# Bundle a commit's CLI from a worktree: `npx esbuild cli/gan.ts --bundle --platform=node
# --format=esm --external:webgpu --outfile=<repo>/.prof/gan_<commit>.mjs` (the bundle must sit
# in this repository so that `webgpu` resolves); this commit's: `node scripts/build.mjs cli`.
set -euo pipefail
old=$1 new=$2 rounds=${3:-3} out=${4:-/tmp/quick_ab}
export NODEVICE_SELECT=1
rm -rf "$out" && mkdir -p "$out"
for round in $(seq 1 "$rounds"); do
  IFS=';' read -ra specs <<< "${MODELS:-dcgan 60 10;pix2pix 30 5;cyclegan 10 2}"
  for spec in "${specs[@]}"; do
    set -- $spec
    for v in old new; do
      cli=$old && [ $v = new ] && cli=$new
      d=$out/$1-$v-$round
      load=$(cut -d' ' -f1 /proc/loadavg)
      node "$cli" train "$1" --quick --steps "$2" --log-every "$3" --sample-every 0 --ckpt-every 0 --out "$d" > "$d.log" 2>&1
      rate=$(node -e "
const l = require('fs').readFileSync('$d/metrics.jsonl', 'utf8').trim().split('\n').map(JSON.parse).filter((r) => r.step !== undefined && r.time !== undefined);
const [a, b] = [l[0], l[l.length - 1]];
console.log(((b.step - a.step) / (b.time - a.time)).toFixed(3));")
      echo "$1 $v round $round load $load steady $rate it/s"
    done
  done
done

#!/usr/bin/env bash
# Arena regression guard: each model's planned arena (edgerun bench --json, arena_bytes) may
# not grow more than 3% over the size recorded in tests/models/arena.json. Shrinking is fine;
# record a new size with `tests/run-arena.sh CLI --update` when a growth is intended.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${1:-$ROOT/build/edgerun}
UPDATE=${2:-}
exec python3 - "$CLI" "$ROOT" "$UPDATE" <<'PYEOF'
import json, os, subprocess, sys
cli, root, update = sys.argv[1], sys.argv[2], sys.argv[3] == "--update"
path = os.path.join(root, "tests", "models", "arena.json")
recorded = json.load(open(path))
# inputs: the first real-model case of each model (fixes symbolic dimensions)
cases = json.load(open(os.path.join(root, "tests", "models", "models.json")))["cases"]
refs = os.path.join(root, "tests", "models", "refs")
inputs = {}
for c in cases:
    inputs.setdefault(c["model"], [os.path.join(refs, p) for p in c["inputs"]])
models_dir = os.environ.get("MODELS_DIR", os.path.join(root, ".cache", "models"))
passed = failed = 0
new = {}
for model, want in sorted(recorded.items()):
    mp = os.path.join(models_dir, model)
    if not os.path.exists(mp):
        print("FAIL %-34s model missing (scripts/setup-test.sh fetches it)" % model); failed += 1; continue
    cmd = [cli, "bench", mp, "--runs", "1", "--warmup", "0", "--threads", "1", "--json"]
    for p in inputs.get(model, []):
        cmd += ["-i", p]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL %-34s %s" % (model, r.stderr.strip()[:200])); failed += 1; continue
    got = json.loads(r.stdout)["arena_bytes"]
    new[model] = got
    limit = want * 1.03
    ok = got <= limit and got > 0
    print("%s %-34s arena %10d bytes (recorded %d, %+.1f%%)" % ("PASS" if ok else "FAIL", model, got, want,
          100.0 * (got - want) / want if want else 0))
    passed += ok; failed += not ok
if update:
    json.dump(new, open(path, "w"), indent=1, sort_keys=True)
    print("arena: wrote", path)
print("arena: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed and not update else 0)
PYEOF

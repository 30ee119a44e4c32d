# Shared by tests/tools/*.sh (sourced; not run on its own). Each check adds to pass/fail.
#   expect_fail NAME CODE TEXT CMD...  exit code CODE, exactly one stderr line containing TEXT
#   expect_ok NAME CMD...              exit 0 and nothing on stderr (stdout kept in $tmp/out)
#   check NAME CONDITION-CMD...        passes when the command succeeds
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
node=/usr/share/libonnx-testdata/data/node
models=${MODELS_DIR:-.cache/models}

expect_fail() {
  local name=$1 code=$2 want=$3; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ $rc -eq "$code" ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$tmp/err"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $rc (want $code), $lines stderr line(s), wanted '$want':"
    sed 's/^/    /' "$tmp/err" | head -5
  fi
}

expect_ok() {
  local name=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/err" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $name:"; sed 's/^/    /' "$tmp/err" | head -5; fi
}

check() {
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name"; fi
}

# json_get FILE EXPR: evaluate a Python expression over the JSON object `d` in FILE.
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

finish() {
  echo "$1: $pass passed, $fail failed"
  [ $fail -eq 0 ]
}

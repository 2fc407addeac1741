#!/usr/bin/env bash
# Installs the peers of the lifecycle benchmark (duckdb, polars, pyarrow: requirements.txt beside
# this file) from PyPI into the project's .venv (made by scripts/setup, which also builds crmkit).
# Idempotent: does nothing when .venv already holds them from a requirements file with the same
# SHA-256. Prints one line on success; on failure prints the pip log to stderr and exits non-zero.
#   bench/lifecycle/setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"
req="$here/requirements.txt"
stamp="$venv/.crmkit-bench-lifecycle"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup.sh: $venv is missing: run scripts/setup first" >&2
    exit 1
fi
want="$(sha256sum "$req" | cut -d' ' -f1)"
versions() {
    "$venv/bin/python" -c 'import duckdb, polars, pyarrow, pandas, numpy; print(f"duckdb {duckdb.__version__}, polars {polars.__version__}, pyarrow {pyarrow.__version__}, pandas {pandas.__version__}, numpy {numpy.__version__}")'
}
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && versions >/dev/null 2>&1; then
    echo "lifecycle bench peers up to date in $venv ($(versions))"
    exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
fail() {
    echo "setup.sh: $1 (log follows)" >&2
    cat "$log" >&2
    exit 1
}
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req" \
    >>"$log" 2>&1 || fail "pip install failed"
"$venv/bin/python" -m pip check --disable-pip-version-check >>"$log" 2>&1 || fail "pip check failed"
versions >>"$log" 2>&1 || fail "import check failed"
echo "$want" >"$stamp"
echo "lifecycle bench peers installed in $venv ($(versions))"

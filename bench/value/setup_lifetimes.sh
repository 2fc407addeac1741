#!/usr/bin/env bash
# Creates bench/value/.venv-lifetimes with lifetimes 0.11.3 and the pinned dependencies of
# requirements-lifetimes.txt. Idempotent: does nothing when the venv exists and was built from a
# requirements file with the same SHA-256. Prints one line on success; on failure prints the pip
# log to stderr and exits non-zero.
#   PYTHON=python3.11 bench/value/setup_lifetimes.sh     (default PYTHON=python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-lifetimes"
req="$here/requirements-lifetimes.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "lifetimes env up to date: $venv"
    exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
fail() {
    echo "setup_lifetimes.sh: $1 (log follows)" >&2
    cat "$log" >&2
    exit 1
}

rm -rf "$venv"
"$python" -m venv "$venv" >"$log" 2>&1 || fail "python -m venv failed"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r "$req" >>"$log" 2>&1 || fail "pip install failed"
"$venv/bin/python" -m pip check --disable-pip-version-check >>"$log" 2>&1 || fail "pip check failed"
"$venv/bin/python" - >>"$log" 2>&1 <<'PY' || fail "import check failed"
import lifetimes, numpy, pandas, scipy, autograd  # noqa: F401
from lifetimes import BetaGeoFitter, GammaGammaFitter  # noqa: F401
PY
echo "$want" >"$stamp"
echo "lifetimes env ready: $venv ($("$venv/bin/python" -c 'import lifetimes, numpy, pandas, scipy; print(f"lifetimes {lifetimes.__version__}, numpy {numpy.__version__}, pandas {pandas.__version__}, scipy {scipy.__version__}")'))"

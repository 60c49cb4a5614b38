#!/usr/bin/env bash
# CI: fail the deploy job while the release gate is frozen.
#   GATE_URL=http://sre-operator.sre-operator.svc:8080 bash ci-release-gate.sh shop checkout
# Prints the gate's state and reason; exits 0 when releases are allowed, 1 when frozen, 2 when the gate
# cannot be asked (a pipeline decides itself whether that should block).
set -uo pipefail
namespace=${1:?usage: ci-release-gate.sh NAMESPACE GATE}
gate=${2:?usage: ci-release-gate.sh NAMESPACE GATE}
url="${GATE_URL:-http://sre-operator.sre-operator.svc:8080}/v1/gates/$namespace/$gate"

if ! answer=$(curl --silent --show-error --fail-with-body --max-time 10 "$url"); then
  echo "release gate $namespace/$gate cannot be asked at $url: $answer" >&2
  exit 2
fi
echo "release gate $namespace/$gate: $(jq -r '.reason' <<<"$answer") (decision $(jq -r '.decisionId' <<<"$answer"))"
[[ $(jq -r '.allowed' <<<"$answer") == "true" ]] || exit 1

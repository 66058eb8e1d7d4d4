#!/bin/sh
# Side by side in one run: obsforge's full render of one environment (one process, one Jsonnet
# evaluation) vs the Debian `jsonnet` CLI evaluating the same component templates on the same
# inputs, one process per component file (what a Makefile/Tanka-less pipeline would do).
# Usage: bench/jsonnet_cli.sh BUILD_DIR [SPEC] [ENV]   (needs hyperfine and jsonnet)
set -eu
build=${1:?usage: jsonnet_cli.sh BUILD_DIR [SPEC] [ENV]}
spec=${2:-stacks/tokpulse.yaml}
env=${3:-prod}
work=$(mktemp -d /tmp/obsforge-jsonnet.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/bench/jsonnet_inputs" "$spec" "$env" "$work"
cli="for c in \$(cat $work/components); do jsonnet -J templates --tla-code-file stack=$work/stack.json --tla-code-file env=$work/env.json templates/\$c/main.jsonnet > $work/\$c.json; done"
echo "components: $(tr '\n' ' ' < "$work/components")"
hyperfine --warmup 2 --runs "${RUNS:-10}" \
  -n "obsforge render $spec --env $env" "$build/src/app/obsforge render $spec --env $env --out $work/out" \
  -n "jsonnet CLI, one process per component" "sh -c '$cli'"

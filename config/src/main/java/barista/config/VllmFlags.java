package barista.config;

import barista.config.VllmFlag.Answer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Every flag of {@code vllm serve} and barista's answer to it: vLLM 0.7.3's flags (the version the DeepSeek-R1
 * deployment guides were written for: its engine arguments and OpenAI server arguments) and the later ones that
 * deployment files carry. docs/vllm-differences.md shows this table; a test keeps the two the same.
 */
public final class VllmFlags {
  private VllmFlags() {}

  private static final String ONE_DEVICE = "barista runs one device per engine (scale out with --data-parallel-size"
      + " or replicas)";
  private static final String NO_LORA = "barista serves no LoRA adapters";
  private static final String LORA_SETTING = "a LoRA setting, and barista serves no LoRA adapters";
  private static final String NO_SPECULATION = "barista has no speculative decoding";
  private static final String SPECULATION_SETTING = "a speculative-decoding setting, and barista has no speculative "
      + "decoding";
  private static final String TEXT_ONLY = "barista serves text-only models";
  private static final String NO_TLS = "barista serves plain HTTP; terminate TLS in a proxy in front of it";

  /** The table, in vLLM's help order. */
  public static final List<VllmFlag> ALL = List.of(
      // The OpenAI server's arguments.
      honoured("1", "0.0.0.0", null, "--host"),
      honoured("1", "8000", null, "--port"),
      honoured("1", "info", "an alias of --log-level", "--uvicorn-log-level"),
      refused("0", null, "CORS credentials are not allowed", "--allow-credentials"),
      honoured("1", "[\"*\"]", null, "--allowed-origins"),
      noEffectFor("1", "[\"*\"]", "barista's CORS allows every method", Set.of("[\"*\"]"), "--allowed-methods"),
      noEffectFor("1", "[\"*\"]", "barista's CORS allows every header", Set.of("[\"*\"]"), "--allowed-headers"),
      honoured("1", "EMPTY", null, "--api-key"),
      refused("1..*", "sql-lora=/adapters/sql", NO_LORA, "--lora-modules"),
      refused("1..*", "tweet=/adapters/tweet", "barista serves no prompt adapters", "--prompt-adapters"),
      honoured("1", "{{ messages[0]['content'] }}", null, "--chat-template"),
      noEffectFor("1", "auto", "barista renders message content as a string", Set.of("auto", "string"),
          "--chat-template-content-format"),
      noEffectFor("1", "assistant", "the response role is always assistant", Set.of("assistant"), "--response-role"),
      refused("1", "/etc/tls/key.pem", NO_TLS, "--ssl-keyfile"),
      refused("1", "/etc/tls/cert.pem", NO_TLS, "--ssl-certfile"),
      refused("1", "/etc/tls/ca.pem", NO_TLS, "--ssl-ca-certs"),
      noEffectFor("1", "0", NO_TLS, Set.of("0"), "--ssl-cert-reqs"),
      noEffect("1", "/v1-proxy", "it only changes FastAPI's documentation links, and barista serves no such pages",
          "--root-path"),
      refused("1", "my_module.middleware", "Python ASGI middleware cannot run in a JVM", "--middleware"),
      refused("0", null, "logprobs show tokens as text unless a request sets return_tokens_as_token_ids",
          "--return-tokens-as-token-ids"),
      noEffect("0", null, "the HTTP front end and the engine share one process anyway",
          "--disable-frontend-multiprocessing"),
      noEffect("0", null, "every response carries X-Request-Id (the client's when it sent one)",
          "--enable-request-id-headers"),
      new VllmFlag(List.of("--enable-auto-tool-choice"), "0", null, Answer.HONOURED, Set.of(),
          "with --tool-call-parser deepseek_v3", null, null, List.of("--tool-call-parser", "deepseek_v3")),
      new VllmFlag(List.of("--enable-reasoning"), "0", null, Answer.NO_EFFECT, Set.of(),
          "--reasoning-parser alone turns the reasoning split on", o -> o.reasoningParser != null,
          "it needs --reasoning-parser deepseek_r1", List.of("--reasoning-parser", "deepseek_r1")),
      honoured("1", "deepseek_r1", "deepseek_r1 only", "--reasoning-parser"),
      honoured("1", "deepseek_v3", "deepseek_v3 only", "--tool-call-parser"),
      noEffectFor("1", "", "Python tool-parser plugins cannot run in a JVM", Set.of(""), "--tool-parser-plugin"),
      noEffect("1", "100", "request log lines hold no prompt text (see --log-requests-bodies)", "--max-log-len"),
      noEffect("0", null, "barista serves no OpenAPI documentation pages", "--disable-fastapi-docs"),
      refused("0", null, "usage has no prompt_tokens_details", "--enable-prompt-tokens-details"),
      refused("1", "serve.yaml", "pass the flags on the command line (or in the systemd unit's environment file)",
          "--config"),
      // The engine's arguments.
      honoured("1", "facebook/opt-125m", "a folder or a repo id in the local Hugging Face cache; nothing is "
          + "downloaded", "--model"),
      noEffectFor("1", "auto", "barista serves text generation only", Set.of("auto", "generate"), "--task"),
      honoured("1", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", null, "--tokenizer"),
      refused("0", null, "barista tokenizes and detokenizes itself", "--skip-tokenizer-init"),
      honoured("1", "main", null, "--revision"),
      noEffect("1", "main", "barista runs no model code from the Hub", "--code-revision"),
      honoured("1", "main", null, "--tokenizer-revision"),
      noEffectFor("1", "auto", "barista reads the fast tokenizer's tokenizer.json", Set.of("auto"), "--tokenizer-mode"),
      noEffect("1", "5", "barista detokenizes incrementally from the first token",
          "--intial-incremental-detokenization-offset"),
      noEffect("0", null, "barista runs no model code from the Hub", "--trust-remote-code"),
      noEffect("1", "/data/media", TEXT_ONLY, "--allowed-local-media-path"),
      honoured("1", "/data/hf", "the Hugging Face cache folder a repo id is looked up in", "--download-dir"),
      noEffectFor("1", "auto", "barista reads safetensors", Set.of("auto", "safetensors"), "--load-format"),
      noEffectFor("1", "auto", "barista reads Hugging Face config.json", Set.of("auto", "hf"), "--config-format"),
      honoured("1", "auto", "bfloat16 refused (DJL cannot hold bf16 tensors)", "--dtype"),
      noEffectFor("1", "auto", "the KV cache is kept in the compute type", Set.of("auto"), "--kv-cache-dtype"),
      honoured("1", "4096", null, "--max-model-len"),
      noEffectFor("1", "xgrammar", "structured output is barista's own automaton, which answers as xgrammar does",
          Set.of("xgrammar", "auto"), "--guided-decoding-backend"),
      refused("1", "my_module\\..*", "barista runs no custom logits processors", "--logits-processor-pattern"),
      noEffectFor("1", "auto", "barista has its own model implementation", Set.of("auto", "vllm"), "--model-impl"),
      noEffectFor("1", "mp", ONE_DEVICE, Set.of("mp", "uni"), "--distributed-executor-backend"),
      noEffectFor("1", "1", ONE_DEVICE, Set.of("1"), "--pipeline-parallel-size", "-pp"),
      honoured("1", "1", "1 only: " + ONE_DEVICE, "--tensor-parallel-size", "-tp"),
      noEffect("1", "2", "the checkpoint loads in one pass", "--max-parallel-loading-workers"),
      refused("0", null, "barista runs no Ray workers", "--ray-workers-use-nsight"),
      honoured("1", "16", null, "--block-size"),
      honoured("0", null, "on by default; --no-enable-prefix-caching turns it off", "--enable-prefix-caching"),
      noEffect("0", null, "barista's models use no sliding window", "--disable-sliding-window"),
      noEffect("0", null, "deprecated in vLLM too", "--use-v2-block-manager"),
      noEffectFor("1", "0", NO_SPECULATION, Set.of("0"), "--num-lookahead-slots"),
      honoured("1", "0", null, "--seed"),
      noEffect("1", "4", "preemption recomputes; there is no CPU swap", "--swap-space"),
      noEffectFor("1", "0", "the weights stay on the device", Set.of("0"), "--cpu-offload-gb"),
      honoured("1", "0.9", null, "--gpu-memory-utilization"),
      honoured("1", "1000", null, "--num-gpu-blocks-override"),
      honoured("1", "2048", null, "--max-num-batched-tokens"),
      honoured("1", "256", null, "--max-num-seqs"),
      honoured("1", "20", null, "--max-logprobs"),
      honoured("0", null, null, "--disable-log-stats"),
      honoured("1", "awq", "awq and int8 (and none)", "--quantization", "-q"),
      refused("1", "{\"rope_type\":\"dynamic\",\"factor\":2.0}", "RoPE is configured by the model's config.json",
          "--rope-scaling"),
      refused("1", "1000000", "RoPE is configured by the model's config.json", "--rope-theta"),
      refused("1", "{\"max_position_embeddings\":8192}", "the model's config.json is read as it is",
          "--hf-overrides"),
      honoured("0", null, null, "--enforce-eager"),
      noEffect("1", "8192", "CUDA graphs cover steps by token count (--cuda-graph-sizes), not sequence length",
          "--max-seq-len-to-capture"),
      noEffect("0", null, "one device per engine has no all-reduce", "--disable-custom-all-reduce"),
      noEffect("1", "0", "requests are tokenized on the HTTP threads", "--tokenizer-pool-size"),
      noEffect("1", "ray", "requests are tokenized on the HTTP threads", "--tokenizer-pool-type"),
      noEffect("1", "{}", "requests are tokenized on the HTTP threads", "--tokenizer-pool-extra-config"),
      noEffect("1", "image=1", TEXT_ONLY, "--limit-mm-per-prompt"),
      noEffect("1", "{\"num_crops\":4}", TEXT_ONLY, "--mm-processor-kwargs"),
      noEffect("0", null, TEXT_ONLY, "--disable-mm-preprocessor-cache"),
      refused("0", null, NO_LORA, "--enable-lora"),
      refused("0", null, NO_LORA, "--enable-lora-bias"),
      noEffect("1", "1", LORA_SETTING, "--max-loras"),
      noEffect("1", "16", LORA_SETTING, "--max-lora-rank"),
      noEffect("1", "256", LORA_SETTING, "--lora-extra-vocab-size"),
      noEffect("1", "auto", LORA_SETTING, "--lora-dtype"),
      noEffect("1", "4.0", LORA_SETTING, "--long-lora-scaling-factors"),
      noEffect("1", "1", LORA_SETTING, "--max-cpu-loras"),
      refused("0", null, NO_LORA, "--fully-sharded-loras"),
      refused("0", null, "barista serves no prompt adapters", "--enable-prompt-adapter"),
      noEffect("1", "1", "a prompt-adapter setting, and barista serves no prompt adapters", "--max-prompt-adapters"),
      noEffect("1", "0", "a prompt-adapter setting, and barista serves no prompt adapters",
          "--max-prompt-adapter-token"),
      honoured("1", "auto", "auto, cpu or cuda", "--device"),
      noEffectFor("1", "1", "barista schedules every step", Set.of("1"), "--num-scheduler-steps"),
      noEffect("0..1", "True", "barista schedules every step, so outputs stream every step",
          "--multi-step-stream-outputs"),
      noEffectFor("1", "0.0", "prompts are scheduled as soon as they fit", Set.of("0", "0.0"),
          "--scheduler-delay-factor"),
      honoured("0..1", null, "on by default; --no-enable-chunked-prefill turns it off", "--enable-chunked-prefill"),
      refused("1", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", NO_SPECULATION, "--speculative-model"),
      noEffect("1", "awq", SPECULATION_SETTING, "--speculative-model-quantization"),
      refused("1", "5", NO_SPECULATION, "--num-speculative-tokens"),
      noEffect("0", null, SPECULATION_SETTING, "--speculative-disable-mqa-scorer"),
      noEffect("1", "1", SPECULATION_SETTING, "--speculative-draft-tensor-parallel-size", "-spec-draft-tp"),
      noEffect("1", "4096", SPECULATION_SETTING, "--speculative-max-model-len"),
      noEffect("1", "8", SPECULATION_SETTING, "--speculative-disable-by-batch-size"),
      noEffect("1", "4", SPECULATION_SETTING, "--ngram-prompt-lookup-max"),
      noEffect("1", "1", SPECULATION_SETTING, "--ngram-prompt-lookup-min"),
      noEffect("1", "rejection_sampler", SPECULATION_SETTING, "--spec-decoding-acceptance-method"),
      noEffect("1", "0.09", SPECULATION_SETTING, "--typical-acceptance-sampler-posterior-threshold"),
      noEffect("1", "0.3", SPECULATION_SETTING, "--typical-acceptance-sampler-posterior-alpha"),
      noEffect("0..1", "True", SPECULATION_SETTING, "--disable-logprobs-during-spec-decoding"),
      refused("1", "{}", "barista's loader takes no extra configuration", "--model-loader-extra-config"),
      noEffect("1", "original/**/*", "barista reads only the model's *.safetensors", "--ignore-patterns"),
      noEffectFor("1", "recompute", "preemption recomputes; there is no CPU swap", Set.of("recompute"),
          "--preemption-mode"),
      honoured("1..*", "deepseek-r1", null, "--served-model-name"),
      refused("1", "/adapters/qlora", NO_LORA, "--qlora-adapter-name-or-path"),
      refused("1", "http://otel:4317", "barista exports no OpenTelemetry traces; see /metrics",
          "--otlp-traces-endpoint"),
      noEffect("1", "all", "a tracing setting, and barista exports no traces", "--collect-detailed-traces"),
      noEffect("0", null, "outputs are processed on their own threads anyway", "--disable-async-output-proc"),
      honoured("1", "fcfs", null, "--scheduling-policy"),
      noEffect("1", "{}", "for AWS Neuron devices only", "--override-neuron-config"),
      noEffect("1", "{}", "for pooling models only", "--override-pooler-config"),
      noEffect("1", "3", "barista does not use torch.compile; --cuda-graph-sizes and --enforce-eager set its CUDA "
          + "graphs", "--compilation-config", "-O"),
      refused("1", "{\"kv_connector\":\"PyNcclConnector\"}", "barista has no disaggregated prefill",
          "--kv-transfer-config"),
      noEffectFor("1", "auto", "barista has its own engine", Set.of("auto"), "--worker-cls"),
      honoured("1", "auto", "auto, vllm or a folder", "--generation-config"),
      refused("1", "{\"temperature\":0.6}", "put the defaults in a generation_config.json and pass its folder to "
          + "--generation-config", "--override-generation-config"),
      refused("0", null, "barista has no sleep mode", "--enable-sleep-mode"),
      noEffect("0", null, "a setting for fp8 KV caches, and the KV cache is kept in the compute type",
          "--calculate-kv-scales"),
      honoured("0", null, null, "--disable-log-requests"),
      // Later versions' flags that deployment files carry.
      honoured("1", "1", "one engine per GPU, or N on --device cpu", "--data-parallel-size", "-dp"),
      honoured("1..*", "512", null, "--cuda-graph-sizes"),
      refused("1", "{\"method\":\"ngram\",\"num_speculative_tokens\":5}", NO_SPECULATION, "--speculative-config"),
      noEffect("0", null, "barista logs one line per request unless --disable-log-requests", "--enable-log-requests"),
      noEffect("0", null, "barista writes no access log", "--disable-uvicorn-access-log"),
      refused("1", "/run/vllm.sock", "barista listens on TCP only", "--uds"),
      noEffectFor("1", "1", "one HTTP front end serves every engine", Set.of("1"), "--api-server-count"),
      refused("0", null, "barista's engines and front end run in one process", "--headless"),
      refused("0", null, "usage is sent only when stream_options.include_usage asks", "--enable-force-include-usage"),
      noEffect("0", null, "barista's models have no experts", "--enable-expert-parallel"));

  /** The entry for a flag name or alias, or null. */
  public static VllmFlag named(String name) {
    for (VllmFlag flag : ALL) if (flag.names().contains(name)) return flag;
    return null;
  }

  /** The table docs/vllm-differences.md shows, generated from {@link #ALL}. */
  public static String markdownTable() {
    StringBuilder table = new StringBuilder("| vLLM flag | value tested | barista |\n|---|---|---|\n");
    for (VllmFlag flag : ALL) {
      List<String> names = new ArrayList<>();
      for (String n : flag.names()) names.add("`" + n + "`");
      String value = flag.testValue() == null ? "" : "`" + flag.testValue().replace("|", "\\|") + "`";
      table.append("| ").append(String.join(", ", names)).append(" | ").append(value).append(" | ")
          .append(flag.documented()).append(" |\n");
    }
    return table.toString();
  }

  private static VllmFlag honoured(String arity, String testValue, String note, String... names) {
    return new VllmFlag(Arrays.asList(names), arity, testValue, Answer.HONOURED, Set.of(), note, null, null, List.of());
  }

  private static VllmFlag noEffect(String arity, String testValue, String why, String... names) {
    return new VllmFlag(Arrays.asList(names), arity, testValue, Answer.NO_EFFECT, Set.of(), why, null, null, List.of());
  }

  private static VllmFlag noEffectFor(String arity, String testValue, String why, Set<String> values,
      String... names) {
    return new VllmFlag(Arrays.asList(names), arity, testValue, Answer.NO_EFFECT_FOR, values, why, null, null,
        List.of());
  }

  private static VllmFlag refused(String arity, String testValue, String why, String... names) {
    return new VllmFlag(Arrays.asList(names), arity, testValue, Answer.REFUSED, Set.of(), why, null, null, List.of());
  }
}

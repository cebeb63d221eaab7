package barista.server.metrics;

import barista.scheduler.EngineClient;
import barista.scheduler.FinishReason;
import barista.scheduler.StepTokenHistogram;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Info;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * vLLM's metrics under vLLM's names (Prometheus renders "vllm:prompt_tokens_total", "vllm:..._seconds_bucket"), each
 * tagged with model_name, plus JVM metrics. Engine gauges read {@link EngineClient#status()} at scrape time.
 * Counters are registered without "_total" and timers without "_seconds": the Prometheus registry appends both.
 */
public final class ServerMetrics implements AutoCloseable {
  private static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
      1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
  private static final double[] TOKEN_LATENCY_BUCKETS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
      0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
  private static final double[] E2E_BUCKETS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0,
      40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private final Counter promptTokens;
  private final Counter generationTokens;
  private final Timer timeToFirstToken;
  private final Timer interTokenLatency;
  private final Timer timePerOutputToken;
  private final Timer e2eLatency;
  private final Timer queueTime;
  private final Timer prefillTime;
  private final Timer decodeTime;
  private final Timer inferenceTime;
  private final DistributionSummary requestPromptTokens;
  private final DistributionSummary requestGenerationTokens;
  private final DistributionSummary requestMaxTokens;
  private final DistributionSummary requestN;
  private final Map<FinishReason, Counter> successes = new EnumMap<>(FinishReason.class);
  private final EngineClient engine;
  private final String modelLabel;
  private volatile boolean muted; // the startup warm-up's requests are not the clients'

  /**
   * @param maxModelLen the longest sequence, the top of the token-count histograms' 1-2-5 buckets
   * @param cacheConfig the KV cache's settings, exposed as the labels of {@code vllm:cache_config_info}
   */
  public ServerMetrics(EngineClient engine, String modelName, int maxModelLen, Map<String, String> cacheConfig) {
    this.engine = engine;
    String escaped = modelName.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    this.modelLabel = "model_name=\"" + escaped + "\"";
    registry.config().namingConvention(new VllmNamingConvention());
    // Two JVM meters break Prometheus naming rules (promtool: "abbreviated units", "_count" on a gauge);
    // process_cpu_usage and the JVM metrics cover them.
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
        || id.getName().equals("system.cpu.count")));
    Tags model = Tags.of("model_name", modelName);
    Gauge.builder("vllm:num_requests_running", engine, e -> e.status().running()).tags(model)
        .description("Requests in the running batch").register(registry);
    Gauge.builder("vllm:num_requests_waiting", engine, e -> e.status().waiting()).tags(model)
        .description("Requests waiting to be scheduled").register(registry);
    Gauge.builder("vllm:kv_cache_usage_perc", engine, e -> e.status().kvCacheUsage()).tags(model)
        .description("KV cache usage, 1 = full").register(registry);
    Gauge.builder("vllm:gpu_cache_usage_perc", engine, e -> e.status().kvCacheUsage()).tags(model)
        .description("KV cache usage, 1 = full (legacy name)").register(registry);
    FunctionCounter.builder("vllm:num_preemptions", engine, e -> e.status().preemptions()).tags(model)
        .description("Preemptions since start").register(registry);
    FunctionCounter.builder("vllm:prefix_cache_queries", engine, e -> e.status().prefixCacheQueries()).tags(model)
        .description("Prompt tokens looked up in the prefix cache").register(registry);
    FunctionCounter.builder("vllm:prefix_cache_hits", engine, e -> e.status().prefixCacheHits()).tags(model)
        .description("Prompt tokens found in the prefix cache").register(registry);
    promptTokens = Counter.builder("vllm:prompt_tokens").tags(model)
        .description("Prefill tokens processed").register(registry);
    generationTokens = Counter.builder("vllm:generation_tokens").tags(model)
        .description("Generation tokens processed").register(registry);
    timeToFirstToken = timer("vllm:time_to_first_token", model, TTFT_BUCKETS, "Time to first token");
    interTokenLatency = timer("vllm:inter_token_latency", model, TOKEN_LATENCY_BUCKETS, "Time between tokens");
    timePerOutputToken = timer("vllm:time_per_output_token", model, TOKEN_LATENCY_BUCKETS,
        "Mean time per output token of a request after its first");
    e2eLatency = timer("vllm:e2e_request_latency", model, E2E_BUCKETS, "End-to-end request latency");
    // vLLM V1's request phases, from the engine's timestamps, with its request-latency buckets.
    queueTime = timer("vllm:request_queue_time", model, E2E_BUCKETS,
        "Time a request waited in the engine's queue before it was first scheduled");
    prefillTime = timer("vllm:request_prefill_time", model, E2E_BUCKETS,
        "First scheduled to first token (the prefill phase)");
    decodeTime = timer("vllm:request_decode_time", model, E2E_BUCKETS, "First token to last token (the decode phase)");
    inferenceTime = timer("vllm:request_inference_time", model, E2E_BUCKETS,
        "First scheduled to last token (prefill and decode)");
    double[] tokenBuckets = oneTwoFive(maxModelLen);
    requestPromptTokens = summary("vllm:request_prompt_tokens", model, tokenBuckets, "Prompt tokens per request");
    requestGenerationTokens = summary("vllm:request_generation_tokens", model, tokenBuckets,
        "Generated tokens per request");
    requestMaxTokens = summary("vllm:request_params_max_tokens", model, tokenBuckets, "max_tokens per request");
    requestN = summary("vllm:request_params_n", model, new double[] {1, 2, 5, 10, 20}, "n per API request");
    // An info metric (Micrometer has none, and its gauges may not end in "_info"): Prometheus' own type.
    Map<String, String> labels = new java.util.TreeMap<>(cacheConfig);
    labels.put("model_name", modelName);
    Info.builder().name("vllm:cache_config_info").help("Information of the KV cache's configuration")
        .labelNames(labels.keySet().toArray(String[]::new)).register(registry.getPrometheusRegistry())
        .addLabelValues(labels.values().toArray(String[]::new));
    for (FinishReason reason : FinishReason.values()) {
      successes.put(reason, Counter.builder("vllm:request_success").tags(model.and("finished_reason", reason.apiName()))
          .description("Finished requests by finish reason").register(registry));
    }
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  private Timer timer(String name, Tags tags, double[] bucketSeconds, String description) {
    Duration[] buckets = Arrays.stream(bucketSeconds).mapToObj(s -> Duration.ofNanos((long) (s * 1e9)))
        .toArray(Duration[]::new);
    return Timer.builder(name).tags(tags).description(description).serviceLevelObjectives(buckets).register(registry);
  }

  private DistributionSummary summary(String name, Tags tags, double[] buckets, String description) {
    return DistributionSummary.builder(name).tags(tags).description(description).serviceLevelObjectives(buckets)
        .register(registry);
  }

  /** vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... up to {@code max}. */
  static double[] oneTwoFive(int max) {
    java.util.List<Double> buckets = new java.util.ArrayList<>();
    for (long exponent = 1; ; exponent *= 10) {
      for (int mantissa : new int[] {1, 2, 5}) {
        if (mantissa * exponent > max) return buckets.stream().mapToDouble(Double::doubleValue).toArray();
        buckets.add((double) mantissa * exponent);
      }
    }
  }

  /**
   * One API response, as prometheus-fastapi-instrumentator counts them for vLLM: {@code http_requests_total} by
   * handler (route path), method and status class ("2xx", "4xx", ...).
   */
  public void httpResponse(String method, String handler, int status) {
    if (muted) return;
    Counter.builder("http_requests").description("API responses by handler, method and status class")
        .tags("handler", handler, "method", method, "status", (status / 100) + "xx").register(registry).increment();
  }

  public String scrape() {
    StringBuilder out = new StringBuilder(registry.scrape());
    appendStepTokens(out, engine.stepTokens());
    return out.toString();
  }

  /**
   * {@code vllm:iteration_tokens_total}, written here: vLLM names this histogram with "_total", which the Prometheus
   * Java client reserves for counters and would not register.
   */
  private void appendStepTokens(StringBuilder out, StepTokenHistogram.Snapshot s) {
    String name = "vllm:iteration_tokens_total";
    out.append("# HELP ").append(name).append(" Histogram of number of tokens per engine_step.\n");
    out.append("# TYPE ").append(name).append(" histogram\n");
    long cumulative = 0;
    for (int i = 0; i <= StepTokenHistogram.BOUNDS.length; i++) {
      cumulative += s.counts()[i];
      String le = i < StepTokenHistogram.BOUNDS.length ? StepTokenHistogram.BOUNDS[i] + ".0" : "+Inf";
      out.append(name).append("_bucket{").append(modelLabel).append(",le=\"").append(le).append("\"} ")
          .append(cumulative).append('\n');
    }
    out.append(name).append("_count{").append(modelLabel).append("} ").append(s.steps()).append('\n');
    out.append(name).append("_sum{").append(modelLabel).append("} ").append(s.tokens()).append('\n');
  }

  public void firstToken(long sinceArrivalNanos) {
    if (muted) return;
    timeToFirstToken.record(sinceArrivalNanos, TimeUnit.NANOSECONDS);
  }

  public void interToken(long nanos) {
    if (muted) return;
    interTokenLatency.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void generatedTokens(int count) {
    if (muted) return;
    generationTokens.increment(count);
  }

  /**
   * One engine request ended. Times are {@link System#nanoTime} values, 0 for what did not happen: no token
   * ({@code firstTokenNanos}), never taken by the engine or never scheduled (then its phases are not observed).
   */
  public void finished(FinishReason reason, int prompt, int completion, int maxTokens, RequestTimes times) {
    if (muted) return;
    promptTokens.increment(prompt);
    successes.get(reason).increment();
    requestPromptTokens.record(prompt);
    requestGenerationTokens.record(completion);
    requestMaxTokens.record(maxTokens);
    e2eLatency.record(times.finished() - times.arrival(), TimeUnit.NANOSECONDS);
    if (completion > 1 && times.firstToken() != 0) {
      timePerOutputToken.record((times.lastToken() - times.firstToken()) / (completion - 1), TimeUnit.NANOSECONDS);
    }
    if (times.queued() == 0 || times.scheduled() == 0) return;
    queueTime.record(times.scheduled() - times.queued(), TimeUnit.NANOSECONDS);
    if (times.firstToken() == 0) return;
    prefillTime.record(Math.max(0, times.firstToken() - times.scheduled()), TimeUnit.NANOSECONDS);
    decodeTime.record(times.lastToken() - times.firstToken(), TimeUnit.NANOSECONDS);
    inferenceTime.record(Math.max(0, times.lastToken() - times.scheduled()), TimeUnit.NANOSECONDS);
  }

  /** The moments of one request's life, as vLLM's RequestStateStats has them (System.nanoTime, 0 = never). */
  public record RequestTimes(long arrival, long queued, long scheduled, long firstToken, long lastToken,
      long finished) {}

  /** One API request answered: its {@code n} (choices asked for). */
  public void apiRequestFinished(int n) {
    if (muted) return;
    requestN.record(n);
  }

  /**
   * While muted, requests and responses are not recorded (the startup warm-up, before any client is served). The
   * engine's own figures (steps, prefix-cache lookups, KV use) are read from the engine and count its steps too.
   */
  public void mute(boolean on) {
    muted = on;
  }

  public double promptTokensTotal() {
    return promptTokens.count();
  }

  public double generationTokensTotal() {
    return generationTokens.count();
  }

  @Override
  public void close() {
    gcMetrics.close();
    registry.close();
  }
}

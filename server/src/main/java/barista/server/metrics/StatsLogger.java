package barista.server.metrics;

import barista.engine.constraint.MaskStats;
import barista.scheduler.EngineClient;
import barista.scheduler.EngineStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** vLLM's periodic stats line: throughput since the last line, queue sizes, KV usage and prefix hit rate. */
public final class StatsLogger implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(StatsLogger.class);

  private final EngineClient engine;
  private final ServerMetrics metrics;
  private long lastNanos = System.nanoTime();
  private double lastPrompt;
  private double lastGeneration;
  private long lastQueries;
  private long lastHits;
  private long lastMaskSteps;
  private long lastMaskNanos;

  public StatsLogger(EngineClient engine, ServerMetrics metrics) {
    this.engine = engine;
    this.metrics = metrics;
  }

  /** Logs one line when anything ran since the last call. */
  @Override
  public void run() {
    long now = System.nanoTime();
    double seconds = Math.max((now - lastNanos) / 1e9, 1e-9);
    double prompt = metrics.promptTokensTotal();
    double generation = metrics.generationTokensTotal();
    EngineStatus status = engine.status();
    long queries = status.prefixCacheQueries() - lastQueries;
    long hits = status.prefixCacheHits() - lastHits;
    boolean busy = status.running() > 0 || status.waiting() > 0 || prompt > lastPrompt || generation > lastGeneration;
    long maskSteps = MaskStats.steps() - lastMaskSteps;
    long maskNanos = MaskStats.nanos() - lastMaskNanos;
    if (busy) {
      // Structured output adds its mask cost per step (engine-thread time to get the masks of one step's rows).
      String masks = maskSteps == 0 ? "" : String.format(", Constrained steps: %d, mask time: %.3f ms/step",
          maskSteps, maskNanos / 1e6 / maskSteps);
      log.info(String.format("Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f tokens/s, "
              + "Running: %d reqs, Waiting: %d reqs, KV cache usage: %.1f%%, Prefix cache hit rate: %.1f%%%s",
          (prompt - lastPrompt) / seconds, (generation - lastGeneration) / seconds, status.running(),
          status.waiting(), 100 * status.kvCacheUsage(), queries == 0 ? 0.0 : 100.0 * hits / queries, masks));
    }
    lastMaskSteps += maskSteps;
    lastMaskNanos += maskNanos;
    lastNanos = now;
    lastPrompt = prompt;
    lastGeneration = generation;
    lastQueries = status.prefixCacheQueries();
    lastHits = status.prefixCacheHits();
  }
}

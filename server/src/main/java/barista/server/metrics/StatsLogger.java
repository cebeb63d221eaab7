package barista.server.metrics;

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
    if (busy) {
      log.info(String.format("Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f tokens/s, "
              + "Running: %d reqs, Waiting: %d reqs, KV cache usage: %.1f%%, Prefix cache hit rate: %.1f%%",
          (prompt - lastPrompt) / seconds, (generation - lastGeneration) / seconds, status.running(),
          status.waiting(), 100 * status.kvCacheUsage(), queries == 0 ? 0.0 : 100.0 * hits / queries));
    }
    lastNanos = now;
    lastPrompt = prompt;
    lastGeneration = generation;
    lastQueries = status.prefixCacheQueries();
    lastHits = status.prefixCacheHits();
  }
}

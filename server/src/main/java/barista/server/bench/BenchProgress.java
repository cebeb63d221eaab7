package barista.server.bench;

import barista.server.progress.ProgressReporter;
import java.util.Locale;

/** The bench's progress: finished requests of all, with the request and output-token throughput so far. */
final class BenchProgress {
  private final ProgressReporter reporter;
  private final int total;
  private final long start = System.nanoTime();
  private int finished;
  private int failed;
  private long outputTokens;

  BenchProgress(ProgressReporter reporter, int total) {
    this.reporter = reporter;
    this.total = total;
    reporter.update(0, total, "0/" + total + " requests");
  }

  ProgressReporter reporter() {
    return reporter;
  }

  /** One request ended (any thread). */
  synchronized void finished(RequestResult result) {
    finished++;
    if (!result.success()) failed++;
    outputTokens += result.outputTokens();
    double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
    reporter.update(finished, total, String.format(Locale.ROOT, "%d/%d requests, %.2f req/s, %.1f output tok/s%s",
        finished, total, finished / seconds, outputTokens / seconds, failed == 0 ? "" : ", " + failed + " failed"));
  }
}

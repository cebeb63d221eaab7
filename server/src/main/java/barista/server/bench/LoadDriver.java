package barista.server.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/** Sends prompts as they arrive, never more than {@code concurrency} at once, and waits for all of them. */
final class LoadDriver {

  /** One request, measured; it must end by itself (the client's timeout). */
  interface Sender {
    RequestResult send(BenchPrompt prompt) throws InterruptedException;
  }

  /** The results in prompt order, the wall time from the first send to the last answer, and the most in flight. */
  record Run(List<RequestResult> results, double durationSeconds, int peakInFlight) {}

  private LoadDriver() {}

  static Run run(List<BenchPrompt> prompts, Sender sender, int concurrency, PoissonArrivals arrivals)
      throws InterruptedException {
    return run(prompts, sender, concurrency, arrivals, result -> { });
  }

  /** As above, handing each result to {@code onFinished} as it comes (on the request's thread), for progress. */
  static Run run(List<BenchPrompt> prompts, Sender sender, int concurrency, PoissonArrivals arrivals,
      java.util.function.Consumer<RequestResult> onFinished) throws InterruptedException {
    if (concurrency < 1) throw new IllegalArgumentException("--concurrency must be >= 1, got " + concurrency);
    Semaphore slots = new Semaphore(concurrency);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    ExecutorService workers = Executors.newFixedThreadPool(Math.max(1, Math.min(concurrency, prompts.size())), r -> {
      Thread thread = new Thread(r, "bench-request");
      thread.setDaemon(true);
      return thread;
    });
    try {
      long start = System.nanoTime();
      long arrival = start;
      List<Future<RequestResult>> futures = new ArrayList<>();
      for (BenchPrompt prompt : prompts) {
        arrival += arrivals.nextGapNanos();
        waitUntil(arrival);
        slots.acquire();
        futures.add(workers.submit(() -> {
          peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          try {
            RequestResult result;
            try {
              result = sender.send(prompt);
            } catch (RuntimeException e) {
              onFinished.accept(RequestResult.failure(e.toString(), 0));
              throw e;
            }
            onFinished.accept(result);
            return result;
          } finally {
            inFlight.decrementAndGet();
            slots.release();
          }
        }));
      }
      List<RequestResult> results = new ArrayList<>();
      for (Future<RequestResult> future : futures) results.add(get(future));
      return new Run(results, StreamMeter.seconds(System.nanoTime() - start), peak.get());
    } finally {
      workers.shutdownNow();
    }
  }

  /** Paces arrivals (not synchronization): parks until the arrival time. */
  private static void waitUntil(long nanos) throws InterruptedException {
    for (long left = nanos - System.nanoTime(); left > 0; left = nanos - System.nanoTime()) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) throw new InterruptedException();
    }
  }

  private static RequestResult get(Future<RequestResult> future) throws InterruptedException {
    try {
      return future.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      return RequestResult.failure(cause.toString(), 0);
    }
  }
}

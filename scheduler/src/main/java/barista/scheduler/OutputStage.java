package barista.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Output processing off the engine thread (asynchronous scheduling; vLLM V1 does it in its front-end process):
 * detokenizing, stop strings and handing each output to its listener run on a few output threads. A request always
 * goes to the same thread (by sequence id), so its outputs keep their order; its abort output takes the same way.
 * The engine thread hands over one step's tokens at a time and waits for the step before to be done first, so at
 * most two steps' outputs are ever queued.
 *
 * <p>A stop string is found here, after the engine has scheduled the next step: the engine collects such stops
 * ({@link Step#awaitTextStops}) before it schedules again, so a request stopped by its text computes one token more
 * at most, which {@link Scheduler#applyStep} discards.
 */
final class OutputStage implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OutputStage.class);

  private final ExecutorService[] threads;

  OutputStage(int numThreads) {
    threads = new ExecutorService[numThreads];
    for (int i = 0; i < numThreads; i++) {
      String name = "barista-output-" + i;
      threads[i] = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      });
    }
  }

  int numThreads() {
    return threads.length;
  }

  /** One step's outputs in the stage. */
  static final class Step {
    private final CountDownLatch textStopsChecked;
    private final CountDownLatch done;
    private final Queue<Request> ended = new ConcurrentLinkedQueue<>();

    private Step(int parts) {
      textStopsChecked = new CountDownLatch(parts);
      done = new CountDownLatch(parts);
    }

    /**
     * Waits until every request of the step with stop strings has had its text checked; returns the requests whose
     * output ended here while the engine still runs them (a stop string, a failed detokenizer or listener).
     */
    List<Request> awaitTextStops() throws InterruptedException {
      textStopsChecked.await();
      return new ArrayList<>(ended);
    }

    void awaitDone() throws InterruptedException {
      done.await();
    }
  }

  /** Hands over one step's tokens; the requests with stop strings are processed first on each thread. */
  Step dispatch(List<Scheduler.SampledToken> tokens) {
    List<List<Scheduler.SampledToken>> parts = new ArrayList<>();
    for (int i = 0; i < threads.length; i++) parts.add(new ArrayList<>());
    for (Scheduler.SampledToken t : tokens) parts.get(part(t.request())).add(t);
    Step step = new Step(threads.length);
    for (int i = 0; i < threads.length; i++) {
      List<Scheduler.SampledToken> part = parts.get(i);
      Runnable work = () -> {
        try {
          for (Scheduler.SampledToken t : part) if (hasStopStrings(t)) process(t, step);
          step.textStopsChecked.countDown();
          for (Scheduler.SampledToken t : part) if (!hasStopStrings(t)) process(t, step);
        } finally {
          while (step.textStopsChecked.getCount() > 0) step.textStopsChecked.countDown(); // never leave one waiting
          step.done.countDown();
        }
      };
      try {
        threads[i].execute(work);
      } catch (RejectedExecutionException e) { // closed: the engine is stopping
        work.run();
      }
    }
    return step;
  }

  private static boolean hasStopStrings(Scheduler.SampledToken t) {
    return !t.request().params.stop().isEmpty();
  }

  private void process(Scheduler.SampledToken t, Step step) {
    Request r = t.request();
    if (r.outputFinished) return; // ended at an earlier token (a stop string): later ones are extra, discarded
    RequestOutput out;
    try {
      out = t.toOutput();
    } catch (RuntimeException e) {
      log.error("Output of request {} failed; aborting it", r.id, e);
      out = RequestOutput.abort(r.id, r.numPrompt, Math.max(0, r.numCachedPrompt), t.numOutput() - 1, r.queuedNanos,
          r.scheduledNanos);
    }
    boolean delivered = send(r, out);
    if ((out.finished() || !delivered) && !t.finished()) step.ended.add(r);
  }

  /** Sends an output the engine made itself (an abort) after the request's earlier ones. */
  void deliver(Request r, RequestOutput out) {
    Runnable work = () -> send(r, out);
    try {
      threads[part(r)].execute(work);
    } catch (RejectedExecutionException e) { // closed: nothing of this request is queued any more
      work.run();
    }
  }

  /** Runs on the request's output thread. False when the listener failed: the request must end. */
  private static boolean send(Request r, RequestOutput out) {
    if (r.outputFinished) return true;
    r.outputFinished = out.finished();
    try {
      r.listener.onOutput(out);
      return true;
    } catch (RuntimeException e) {
      log.warn("Output listener of request {} failed; aborting it", out.requestId(), e);
      r.outputFinished = true;
      return false;
    }
  }

  private int part(Request r) {
    return (int) Math.floorMod(r.seqId, (long) threads.length);
  }

  /** Lets queued outputs go out, then stops the threads. */
  @Override
  public void close() {
    for (ExecutorService t : threads) t.shutdown();
    try {
      for (ExecutorService t : threads) t.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

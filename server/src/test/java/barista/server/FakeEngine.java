package barista.server;

import barista.engine.sampling.SamplingParams;
import barista.scheduler.EngineClient;
import barista.scheduler.EngineOverloadedException;
import barista.scheduler.EngineStatus;
import barista.scheduler.FinishReason;
import barista.scheduler.GenerationRequest;
import barista.scheduler.OutputListener;
import barista.scheduler.RequestOutput;
import barista.scheduler.TokenLogprob;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An engine without a model, for server tests: every request "generates" the scripted reply, one character per
 * token (token id = char code), on the engine's own thread. It honours max_tokens, stop strings and abort, can hang
 * (a reply that never ends, paced one token per millisecond until aborted) and can refuse as overloaded.
 */
final class FakeEngine implements EngineClient, AutoCloseable {
  static final String FOREVER = null;

  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "fake-engine"));
  private final Map<String, GenerationRequest> submitted = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<String>> aborts = new ConcurrentHashMap<>();
  private final Set<String> aborted = ConcurrentHashMap.newKeySet();
  /** Every submitted request, in order, for tests that wait for a submission. */
  final BlockingQueue<GenerationRequest> arrivals = new LinkedBlockingQueue<>();
  volatile String reply = "Hello world";
  volatile boolean overloaded;
  /** New requests produce nothing until aborted (they hold a graceful shutdown open). */
  volatile boolean stall;
  volatile boolean ready = true;
  volatile boolean alive = true;
  volatile barista.scheduler.StepTokenHistogram.Snapshot stepTokens =
      barista.scheduler.StepTokenHistogram.Snapshot.EMPTY;

  @Override
  public barista.scheduler.StepTokenHistogram.Snapshot stepTokens() {
    return stepTokens;
  }

  /** Complete it to play an engine whose loop died. */
  final CompletableFuture<Throwable> death = new CompletableFuture<>();

  @Override
  public java.util.concurrent.CompletionStage<Throwable> death() {
    return death;
  }

  @Override
  public void submit(GenerationRequest request, OutputListener listener) {
    if (overloaded) throw new EngineOverloadedException("waiting queue is full");
    submitted.put(request.requestId(), request);
    arrivals.add(request);
    String script = reply;
    thread.execute(() -> generate(request, listener, script));
  }

  private void generate(GenerationRequest request, OutputListener listener, String script) {
    if (stall) {
      abortFuture(request.requestId()).join();
      return;
    }
    SamplingParams params = request.params();
    int max = params.maxTokens();
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < max; i++) {
      if (aborted.contains(request.requestId())) return;
      char c = script == FOREVER ? 'x' : i < script.length() ? script.charAt(i) : 0;
      if (c == 0) {
        listener.onOutput(output(request, "", FinishReason.STOP, null, i, new int[0]));
        return;
      }
      text.append(c);
      for (String stop : params.stop()) {
        if (text.toString().endsWith(stop)) {
          String kept = params.includeStopStrInOutput() ? String.valueOf(c) : "";
          listener.onOutput(output(request, kept, FinishReason.STOP, stop, i + 1, new int[] {c}));
          return;
        }
      }
      FinishReason finish = i + 1 == max ? FinishReason.LENGTH : null;
      listener.onOutput(output(request, String.valueOf(c), finish, null, i + 1, new int[] {c}));
      if (script == FOREVER) pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(1); // pacing of an endless reply, not synchronization
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static RequestOutput output(GenerationRequest request, String text, FinishReason finish, Object stopReason,
      int completionTokens, int[] tokenIds) {
    List<TokenLogprob> logprobs = List.of();
    Integer k = request.params().logprobs();
    if (k != null && tokenIds.length == 1) {
      int[] top = new int[k];
      float[] topLogprobs = new float[k];
      for (int j = 0; j < k; j++) {
        top[j] = 'a' + j;
        topLogprobs[j] = -1f - j;
      }
      logprobs = List.of(new TokenLogprob(tokenIds[0], -0.5f, top, topLogprobs));
    }
    return new RequestOutput(request.requestId(), tokenIds, text, logprobs, finish, stopReason,
        request.promptTokenIds().length, 2, completionTokens, request.arrivalNanos() - 1_000_000,
        request.arrivalNanos()); // queued 1 ms before its arrival at the server, scheduled then: before any token
  }

  @Override
  public void abort(String requestId) {
    aborted.add(requestId);
    abortFuture(requestId).complete(requestId);
  }

  /** Completes when the request is aborted. */
  CompletableFuture<String> abortFuture(String requestId) {
    return aborts.computeIfAbsent(requestId, id -> new CompletableFuture<>());
  }

  GenerationRequest request(String requestId) {
    return submitted.get(requestId);
  }

  Map<String, GenerationRequest> submitted() {
    return submitted;
  }

  @Override
  public EngineStatus status() {
    return new EngineStatus(ready, alive, 3, 1, 100, 75, 0.25, 7, 40, 30);
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}

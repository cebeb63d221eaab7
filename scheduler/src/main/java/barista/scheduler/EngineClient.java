package barista.scheduler;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the front end sees of the engine: submit, abort, look. Calls never block on the engine loop; the listener
 * of a request is called on the engine thread (or an output thread, see {@link OutputListener}) and must hand its
 * work off without blocking.
 */
public interface EngineClient {

  /**
   * Queues a request. Throws {@link EngineOverloadedException} when the waiting queue is full, and
   * IllegalArgumentException (message names the field) when the request cannot run here (e.g. prompt + max_tokens
   * over the context limit, token ids outside the vocabulary).
   */
  void submit(GenerationRequest request, OutputListener listener);

  /**
   * Queues several requests (the prompts and choices of one API request) as one: every request is checked and
   * room for all of them is taken in one step, so either all are queued or none is, and a refused batch never
   * holds a place another client could have had. Throws as {@link #submit} with nothing queued.
   * This default is for engines without a waiting limit: it submits one by one and aborts those queued when one is
   * refused.
   */
  default void submitAll(List<GenerationRequest> requests, List<OutputListener> listeners) {
    for (int i = 0; i < requests.size(); i++) {
      try {
        submit(requests.get(i), listeners.get(i));
      } catch (RuntimeException e) {
        for (int j = 0; j < i; j++) abort(requests.get(j).requestId());
        throw e;
      }
    }
  }

  /** Aborts a request (unknown or finished ids are ignored); its KV blocks are freed at the next step. */
  void abort(String requestId);

  EngineStatus status();

  /**
   * Completes, with the cause, when the engine can serve no more requests because its loop died (a CUDA error, say);
   * never on a clean shutdown. The server then shuts down so that its service manager can restart it, as vLLM's
   * does. Callbacks may run on the dying engine thread: they must hand their work off.
   */
  default CompletionStage<Throwable> death() {
    return new CompletableFuture<>(); // an engine that cannot die
  }

  /** Tokens per engine step since start ({@code vllm:iteration_tokens_total}). */
  default StepTokenHistogram.Snapshot stepTokens() {
    return StepTokenHistogram.Snapshot.EMPTY;
  }
}

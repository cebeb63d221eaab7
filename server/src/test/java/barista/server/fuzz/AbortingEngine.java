package barista.server.fuzz;

import barista.scheduler.EngineClient;
import barista.scheduler.EngineStatus;
import barista.scheduler.GenerationRequest;
import barista.scheduler.OutputListener;

/**
 * The real engine, but every request it accepts is aborted at once: a fuzzer's request goes through every check
 * of the HTTP layer and the engine's admission, then ends after one step instead of generating up to the context.
 */
final class AbortingEngine implements EngineClient {
  private final EngineClient engine;

  AbortingEngine(EngineClient engine) {
    this.engine = engine;
  }

  @Override
  public void submit(GenerationRequest request, OutputListener listener) {
    engine.submit(request, listener);
    engine.abort(request.requestId());
  }

  @Override
  public void abort(String requestId) {
    engine.abort(requestId);
  }

  @Override
  public EngineStatus status() {
    return engine.status();
  }
}

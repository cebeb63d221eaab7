package barista.server;

import barista.config.ServeOptions;
import barista.scheduler.EngineClient;
import barista.server.generation.ActiveSessions;
import barista.server.metrics.ServerMetrics;

/**
 * What the endpoints share: the engine, the model, the launch options, metrics, the requests in flight, the
 * constraint compiler and the cheap prompt-length bound.
 */
public record ServerContext(
    EngineClient engine, ServedModel model, ServeOptions options, ServerMetrics metrics, ActiveSessions sessions,
    Constraints constraints, barista.server.openai.PromptBound promptBound) {

  public ServerContext(EngineClient engine, ServedModel model, ServeOptions options, ServerMetrics metrics,
      ActiveSessions sessions) {
    this(engine, model, options, metrics, sessions, new Constraints(options.constraintCompileTimeoutSeconds), new barista.server.openai.PromptBound(model));
  }

  /** The name reported as "model" when a request names none. */
  public String defaultModelName() {
    return model.servedNames().get(0);
  }
}

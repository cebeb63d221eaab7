package barista.server.generation;

import barista.scheduler.EngineClient;
import barista.server.metrics.ServerMetrics;
import barista.server.model.ServedModel;

/**
 * What every generation session uses of the server: the engine it submits to, the model its writers read tokens
 * with, metrics, the sessions in flight, and the launch options it reads (the request timeout, whether to log).
 *
 * @param requestTimeoutSeconds a request unfinished after this long is aborted; 0: never
 * @param logRequests whether a finished request is logged
 */
public record GenerationContext(EngineClient engine, ServedModel model, ServerMetrics metrics,
    ActiveSessions sessions, double requestTimeoutSeconds, boolean logRequests) {}

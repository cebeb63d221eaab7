package barista.server;

import barista.config.ServeOptions;
import barista.engine.sampling.SamplingParams;
import barista.scheduler.EngineClient;
import barista.server.generation.ActiveSessions;
import barista.server.metrics.ServerMetrics;
import barista.server.openai.RequestPolicy;
import java.util.Map;

/**
 * What the endpoints share: the engine, the model, the launch options, metrics, the requests in flight, the
 * constraint compiler, the cheap prompt-length bound and what request parsing is held to.
 */
public record ServerContext(
    EngineClient engine, ServedModel model, ServeOptions options, ServerMetrics metrics, ActiveSessions sessions,
    Constraints constraints, barista.server.openai.PromptBound promptBound, RequestPolicy requestPolicy) {

  public ServerContext(EngineClient engine, ServedModel model, ServeOptions options, ServerMetrics metrics,
      ActiveSessions sessions) {
    this(engine, model, options, metrics, sessions, new Constraints(options.constraintCompileTimeoutSeconds),
        new barista.server.openai.PromptBound(model), requestPolicy(options, model.defaultSamplingParams()));
  }

  /** The request defaults and limits the launch options and the model's sampling defaults give. */
  public static RequestPolicy requestPolicy(ServeOptions o, SamplingParams samplingDefaults) {
    Map<String, Integer> reasoningBudgets = o.reasoningParser == null ? Map.of() : RequestPolicy.reasoningBudgets(
        o.minimalReasoningBudget, ServeOptions.REASONING_EFFORTS.stream().map(o::reasoningBudget).toList());
    boolean priority = o.schedulingPolicy == ServeOptions.SchedulingPolicy.priority;
    return new RequestPolicy(samplingDefaults, o.maxLogprobs, priority,
        o.enableAutoToolChoice && o.toolCallParser != null, reasoningBudgets);
  }

  /** The name reported as "model" when a request names none. */
  public String defaultModelName() {
    return model.servedNames().get(0);
  }
}

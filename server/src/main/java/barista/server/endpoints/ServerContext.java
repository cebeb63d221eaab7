package barista.server.endpoints;

import barista.config.ServeOptions;
import barista.engine.sampling.SamplingParams;
import barista.scheduler.EngineClient;
import barista.server.generation.ActiveSessions;
import barista.server.generation.GenerationContext;
import barista.server.metrics.ServerMetrics;
import barista.server.model.ServedModel;
import barista.server.openai.PromptBound;
import barista.server.openai.RequestPolicy;
import java.util.Map;

/**
 * What the endpoints share: what their generation sessions use (the engine, the model, metrics, the requests in
 * flight), the launch options, the constraint compiler, the cheap prompt-length bound and what request parsing is
 * held to.
 */
public record ServerContext(GenerationContext generation, ServeOptions options, Constraints constraints,
    PromptBound promptBound, RequestPolicy requestPolicy) {

  public ServerContext(EngineClient engine, ServedModel model, ServeOptions options, ServerMetrics metrics,
      ActiveSessions sessions) {
    this(new GenerationContext(engine, model, metrics, sessions, options.requestTimeoutSeconds,
        !options.disableLogRequests), options, new Constraints(options.constraintCompileTimeoutSeconds),
        new PromptBound(model), requestPolicy(options, model.defaultSamplingParams()));
  }

  /** The request defaults and limits the launch options and the model's sampling defaults give. */
  public static RequestPolicy requestPolicy(ServeOptions o, SamplingParams samplingDefaults) {
    Map<String, Integer> reasoningBudgets = o.reasoningParser == null ? Map.of() : RequestPolicy.reasoningBudgets(
        o.minimalReasoningBudget, ServeOptions.REASONING_EFFORTS.stream().map(o::reasoningBudget).toList());
    boolean priority = o.schedulingPolicy == ServeOptions.SchedulingPolicy.priority;
    return new RequestPolicy(samplingDefaults, o.maxLogprobs, priority,
        o.enableAutoToolChoice && o.toolCallParser != null, reasoningBudgets);
  }

  public EngineClient engine() {
    return generation.engine();
  }

  public ServedModel model() {
    return generation.model();
  }

  public ServerMetrics metrics() {
    return generation.metrics();
  }

  public ActiveSessions sessions() {
    return generation.sessions();
  }

  /** The name reported as "model" when a request names none. */
  public String defaultModelName() {
    return model().servedNames().get(0);
  }
}

package barista.server.openai;

import barista.engine.sampling.SamplingParams;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What request parsing takes from the server's configuration, built once at startup: the defaults a request starts
 * from and the limits it is held to. Parsing reads this, never the command line's option classes.
 *
 * @param samplingDefaults sampling fields a request does not set (the model's generation_config.json by default)
 * @param maxLogprobs the most logprobs, top_logprobs or prompt_logprobs a request may ask for
 * @param priorityScheduling whether a request's priority field means anything (the priority scheduling policy)
 * @param autoToolChoice whether tool_choice auto can be honoured (a tool-call parser reads the calls out)
 * @param reasoningBudgets thinking tokens per reasoning_effort, in OpenAI's order (null: unlimited); empty when the
 *     server has no reasoning parser, which refuses both reasoning fields
 */
public record RequestPolicy(SamplingParams samplingDefaults, int maxLogprobs, boolean priorityScheduling,
    boolean autoToolChoice, Map<String, Integer> reasoningBudgets) {

  public RequestPolicy {
    // Copied in order and unmodifiable; null values stay (a copy by Map.copyOf would refuse them).
    reasoningBudgets = Collections.unmodifiableMap(new LinkedHashMap<>(reasoningBudgets));
  }

  /**
   * The budgets of OpenAI's efforts: none allows no thinking, minimal its own budget, low, medium and high theirs.
   *
   * @param lowMediumHigh the budgets of low, medium and high, in that order (null: unlimited)
   */
  public static Map<String, Integer> reasoningBudgets(int minimal, List<Integer> lowMediumHigh) {
    if (lowMediumHigh.size() != 3) throw new IllegalArgumentException("three budgets, got " + lowMediumHigh);
    Map<String, Integer> budgets = new LinkedHashMap<>();
    budgets.put("none", 0);
    budgets.put("minimal", minimal);
    budgets.put("low", lowMediumHigh.get(0));
    budgets.put("medium", lowMediumHigh.get(1));
    budgets.put("high", lowMediumHigh.get(2));
    return budgets;
  }

  /** Whether the server knows where thinking ends, so that a budget can be kept. */
  public boolean reasoning() {
    return !reasoningBudgets.isEmpty();
  }
}

package barista.engine.sampling;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How one sequence picks its next tokens and when it stops; the fields and their meaning follow vLLM's
 * SamplingParams. Immutable; {@link #validate} names the first field that is out of range.
 *
 * @param temperature 0 means greedy
 * @param topK -1 (or 0) means off
 * @param seed null: draw from the engine's generator; otherwise the same seed and prompt give the same text
 * @param maxTokens null: up to the context limit
 * @param logprobs null: none; otherwise how many top alternatives to return per token (0 = only the sampled one)
 * @param logitBias added to the logits of these token ids before sampling (OpenAI's logit_bias), in [-100, 100]
 * @param reasoningBudget null: the model may think as long as it likes
 * @param allowedTokenIds null: any token; otherwise the only ones that may be sampled (vLLM's allowed_token_ids)
 * @param badWords token sequences that must not be generated: a sequence's last token is banned where the output
 *     ends with the rest of it (vLLM's bad_words)
 * @param cacheSalt null, or a salt that separates the request's prefix-cache entries (vLLM's cache_salt); it sits
 *     here because it travels with the request to the KV cache manager
 * @param promptLogprobs null: none; otherwise the prompt tokens' logprobs are computed with this many top
 *     alternatives each (vLLM's prompt_logprobs); such a request takes no prefix-cache hits
 */
public record SamplingParams(
    double temperature,
    double topP,
    int topK,
    double minP,
    double repetitionPenalty,
    double presencePenalty,
    double frequencyPenalty,
    Long seed,
    Integer maxTokens,
    int minTokens,
    boolean ignoreEos,
    List<String> stop,
    List<Integer> stopTokenIds,
    boolean includeStopStrInOutput,
    boolean skipSpecialTokens,
    Integer logprobs,
    Map<Integer, Float> logitBias,
    ReasoningBudget reasoningBudget,
    List<Integer> allowedTokenIds,
    List<int[]> badWords,
    String cacheSalt,
    Integer promptLogprobs) {

  public static final int MAX_STOP_STRINGS = 16;
  public static final int MAX_TOP_LOGPROBS = 20;
  public static final float MAX_LOGIT_BIAS = 100;

  public SamplingParams {
    stop = stop == null ? List.of() : List.copyOf(stop);
    stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
    logitBias = logitBias == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(logitBias));
    allowedTokenIds = allowedTokenIds == null ? null : List.copyOf(allowedTokenIds);
    badWords = badWords == null ? List.of() : List.copyOf(badWords);
  }

  /** Without prompt logprobs. */
  public SamplingParams(double temperature, double topP, int topK, double minP, double repetitionPenalty,
      double presencePenalty, double frequencyPenalty, Long seed, Integer maxTokens, int minTokens, boolean ignoreEos,
      List<String> stop, List<Integer> stopTokenIds, boolean includeStopStrInOutput, boolean skipSpecialTokens,
      Integer logprobs, Map<Integer, Float> logitBias, ReasoningBudget reasoningBudget, List<Integer> allowedTokenIds,
      List<int[]> badWords, String cacheSalt) {
    this(temperature, topP, topK, minP, repetitionPenalty, presencePenalty, frequencyPenalty, seed, maxTokens,
        minTokens, ignoreEos, stop, stopTokenIds, includeStopStrInOutput, skipSpecialTokens, logprobs, logitBias,
        reasoningBudget, allowedTokenIds, badWords, cacheSalt, null);
  }

  public static SamplingParams greedy(int maxTokens) {
    return builder().temperature(0).maxTokens(maxTokens).build();
  }

  public boolean isGreedy() {
    return temperature < 1e-5;
  }

  public boolean hasPenalties() {
    return repetitionPenalty != 1.0 || presencePenalty != 0.0 || frequencyPenalty != 0.0;
  }

  /** Throws IllegalArgumentException naming the offending field (OpenAI/vLLM field names). */
  public SamplingParams validate() {
    check(Double.isFinite(temperature) && temperature >= 0 && temperature <= 100,
        "temperature", "must be between 0 and 100, got " + temperature);
    check(Double.isFinite(topP) && topP > 0 && topP <= 1, "top_p", "must be in (0, 1], got " + topP);
    check(topK >= -1, "top_k", "must be -1 or 0 (disable), or at least 1, got " + topK);
    check(Double.isFinite(minP) && minP >= 0 && minP <= 1, "min_p", "must be in [0, 1], got " + minP);
    check(Double.isFinite(repetitionPenalty) && repetitionPenalty > 0 && repetitionPenalty <= 100,
        "repetition_penalty", "must be in (0, 100], got " + repetitionPenalty);
    check(Double.isFinite(presencePenalty) && Math.abs(presencePenalty) <= 2,
        "presence_penalty", "must be in [-2, 2], got " + presencePenalty);
    check(Double.isFinite(frequencyPenalty) && Math.abs(frequencyPenalty) <= 2,
        "frequency_penalty", "must be in [-2, 2], got " + frequencyPenalty);
    check(maxTokens == null || maxTokens >= 1, "max_tokens", "must be at least 1, got " + maxTokens);
    check(minTokens >= 0, "min_tokens", "must be at least 0, got " + minTokens);
    check(maxTokens == null || minTokens <= maxTokens, "min_tokens",
        "must be at most max_tokens (" + maxTokens + "), got " + minTokens);
    check(stop.size() <= MAX_STOP_STRINGS, "stop", "at most " + MAX_STOP_STRINGS + " stop strings, got " + stop.size());
    for (String s : stop) check(s != null && !s.isEmpty(), "stop", "stop strings must not be empty");
    check(logprobs == null || (logprobs >= 0 && logprobs <= MAX_TOP_LOGPROBS), "logprobs",
        "must be between 0 and " + MAX_TOP_LOGPROBS + ", got " + logprobs);
    check(promptLogprobs == null || (promptLogprobs >= 0 && promptLogprobs <= MAX_TOP_LOGPROBS), "prompt_logprobs",
        "must be between 0 and " + MAX_TOP_LOGPROBS + ", got " + promptLogprobs);
    for (Map.Entry<Integer, Float> bias : logitBias.entrySet()) {
      check(bias.getKey() >= 0, "logit_bias", "keys must be token ids (at least 0), got " + bias.getKey());
      check(Float.isFinite(bias.getValue()) && Math.abs(bias.getValue()) <= MAX_LOGIT_BIAS, "logit_bias",
          "values must be between -100 and 100, got " + bias.getValue() + " for token " + bias.getKey());
    }
    return this;
  }

  private static void check(boolean ok, String field, String message) {
    if (!ok) throw new RefusedRequestException(field, field + " " + message);
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  public static Builder builder() {
    return new Builder(null);
  }

  /** Field-by-field construction with vLLM's defaults. */
  public static final class Builder {
    private double temperature = 1.0, topP = 1.0, minP = 0, repetitionPenalty = 1.0, presencePenalty, frequencyPenalty;
    private int topK = -1, minTokens;
    private Long seed;
    private Integer maxTokens = 16, logprobs, promptLogprobs;
    private boolean ignoreEos, includeStopStrInOutput, skipSpecialTokens = true;
    private List<String> stop = List.of();
    private List<Integer> stopTokenIds = List.of();
    private Map<Integer, Float> logitBias = Map.of();
    private ReasoningBudget reasoningBudget;
    private List<Integer> allowedTokenIds;
    private List<int[]> badWords = List.of();
    private String cacheSalt;

    private Builder(SamplingParams p) {
      if (p == null) return;
      temperature = p.temperature; topP = p.topP; topK = p.topK; minP = p.minP;
      repetitionPenalty = p.repetitionPenalty; presencePenalty = p.presencePenalty; frequencyPenalty = p.frequencyPenalty;
      seed = p.seed; maxTokens = p.maxTokens; minTokens = p.minTokens; ignoreEos = p.ignoreEos; stop = p.stop;
      stopTokenIds = p.stopTokenIds; includeStopStrInOutput = p.includeStopStrInOutput;
      skipSpecialTokens = p.skipSpecialTokens; logprobs = p.logprobs;
      logitBias = p.logitBias; reasoningBudget = p.reasoningBudget;
      allowedTokenIds = p.allowedTokenIds; badWords = p.badWords; cacheSalt = p.cacheSalt;
      promptLogprobs = p.promptLogprobs;
    }

    public Builder temperature(double v) { temperature = v; return this; }
    public Builder topP(double v) { topP = v; return this; }
    public Builder topK(int v) { topK = v; return this; }
    public Builder minP(double v) { minP = v; return this; }
    public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
    public Builder presencePenalty(double v) { presencePenalty = v; return this; }
    public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
    public Builder seed(Long v) { seed = v; return this; }
    public Builder maxTokens(Integer v) { maxTokens = v; return this; }
    public Builder minTokens(int v) { minTokens = v; return this; }
    public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
    public Builder stop(List<String> v) { stop = v; return this; }
    public Builder stopTokenIds(List<Integer> v) { stopTokenIds = v; return this; }
    public Builder includeStopStrInOutput(boolean v) { includeStopStrInOutput = v; return this; }
    public Builder skipSpecialTokens(boolean v) { skipSpecialTokens = v; return this; }
    public Builder logprobs(Integer v) { logprobs = v; return this; }
    public Builder logitBias(Map<Integer, Float> v) { logitBias = v; return this; }
    public Builder reasoningBudget(ReasoningBudget v) { reasoningBudget = v; return this; }
    public Builder allowedTokenIds(List<Integer> v) { allowedTokenIds = v; return this; }
    public Builder badWords(List<int[]> v) { badWords = v; return this; }
    public Builder cacheSalt(String v) { cacheSalt = v; return this; }
    public Builder promptLogprobs(Integer v) { promptLogprobs = v; return this; }

    public SamplingParams build() {
      return new SamplingParams(temperature, topP, topK == 0 ? -1 : topK, minP, repetitionPenalty, presencePenalty,
          frequencyPenalty, seed, maxTokens, minTokens, ignoreEos, stop, stopTokenIds, includeStopStrInOutput,
          skipSpecialTokens, logprobs, logitBias, reasoningBudget, allowedTokenIds, badWords, cacheSalt,
          promptLogprobs);
    }
  }
}

package barista.server.openai;

import barista.engine.sampling.SamplingParams;
import barista.server.http.ApiException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields chat and completions share: model, stream and stream_options, n, priority, user, and the sampling
 * fields (omitted ones take the model's defaults, as vLLM's --generation-config auto).
 *
 * @param params max_tokens and logprobs are set by each API; max_tokens null means up to the context limit
 * @param structuredOutput the output constraint asked for, or null
 * @param extras vLLM's extra fields (request_id, truncate_prompt_tokens, ...), see FieldPolicy
 */
public record CommonFields(String model, boolean stream, boolean includeUsage, boolean continuousUsage, int n,
    int priority, SamplingParams.Builder params, StructuredOutput structuredOutput, FieldPolicy.Extras extras) {

  public static final int MAX_N = 128;

  /**
   * Fields of OpenAI's or vLLM's API that barista does not honour: a request naming one is refused with a 400 that
   * names it, never answered as if the field were absent (any other unknown field is ignored and logged once, see
   * FieldPolicy). The fields a later step supports leave this list (best_of did: completions read it).
   */
  static final List<String> NOT_HONOURED = List.of("functions", "function_call", "guided_grammar",
      "guided_whitespace_pattern");

  public static CommonFields read(JsonFields f, RequestPolicy policy) {
    for (String field : NOT_HONOURED) {
      if (f.has(field)) throw ApiException.badRequest(field + " is not supported by this server", field);
    }
    String model = f.string("model");
    f.string("user"); // accepted, not used
    boolean stream = f.bool("stream", false);
    JsonFields streamOptions = f.object("stream_options");
    boolean includeUsage = false;
    boolean continuousUsage = false;
    if (streamOptions != null) {
      if (!stream) {
        throw ApiException.badRequest("stream_options can only be given when stream is true", "stream_options");
      }
      includeUsage = streamOptions.bool("include_usage", false);
      continuousUsage = streamOptions.bool("continuous_usage_stats", false);
    }
    Integer n = f.integer("n");
    if (n != null && (n < 1 || n > MAX_N)) {
      throw ApiException.badRequest("n must be between 1 and " + MAX_N + ", got " + n, "n");
    }
    Integer priority = f.integer("priority");
    if (priority != null && priority != 0 && !policy.priorityScheduling()) {
      throw ApiException.badRequest("priority needs the server started with --scheduling-policy priority", "priority");
    }
    SamplingParams.Builder params = sampling(f, policy.samplingDefaults());
    Integer promptLogprobs = f.integer("prompt_logprobs");
    if (promptLogprobs != null) {
      // As vLLM: a stream has no place for them (vLLM's -1, the whole vocabulary, is outside the range too).
      if (stream) {
        throw ApiException.badRequest("prompt_logprobs are not available when stream is true", "prompt_logprobs");
      }
      params.promptLogprobs(checkLogprobs(promptLogprobs, policy.maxLogprobs(), "prompt_logprobs"));
    }
    FieldPolicy.Extras extras = FieldPolicy.read(f);
    if (extras.allowedTokenIds() != null) params.allowedTokenIds(extras.allowedTokenIds());
    if (extras.cacheSalt() != null) params.cacheSalt(extras.cacheSalt());
    StructuredOutput structured = StructuredOutput.read(f);
    if (structured != null) {
      SamplingParams p = params.build();
      if (p.minTokens() > 0) {
        throw ApiException.badRequest("min_tokens cannot be combined with " + structured.param()
            + ": the constraint decides where the output ends", "min_tokens");
      }
      if (p.ignoreEos()) {
        throw ApiException.badRequest("ignore_eos cannot be combined with " + structured.param()
            + ": the constraint decides where the output ends", "ignore_eos");
      }
    }
    return new CommonFields(model, stream, includeUsage, continuousUsage, n == null ? 1 : n,
        priority == null ? 0 : priority, params, structured, extras);
  }

  private static SamplingParams.Builder sampling(JsonFields f, SamplingParams defaults) {
    SamplingParams.Builder b = defaults.toBuilder().logprobs(null).maxTokens(null);
    Double d;
    Integer i;
    Boolean flag;
    if ((d = f.number("temperature")) != null) b.temperature(d);
    if ((d = f.number("top_p")) != null) b.topP(d);
    if ((i = f.integer("top_k")) != null) b.topK(i);
    if ((d = f.number("min_p")) != null) b.minP(d);
    if ((d = f.number("repetition_penalty")) != null) b.repetitionPenalty(d);
    if ((d = f.number("presence_penalty")) != null) b.presencePenalty(d);
    if ((d = f.number("frequency_penalty")) != null) b.frequencyPenalty(d);
    Long seed = f.longInteger("seed");
    if (seed != null && seed != -1) b.seed(seed); // -1 means no seed, as in vLLM
    if ((i = f.integer("min_tokens")) != null) b.minTokens(i);
    if ((flag = f.bool("ignore_eos")) != null) b.ignoreEos(flag);
    List<String> stop = f.stringOrStrings("stop");
    if (stop != null) b.stop(stop);
    List<Integer> stopTokenIds = f.integers("stop_token_ids");
    if (stopTokenIds != null) b.stopTokenIds(stopTokenIds);
    if ((flag = f.bool("include_stop_str_in_output")) != null) b.includeStopStrInOutput(flag);
    if ((flag = f.bool("skip_special_tokens")) != null) b.skipSpecialTokens(flag);
    Map<Integer, Float> logitBias = logitBias(f.object("logit_bias"));
    if (logitBias != null) b.logitBias(logitBias);
    return b;
  }

  /**
   * OpenAI's logit_bias: token ids (as JSON object keys) to numbers in [-100, 100]. Ranges are checked with the
   * other sampling fields, ids against the vocabulary by the engine.
   */
  private static Map<Integer, Float> logitBias(JsonFields bias) {
    if (bias == null) return null;
    Map<Integer, Float> map = new HashMap<>();
    for (String key : bias.fieldNames()) {
      int id;
      try {
        id = Integer.parseInt(key);
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("logit_bias keys must be token ids, got '" + key + "'", "logit_bias");
      }
      Double value = bias.number(key);
      if (value == null) throw ApiException.badRequest("logit_bias[" + key + "] must be a number", "logit_bias");
      if (!(Math.abs(value) <= SamplingParams.MAX_LOGIT_BIAS)) {
        throw ApiException.badRequest("logit_bias values must be between -100 and 100, got " + value + " for token "
            + key, "logit_bias");
      }
      map.put(id, value.floatValue());
    }
    return map;
  }

  /** Checks a logprobs count against --max-logprobs. */
  public static int checkLogprobs(int count, int maxLogprobs, String field) {
    if (count < 0 || count > maxLogprobs) {
      throw ApiException.badRequest(field + " must be between 0 and " + maxLogprobs + " (--max-logprobs), got "
          + count, field);
    }
    return count;
  }
}

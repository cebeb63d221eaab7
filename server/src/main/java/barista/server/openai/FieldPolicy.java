package barista.server.openai;

import barista.server.http.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vLLM's field policy for the fields beyond sampling: OpenAI's bookkeeping fields are accepted (they change no
 * output), vLLM's own extras are honoured, a field that would change the output in a way barista cannot is refused
 * naming it, and any other field is ignored with one log warning per field name (vLLM's "not recognized" warning).
 * The list, field by field, is in docs/vllm-differences.md.
 */
public final class FieldPolicy {
  private static final Logger log = LoggerFactory.getLogger(FieldPolicy.class);
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();
  /** Unknown field names warned about are remembered up to this many, so a hostile client cannot grow the set. */
  static final int MAX_WARNED = 1024;

  private FieldPolicy() {}

  /**
   * vLLM's extras a request gave.
   *
   * @param requestId the client's id for the request (vLLM's request_id), or null
   * @param truncatePromptTokens keep only this many last prompt tokens; null: all
   * @param returnTokensAsTokenIds logprobs name tokens "token_id:N"
   * @param allowedTokenIds the only tokens that may be sampled, or null
   * @param badWords words that must not be generated, or null
   * @param cacheSalt separates this request's prefix-cache entries from other salts', or null
   */
  public record Extras(String requestId, Integer truncatePromptTokens, boolean returnTokensAsTokenIds,
      List<Integer> allowedTokenIds, List<String> badWords, String cacheSalt) {}

  /** Reads the accepted and honoured fields, refusing what cannot be honoured. */
  static Extras read(JsonFields f) {
    // OpenAI's fields that change no output here: accepted as they are (type-checked where they have one).
    f.bool("store"); // nothing is stored: there is no retrieval API (as vLLM)
    f.object("metadata");
    f.string("service_tier");
    f.string("prompt_cache_key"); // prefix caching is automatic
    f.string("safety_identifier");
    f.string("verbosity");
    f.string("guided_decoding_backend"); // one backend here
    f.bool("spaces_between_special_tokens"); // a byte-level BPE joins tokens as they are, as vLLM's fast detokenizer
    f.number("length_penalty"); // beam search only
    f.object("vllm_xargs"); // arguments for custom logits processors, of which there are none
    List<String> modalities = f.stringOrStrings("modalities");
    if (modalities != null) {
      for (String m : modalities) {
        if (!m.equals("text")) {
          throw ApiException.badRequest("modalities: '" + m + "' output is not supported, this model writes text "
              + "only", "modalities");
        }
      }
    }
    Boolean beam = f.bool("use_beam_search");
    if (Boolean.TRUE.equals(beam)) {
      throw ApiException.badRequest("use_beam_search is not supported by this server", "use_beam_search");
    }
    String requestId = f.string("request_id");
    if (requestId != null && !requestId.matches("[A-Za-z0-9._:-]{1,128}")) {
      throw ApiException.badRequest("request_id must be 1 to 128 letters, digits or ._:-", "request_id");
    }
    Integer truncate = f.integer("truncate_prompt_tokens");
    if (truncate != null && truncate < -1) {
      throw ApiException.badRequest("truncate_prompt_tokens must be -1 (the context length) or at least 1, got "
          + truncate, "truncate_prompt_tokens");
    }
    if (truncate != null && truncate == 0) {
      throw ApiException.badRequest("truncate_prompt_tokens must be -1 or at least 1, got 0",
          "truncate_prompt_tokens");
    }
    boolean tokenIds = f.bool("return_tokens_as_token_ids", false);
    List<Integer> allowed = f.integers("allowed_token_ids");
    if (allowed != null && allowed.isEmpty()) {
      throw ApiException.badRequest("allowed_token_ids must not be empty", "allowed_token_ids");
    }
    List<String> badWords = f.stringOrStrings("bad_words");
    if (badWords != null) {
      for (String w : badWords) {
        if (w.isBlank()) throw ApiException.badRequest("bad_words must not hold empty words", "bad_words");
      }
      if (badWords.size() > 64) throw ApiException.badRequest("at most 64 bad_words", "bad_words");
    }
    String salt = f.string("cache_salt");
    if (salt != null && salt.isEmpty()) throw ApiException.badRequest("cache_salt must not be empty", "cache_salt");
    return new Extras(requestId, truncate, tokenIds, allowed == null ? null : List.copyOf(allowed),
        badWords == null ? null : List.copyOf(badWords), salt);
  }

  /** Logs each unknown field name once (the body's own order), then ignores it, as vLLM does. */
  public static void ignoreUnknown(List<String> unknownFields) {
    for (String field : unknownFields) {
      if (WARNED.size() < MAX_WARNED && WARNED.add(field)) {
        log.warn("The following fields were present in the request but ignored: {} (logged once per field name)",
            field);
      }
    }
  }

  /** Whether an unknown field name has been logged (for tests). */
  public static boolean warned(String field) {
    return WARNED.contains(field);
  }

  /** The last {@code keep} tokens (all when keep is null, -1 or at least the length): vLLM's left truncation. */
  public static int[] truncate(int[] tokens, Integer keep) {
    if (keep == null || keep < 0 || keep >= tokens.length) return tokens;
    return java.util.Arrays.copyOfRange(tokens, tokens.length - keep, tokens.length);
  }

  /** Token sequences of the bad words: each with and without a leading space, as vLLM's bad_words does. */
  public static List<int[]> badWordTokens(List<String> words, java.util.function.Function<String, int[]> encode) {
    List<int[]> sequences = new ArrayList<>();
    for (String word : words) {
      for (String form : List.of(word, " " + word.stripLeading())) {
        int[] ids = encode.apply(form);
        if (ids.length > 0 && sequences.stream().noneMatch(s -> java.util.Arrays.equals(s, ids))) sequences.add(ids);
      }
    }
    return sequences;
  }
}

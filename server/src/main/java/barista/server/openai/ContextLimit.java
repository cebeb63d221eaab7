package barista.server.openai;

import barista.server.http.ApiException;

/** Fits prompt plus completion into the context, with vLLM's messages when they do not fit. */
public final class ContextLimit {
  private ContextLimit() {}

  /**
   * The completion budget: the requested max_tokens, or all that is left of the context when none was asked.
   *
   * @param promptWord "messages" (chat) or "prompt" (completions), also the error's param for a too-long prompt
   */
  public static int maxTokens(int promptTokens, Integer requested, int maxModelLen, String promptWord) {
    if (promptTokens >= maxModelLen) {
      throw ApiException.badRequest("This model's maximum context length is " + maxModelLen + " tokens. However, "
          + "your request has " + promptTokens + " input tokens. Please reduce the length of the input " + promptWord
          + ".", promptWord);
    }
    if (requested == null) return maxModelLen - promptTokens;
    if ((long) promptTokens + requested > maxModelLen) {
      throw ApiException.badRequest("This model's maximum context length is " + maxModelLen + " tokens. However, "
          + "you requested " + ((long) promptTokens + requested) + " tokens (" + promptTokens + " in the "
          + promptWord + ", " + requested + " in the completion). Please reduce the length of the " + promptWord
          + " or completion.", "max_tokens");
    }
    return requested;
  }
}

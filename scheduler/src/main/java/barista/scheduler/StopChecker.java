package barista.scheduler;

import barista.engine.sampling.SamplingParams;

/**
 * Decides after each generated token whether a request is done, and which text may be released: EOS (unless
 * ignore_eos), stop token ids, stop strings, max_tokens and the context limit, following vLLM's rules (no stop before
 * min_tokens; the stop string itself is cut unless include_stop_str_in_output). While streaming, the last
 * {@code longest stop - 1} characters are held back, since they could be the start of a stop string.
 */
final class StopChecker {
  /** What one token changed: text to send now, and the finish reason once done. */
  record Decision(String text, FinishReason finish, Object stopReason) {}

  private final SamplingParams params;
  private final int[] eosIds;
  private final Detokenizer detokenizer;
  private final int longestStop;
  private final int holdBack;
  private final StringBuilder text = new StringBuilder();
  private int released;

  StopChecker(SamplingParams params, int[] eosIds, Detokenizer detokenizer) {
    this.params = params;
    this.eosIds = params.ignoreEos() ? new int[0] : eosIds;
    this.detokenizer = detokenizer;
    int longest = 0;
    for (String s : params.stop()) longest = Math.max(longest, s.length());
    this.longestStop = longest;
    this.holdBack = params.includeStopStrInOutput() ? 0 : Math.max(0, longest - 1);
  }

  /** The ids that must not be sampled yet: EOS and stop ids until min_tokens outputs exist. */
  int[] banned(int numOutput) {
    if (numOutput >= params.minTokens()) return new int[0];
    int[] b = new int[eosIds.length + params.stopTokenIds().size()];
    System.arraycopy(eosIds, 0, b, 0, eosIds.length);
    for (int i = 0; i < params.stopTokenIds().size(); i++) b[eosIds.length + i] = params.stopTokenIds().get(i);
    return b;
  }

  /**
   * Whether this token ends the request whatever its text: EOS, a stop token id (both from min_tokens on), or the
   * length cap. {@link #onToken} ends it then too, or earlier by a stop string. Reads no state: any thread.
   */
  boolean endsByToken(int token, int numOutput, boolean lengthCapped) {
    boolean mayStop = numOutput > params.minTokens();
    return lengthCapped || (mayStop && (contains(eosIds, token) || params.stopTokenIds().contains(token)));
  }

  /**
   * @param numOutput outputs including this token
   * @param lengthCapped the request hit max_tokens or the context limit with this token
   */
  Decision onToken(int token, int numOutput, boolean lengthCapped) {
    boolean mayStop = numOutput > params.minTokens();
    if (mayStop && contains(eosIds, token)) return finish(FinishReason.STOP, null);
    if (mayStop && params.stopTokenIds().contains(token)) {
      if (params.includeStopStrInOutput()) text.append(detokenizer.add(token));
      return finish(FinishReason.STOP, token);
    }
    int searchFrom = Math.max(0, text.length() - longestStop + 1);
    text.append(detokenizer.add(token));
    if (mayStop) {
      for (String stop : params.stop()) {
        int at = text.indexOf(stop, searchFrom);
        if (at >= 0) {
          text.setLength(params.includeStopStrInOutput() ? at + stop.length() : at);
          return finish(FinishReason.STOP, stop);
        }
      }
    }
    if (lengthCapped) {
      text.append(detokenizer.flush());
      return finish(FinishReason.LENGTH, null);
    }
    return new Decision(release(text.length() - holdBack), null, null);
  }

  /** All text so far (for tests and logs). */
  String text() {
    return text.toString();
  }

  private Decision finish(FinishReason reason, Object stopReason) {
    return new Decision(release(text.length()), reason, stopReason);
  }

  private String release(int upTo) {
    if (upTo > 0 && upTo < text.length() && Character.isHighSurrogate(text.charAt(upTo - 1))) upTo--;
    if (upTo <= released) return "";
    String piece = text.substring(released, upTo);
    released = upTo;
    return piece;
  }

  private static boolean contains(int[] ids, int token) {
    for (int id : ids) if (id == token) return true;
    return false;
  }
}

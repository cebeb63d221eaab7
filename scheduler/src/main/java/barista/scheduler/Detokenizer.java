package barista.scheduler;

/** Turns one request's generated token ids into text, releasing only whole characters. */
public interface Detokenizer {

  /** Appends a token; returns the text it completes (possibly empty). */
  String add(int tokenId);

  /** Text held back at the end (an incomplete character), released as is when the request finishes. */
  String flush();

  /** Makes a detokenizer for one request. */
  @FunctionalInterface
  interface Factory {
    Detokenizer create(boolean skipSpecialTokens);
  }
}

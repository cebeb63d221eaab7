package barista.server.openai;

import barista.server.model.ServedModel;
import barista.server.http.ApiException;

/**
 * Refuses a prompt whose text alone proves it longer than the context, before it is templated or tokenized (a
 * prompt of megabytes takes the tokenizer seconds). A token covers at most the longest token's bytes of the
 * normalized text, and NFC normalization shrinks UTF-8 at most threefold (three Hangul jamo become one syllable),
 * so a text of B bytes has at least B / (3 x longest) tokens: a lower bound that never refuses a prompt that fits.
 */
public final class PromptBound {
  private static final int NORMALIZATION_SHRINK = 3;
  private final long maxTextBytesPerToken;
  private final int maxModelLen;
  private final com.fasterxml.jackson.databind.ObjectReader bodyReader;

  public PromptBound(ServedModel model) {
    int longest = 1;
    for (int id = 0; id < model.vocabSize(); id++) {
      try {
        longest = Math.max(longest, model.tokenBytes(id).length);
      } catch (RuntimeException unreadable) {
        // a token without bytes covers no text
      }
    }
    this.maxTextBytesPerToken = (long) longest * NORMALIZATION_SHRINK;
    this.maxModelLen = model.maxModelLen();
    // A string of C characters has at least C bytes: one over the context's worth of bytes cannot be a prompt that
    // fits, nor a part of one, so the parser stops there instead of building it whole.
    long maxChars = Math.min(Integer.MAX_VALUE, maxTextBytesPerToken * maxModelLen);
    this.bodyReader = barista.server.http.Json.MAPPER.reader().with(com.fasterxml.jackson.core.JsonFactory.builder()
        .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
            .maxStringLength((int) maxChars).build()).build());
  }

  /** A reader for request bodies that refuses a string longer than any prompt that fits (see {@link #tooLong}). */
  public com.fasterxml.jackson.databind.ObjectReader bodyReader() {
    return bodyReader;
  }

  /** The answer to a body with a string longer than the context can hold. */
  public ApiException tooLong() {
    return ApiException.badRequest("This model's maximum context length is " + maxModelLen + " tokens. However, "
        + "your request has a text of more than " + maxTextBytesPerToken * maxModelLen + " characters, so at least "
        + maxModelLen + " input tokens. Please reduce the length of the input.", null);
  }

  /** 400 (the context-length error) when {@code utf8Bytes} of prompt text cannot fit with one completion token. */
  public void check(long utf8Bytes, int maxModelLen, String promptWord) {
    long atLeast = (utf8Bytes + maxTextBytesPerToken - 1) / maxTextBytesPerToken;
    if (atLeast >= maxModelLen) {
      throw ApiException.badRequest("This model's maximum context length is " + maxModelLen + " tokens. However, "
          + "your request has at least " + atLeast + " input tokens (" + utf8Bytes + " bytes of text). Please "
          + "reduce the length of the input " + promptWord + ".", promptWord);
    }
  }

  /** The UTF-8 length of a text, without encoding it. */
  public static long utf8Length(CharSequence text) {
    if (text == null) return 0;
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3; // a pair: 4
    }
    return bytes;
  }
}

package barista.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns one sequence's generated token ids into text as they arrive, for streaming. Byte-level tokens can end in
 * the middle of a UTF-8 character (a Chinese character or an emoji often spans two or three tokens), so trailing
 * bytes of an incomplete character are held back until the character is complete; released pieces therefore never
 * contain a spurious U+FFFD, and together they equal {@link Tokenizer#decode} of all the ids. A tokenizer without a
 * decoder has no bytes to join: its tokens are words, joined with one space as Hugging Face's decode joins them.
 */
public final class IncrementalDetokenizer {

  private final Tokenizer tokenizer;
  private final boolean skipSpecialTokens;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private final StringBuilder text = new StringBuilder();
  private boolean anyToken; // a token with text was added: the next one, without a decoder, follows a space

  public IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
    this.tokenizer = tokenizer;
    this.skipSpecialTokens = skipSpecialTokens;
  }

  /** Adds one token and returns the text it completes (often "", e.g. for the first half of a character). */
  public String add(int tokenId) {
    // Ids past the tokenizer (the embedding is padded to 151936 rows for R1) stand for no text, as in vLLM.
    if ((skipSpecialTokens && tokenizer.isSpecial(tokenId)) || tokenId < 0 || tokenId >= tokenizer.vocabSize()) {
      return "";
    }
    if (!tokenizer.hasDecoder()) {
      String word = new String(tokenizer.tokenBytes(tokenId), StandardCharsets.UTF_8);
      String piece = anyToken ? " " + word : word;
      anyToken = true;
      return release(piece);
    }
    pending.writeBytes(tokenizer.tokenBytes(tokenId));
    byte[] bytes = pending.toByteArray();
    int complete = bytes.length - incompleteTail(bytes);
    pending.reset();
    pending.write(bytes, complete, bytes.length - complete);
    return release(new String(bytes, 0, complete, StandardCharsets.UTF_8));
  }

  /** Releases bytes still held back at the end of the sequence (as U+FFFD: they never formed a character). */
  public String flush() {
    String rest = pending.toString(StandardCharsets.UTF_8);
    pending.reset();
    return release(rest);
  }

  /** All text released so far. */
  public String text() {
    return text.toString();
  }

  private String release(String piece) {
    text.append(piece);
    return piece;
  }

  /**
   * Length of a trailing UTF-8 sequence that has a valid lead byte but is still missing continuation bytes;
   * 0 if the bytes end on a character boundary (or with bytes that can never become a valid character).
   */
  static int incompleteTail(byte[] bytes) {
    int end = bytes.length;
    for (int back = 1; back <= 3 && back <= end; back++) {
      int b = bytes[end - back] & 0xFF;
      if ((b & 0xC0) == 0x80) {
        continue; // continuation byte: keep looking for the lead byte
      }
      int length = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 1;
      return back < length ? back : 0;
    }
    return 0;
  }
}

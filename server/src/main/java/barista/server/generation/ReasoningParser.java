package barista.server.generation;

/**
 * DeepSeek-R1's reasoning split (vLLM's deepseek_r1 parser): everything before {@code </think>} is reasoning, the
 * rest is content. The prompt may already end with {@code <think>\n} (newer templates), so the output need not
 * open the tag; when the model does emit {@code <think>} first, it is dropped. Text that could be the start of a
 * tag split across deltas is held back until the next delta (or {@link #finish}) decides it.
 */
public final class ReasoningParser {
  private static final String OPEN = "<think>";
  private static final String CLOSE = "</think>";

  /** One delta's text split in two; a part is null when empty. */
  public record Split(String reasoning, String content) {
    static final Split NONE = new Split(null, null);

    private static Split of(String reasoning, String content) {
      return new Split(reasoning == null || reasoning.isEmpty() ? null : reasoning,
          content == null || content.isEmpty() ? null : content);
    }
  }

  private final StringBuilder held = new StringBuilder();
  private boolean atStart = true;
  private boolean reasoning = true;

  public Split feed(String text) {
    if (!reasoning) return Split.of(null, text);
    held.append(text);
    String buffered = held.toString();
    if (atStart) {
      if (buffered.startsWith(OPEN)) {
        buffered = buffered.substring(OPEN.length());
        atStart = false;
      } else if (OPEN.startsWith(buffered)) {
        return Split.NONE; // "<th" may still become "<think>"
      } else {
        atStart = false;
      }
    }
    held.setLength(0);
    int close = buffered.indexOf(CLOSE);
    if (close >= 0) {
      reasoning = false;
      return Split.of(buffered.substring(0, close), buffered.substring(close + CLOSE.length()));
    }
    int keep = partialTagSuffix(buffered);
    held.append(buffered, buffered.length() - keep, buffered.length());
    return Split.of(buffered.substring(0, buffered.length() - keep), null);
  }

  /** The text still held back; it was reasoning, since no closing tag completed it. */
  public Split finish() {
    String rest = held.toString();
    held.setLength(0);
    return reasoning ? Split.of(rest, null) : Split.NONE;
  }

  /** Whether {@code </think>} has been seen. */
  public boolean reasoningEnded() {
    return !reasoning;
  }

  /** Length of the longest suffix of {@code text} that is a proper prefix of {@code </think>}. */
  private static int partialTagSuffix(String text) {
    for (int n = Math.min(CLOSE.length() - 1, text.length()); n > 0; n--) {
      if (text.endsWith(CLOSE.substring(0, n))) return n;
    }
    return 0;
  }
}

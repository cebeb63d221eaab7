package barista.scheduler;

/** Turns token t into one fixed letter (a..z, then A..X), so texts and stop strings are easy to predict. */
final class LetterDetokenizer implements Detokenizer {
  static final Detokenizer.Factory FACTORY = skipSpecialTokens -> new LetterDetokenizer();

  static String text(int[] tokens, int from, int to) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < to; i++) sb.append(letter(tokens[i]));
    return sb.toString();
  }

  static String text(int[] tokens) {
    return text(tokens, 0, tokens.length);
  }

  private static char letter(int token) {
    return (char) (token < 26 ? 'a' + token : 'A' + token - 26);
  }

  @Override
  public String add(int tokenId) {
    return String.valueOf(letter(tokenId));
  }

  @Override
  public String flush() {
    return "";
  }
}

package barista.server.bench;

/** One request of a run: its prompt as text or as token ids (the other null), and its max_tokens. */
record BenchPrompt(String text, int[] tokenIds, int maxTokens) {

  static BenchPrompt text(String text, int maxTokens) {
    return new BenchPrompt(text, null, maxTokens);
  }

  static BenchPrompt tokens(int[] tokenIds, int maxTokens) {
    return new BenchPrompt(null, tokenIds, maxTokens);
  }
}

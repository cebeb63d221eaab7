package barista.engine.constraint;

/**
 * One request's position in its grammar: which tokens it may sample next, and the step after each sampled token.
 * Confined to the engine thread.
 *
 * <p>Near the end of max_tokens only tokens that still leave room to finish are allowed (a state d bytes from
 * acceptance needs at most d more tokens in a byte-level vocabulary, plus one for EOS), so a constrained request
 * whose max_tokens leaves room for the shortest valid output ends with valid output and finish_reason stop.
 */
public final class ConstraintMatcher {
  private final Grammar grammar;
  private int state;

  ConstraintMatcher(Grammar grammar) {
    this.grammar = grammar;
    this.state = grammar.dfa().start();
  }

  /**
   * The allowed next tokens as bits by id ({@code words[id / 64] >> id % 64}); shared, never to be modified.
   *
   * @param tokensLeft the tokens this request may still produce, this one included
   */
  public long[] allowed(int tokensLeft) {
    Grammar.Mask full = grammar.full(state);
    int budget = tokensLeft - 2; // this token, then EOS
    if (full.maxDistance() <= budget) return full.words();
    Grammar.Mask closing = grammar.mask(state, Math.max(budget, -1));
    return closing.allowed() > 0 ? closing.words() : full.words();
  }

  /** Advances past a sampled token; false (and no step) when the grammar does not allow it. */
  public boolean accept(int token) {
    TokenVocabulary v = grammar.vocabulary();
    if (v.isEos(token)) return grammar.dfa().isAccepting(state);
    byte[] bytes = v.bytes(token);
    if (bytes == null) return false;
    int next = grammar.dfa().walk(state, bytes);
    if (next < 0) return false;
    state = next;
    return true;
  }

  public boolean isAccepting() {
    return grammar.dfa().isAccepting(state);
  }

  int state() {
    return state;
  }
}

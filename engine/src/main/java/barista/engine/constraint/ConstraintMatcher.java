package barista.engine.constraint;

import barista.engine.sampling.TokenMask;

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
   * The allowed next tokens: cached, or being computed on a mask worker (the sampler waits for it).
   *
   * @param tokensLeft the tokens this request may still produce, this one included
   */
  public TokenMask allowed(int tokensLeft) {
    return grammar.allowed(state, tokensLeft - 2); // this token, then EOS
  }

  /**
   * The end-state distance to allow tokens up to, at most {@code budget} and at least the nearest one the state
   * offers (so never empty): {@code min + 2^k - 1}, the largest such value within the budget. Keyed by a
   * threshold from this short ladder instead of the budget itself, the closing masks of a state are a handful that
   * stay cached, where one per budget would make every step of every request's last tokens a walk of the whole
   * vocabulary on the engine thread. The price: near the end a request may be steered to finish a
   * little sooner than the budget strictly needs.
   */
  static int closingThreshold(int min, int budget) {
    return min + Integer.highestOneBit(budget - min + 1) - 1;
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

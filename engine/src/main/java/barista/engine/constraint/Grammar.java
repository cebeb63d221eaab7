package barista.engine.constraint;

import dk.brics.automaton.Automaton;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A compiled constraint: its byte automaton over one model's vocabulary, and the token masks of its states, cached
 * (bounded) and shared by every request with the same constraint. When a mask is computed, the masks of the states
 * its tokens lead to are computed ahead on a background thread, so the engine loop usually finds the next step's
 * mask ready. Thread-safe.
 */
public final class Grammar {
  /** Cached masks per grammar: about 19 KiB each at 151,936 tokens, so at most ~19 MiB per grammar. */
  static final int MAX_CACHED_MASKS = 1024;
  /** All grammars' cached masks together stay below this; beyond it masks are computed and not kept. */
  static final long MASK_BUDGET_BYTES = 256L << 20;
  private static final java.util.concurrent.atomic.AtomicLong CACHED_MASK_BYTES =
      new java.util.concurrent.atomic.AtomicLong();

  private static final ThreadPoolExecutor AHEAD = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
      new ArrayBlockingQueue<>(4096), r -> {
        Thread t = new Thread(r, "barista-mask-ahead");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        return t;
      }, new ThreadPoolExecutor.DiscardPolicy());

  static {
    AHEAD.allowCoreThreadTimeOut(true);
  }

  /**
   * One state's allowed tokens (bits by token id), and the farthest and the nearest end state from acceptance among
   * them (in bytes; EOS counts as 0).
   */
  record Mask(long[] words, int maxDistance, int minDistance, int allowed) {}

  private final ByteDfa dfa;
  private final TokenVocabulary vocabulary;
  private final ConcurrentHashMap<Long, Mask> masks = new ConcurrentHashMap<>();
  private volatile boolean released;

  private Grammar(ByteDfa dfa, TokenVocabulary vocabulary) {
    this.dfa = dfa;
    this.vocabulary = vocabulary;
  }

  /** Compiles a char-level automaton for a vocabulary; IllegalArgumentException when it is empty or too large. */
  public static Grammar compile(Automaton chars, TokenVocabulary vocabulary) {
    Grammar g = new Grammar(ByteDfa.of(chars), vocabulary);
    g.ahead(java.util.Set.of(g.dfa.start()));
    return g;
  }

  public ByteDfa dfa() {
    return dfa;
  }

  public int maskSize() {
    return vocabulary.maskSize();
  }

  public ConstraintMatcher matcher() {
    return new ConstraintMatcher(this);
  }

  /** Every token the state allows, whatever the budget. */
  Mask full(int state) {
    return mask(state, Integer.MAX_VALUE);
  }

  /** The tokens the state allows that end at most {@code maxDistance} bytes from acceptance. */
  Mask mask(int state, int maxDistance) {
    long key = key(state, maxDistance);
    Mask m = masks.get(key);
    if (m != null) return m;
    m = compute(state, maxDistance);
    keep(key, m);
    return m;
  }

  /** Caches a mask while this grammar and all grammars together are within their bounds. */
  private void keep(long key, Mask m) {
    long bytes = 8L * m.words().length;
    if (released || masks.size() >= MAX_CACHED_MASKS || CACHED_MASK_BYTES.get() + bytes > MASK_BUDGET_BYTES) return;
    if (masks.putIfAbsent(key, m) == null) CACHED_MASK_BYTES.addAndGet(bytes);
  }

  /**
   * Drops the cached masks (the grammar left the compiled-grammar cache); requests still using it compute their
   * masks again, uncached.
   */
  public void release() {
    released = true;
    for (Long key : new java.util.ArrayList<>(masks.keySet())) {
      Mask m = masks.remove(key);
      if (m != null) CACHED_MASK_BYTES.addAndGet(-8L * m.words().length);
    }
  }

  /** Bytes of masks cached by all grammars (tests, and the bound above). */
  static long cachedMaskBytes() {
    return CACHED_MASK_BYTES.get();
  }

  private static long key(int state, int maxDistance) {
    return ((long) state << 32) | (maxDistance & 0xffffffffL);
  }

  TokenVocabulary vocabulary() {
    return vocabulary;
  }

  int cachedMasks() {
    return masks.size();
  }

  /** Cached masks of one state: its full mask and its closing masks (tests). */
  int cachedMasks(int state) {
    int n = 0;
    for (long key : masks.keySet()) if (key >>> 32 == state) n++;
    return n;
  }

  private Mask compute(int state, int maxDistance) {
    TokenVocabulary.Walk w = vocabulary.walk(dfa, state, maxDistance);
    if (maxDistance == Integer.MAX_VALUE) ahead(w.successors);
    return new Mask(w.words, w.maxDistance, w.minDistance, w.allowed);
  }

  private void ahead(java.util.Set<Integer> states) {
    for (int s : states) {
      long key = key(s, Integer.MAX_VALUE);
      if (released || masks.containsKey(key) || masks.size() >= MAX_CACHED_MASKS) continue;
      AHEAD.execute(() -> {
        if (!released && !masks.containsKey(key) && masks.size() < MAX_CACHED_MASKS) {
          TokenVocabulary.Walk w = vocabulary.walk(dfa, s, Integer.MAX_VALUE);
          keep(key, new Mask(w.words, w.maxDistance, w.minDistance, w.allowed));
        }
      });
    }
  }
}

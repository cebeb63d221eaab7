package barista.engine.constraint;

import barista.engine.sampling.TokenMask;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dk.brics.automaton.Automaton;
import java.nio.LongBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A compiled constraint: its byte automaton over one model's vocabulary, and the token masks of its states, cached
 * (bounded) and shared by every request with the same constraint. Thread-safe.
 *
 * <p>Masks never hold up the engine loop on its own thread. As xgrammar does when it compiles a grammar, every
 * state's full mask is computed in the background after compiling (nearest the start first, while the cache budget
 * lasts), so a served schema soon finds all of them cached. A mask a step needs that is not cached yet (a closing
 * mask near max_tokens, or a state the background has not reached) is computed on a mask worker while the step's
 * forward pass runs; the sampler waits only for what the forward pass did not hide, and the time it waits is what
 * the stats log's mask time reports.
 */
public final class Grammar {
  /** Masks one grammar may cache: room for every state's mask of the schemas benchmarked (docs/performance.md). */
  static final long GRAMMAR_MASK_BYTES = 64L << 20;
  /** All grammars' cached masks together stay below this; beyond it masks are computed and not kept. */
  static final long MASK_BUDGET_BYTES = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8);
  /** Automata larger than this are not precomputed whole (only what requests reach is computed, and cached). */
  static final int MAX_PRECOMPUTED_STATES = 16_384;
  private static final AtomicLong CACHED_MASK_BYTES = new AtomicLong();

  /** Misses of the current step, computed in parallel beside the forward pass. */
  private static final ExecutorService WORKERS = pool("barista-mask-worker",
      Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors() / 2)));
  /**
   * Threads that precompute one grammar together: a quarter of the cores, at most 4 (one thread takes seconds for a
   * schema of a few thousand states, and its first requests wait on misses meanwhile; docs/performance.md).
   */
  static final int PRECOMPUTE_THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 4));
  /**
   * Whole-grammar precomputation. Unbounded queue, bounded use: each compiled grammar queues PRECOMPUTE_THREADS
   * tasks, and those of a released grammar (one the server's grammar cache let go) end at once.
   */
  private static final ExecutorService PRECOMPUTE = pool("barista-mask-precompute", 4);
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Grammar.class);

  /**
   * One state's allowed tokens, and the farthest and the nearest end state from acceptance among them (in bytes;
   * EOS counts as 0). A mask with few tokens keeps their ids, one with many keeps bits.
   */
  static final class Mask implements TokenMask {
    private final long[] words; // bits by id, or null
    private final int[] ids; // ascending ids, or null
    private final int maxDistance;
    private final int minDistance;
    private final int allowed;

    Mask(TokenVocabulary.Walk w) {
      this.maxDistance = w.maxDistance;
      this.minDistance = w.minDistance;
      this.allowed = w.allowed;
      // An id costs 4 bytes and a word 64 tokens: ids while there are fewer than twice as many as words.
      if (w.allowed < 2 * w.words.length) {
        ids = new int[w.allowed];
        int n = 0;
        for (int i = 0; i < w.words.length; i++) {
          for (long bits = w.words[i]; bits != 0; bits &= bits - 1) {
            ids[n++] = i * 64 + Long.numberOfTrailingZeros(bits);
          }
        }
        words = null;
      } else {
        ids = null;
        words = w.words;
      }
    }

    @Override
    public void writeWords(LongBuffer dst, int n) {
      if (words != null) {
        TokenMask.putWords(dst, words, n);
        return;
      }
      int base = dst.position();
      for (int i = 0; i < n; i++) dst.put(0L);
      for (int id : ids) {
        int at = id >>> 6;
        if (at < n) dst.put(base + at, dst.get(base + at) | 1L << id);
      }
    }

    int maxDistance() {
      return maxDistance;
    }

    int minDistance() {
      return minDistance;
    }

    int allowed() {
      return allowed;
    }

    /**
     * The tokens of this (full, sparse) mask of {@code state} that end at most {@code maxDistance} bytes from
     * acceptance: each id's bytes walked through the automaton, a few microseconds where a vocabulary walk takes a
     * millisecond, and the same mask (a closing mask) the walk would give.
     */
    Mask restrict(int maxDistance, ByteDfa dfa, int state, TokenVocabulary vocabulary) {
      TokenVocabulary.Walk w = new TokenVocabulary.Walk(vocabulary.maskSize());
      for (int id : ids) {
        int d;
        if (vocabulary.isEos(id)) {
          d = 0;
          w.minDistance = 0;
        } else {
          d = dfa.distance(dfa.walk(state, vocabulary.bytes(id)));
          if (d > maxDistance) continue;
          w.maxDistance = Math.max(w.maxDistance, d);
          w.minDistance = Math.min(w.minDistance, d);
        }
        w.words[id >>> 6] |= 1L << id;
        w.allowed++;
      }
      return new Mask(w);
    }

    /** Whether it keeps ids rather than bits (tests). */
    boolean sparse() {
      return ids != null;
    }

    long bytes() {
      return words != null ? 8L * words.length : 4L * ids.length;
    }
  }

  /** A mask still being computed on a worker; writing it waits, and the wait counts as the engine's mask time. */
  private static final class PendingMask implements TokenMask {
    private final CompletableFuture<Mask> mask;

    PendingMask(CompletableFuture<Mask> mask) {
      this.mask = mask;
    }

    @Override
    public void writeWords(LongBuffer dst, int words) {
      long start = System.nanoTime();
      Mask m = mask.join();
      MaskStats.recordWait(System.nanoTime() - start);
      m.writeWords(dst, words);
    }
  }

  private final ByteDfa dfa;
  private final TokenVocabulary vocabulary;
  private final ConcurrentHashMap<Long, Mask> masks = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, CompletableFuture<Mask>> computing = new ConcurrentHashMap<>();
  private final AtomicLong cachedBytes = new AtomicLong();
  private final AtomicInteger walks = new AtomicInteger();
  private final CompletableFuture<Void> precomputed = new CompletableFuture<>();
  private volatile boolean released;

  private Grammar(ByteDfa dfa, TokenVocabulary vocabulary) {
    this.dfa = dfa;
    this.vocabulary = vocabulary;
  }

  /** Compiles a char-level automaton for a vocabulary; IllegalArgumentException when it is empty or too large. */
  public static Grammar compile(Automaton chars, TokenVocabulary vocabulary) {
    return compile(chars, vocabulary, PRECOMPUTE_THREADS);
  }

  /** As {@link #compile(Automaton, TokenVocabulary)}, precomputed by {@code threads} threads (1..4; tests). */
  static Grammar compile(Automaton chars, TokenVocabulary vocabulary, int threads) {
    Grammar g = new Grammar(ByteDfa.of(chars), vocabulary);
    g.startPrecompute(threads);
    return g;
  }

  /**
   * Compiles a mid-sized object schema, an enum and a regex a few times and drops them: a server calls it once at
   * startup, on a thread of its own, so the first client's schema does not pay for the JIT's warm-up (a wide object
   * compiled cold took several times its warm time, docs/reliability.md).
   */
  public static void warmUpCompiler() {
    JsonNodeFactory json = JsonNodeFactory.instance;
    String[] types = {"string", "integer", "number", "boolean", "array"};
    for (int round = 0; round < 3; round++) {
      ObjectNode object = json.objectNode().put("type", "object");
      ObjectNode properties = object.putObject("properties");
      for (int i = 0; i < 40; i++) {
        ObjectNode property = properties.putObject("warm_" + i).put("type", types[i % 5]);
        if (i % 5 == 0) property.put("maxLength", 32);
        if (i % 5 == 4) property.putObject("items").put("type", "string");
      }
      object.putArray("required").add("warm_0").add("warm_7");
      ByteDfa.of(JsonSchemas.compile(object));
      ObjectNode values = json.objectNode();
      ArrayNode list = values.putArray("enum");
      for (int i = 0; i < 2_000; i++) list.add("warm-" + i + "-\u00e9");
      ByteDfa.of(JsonSchemas.compile(values));
      ByteDfa.of(Regexes.parse("[a-z]{2,8}@[a-z]+\\.(com|org)|\\d{3}-\\d{4}"));
    }
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

  /**
   * The tokens a state allows with {@code budget} more tokens after this one and before EOS: the cached mask, or
   * one being computed on a worker.
   */
  TokenMask allowed(int state, int budget) {
    Mask full = masks.get(key(state, Integer.MAX_VALUE));
    if (full != null) {
      int threshold = threshold(full, budget);
      if (threshold == Integer.MAX_VALUE) return full;
      Mask closing = masks.get(key(state, threshold));
      if (closing != null) return closing;
    }
    return new PendingMask(CompletableFuture.supplyAsync(() -> select(state, budget), WORKERS));
  }

  /** The mask {@link #allowed} stands for, computed here (and cached) where missing. */
  private Mask select(int state, int budget) {
    Mask full = full(state);
    int threshold = threshold(full, budget);
    return threshold == Integer.MAX_VALUE ? full : mask(state, threshold);
  }

  /**
   * Which of a state's masks a budget needs: the full one when every token fits, or none can finish in time anyway
   * (max_tokens below the shortest valid output); else a closing threshold.
   */
  private static int threshold(Mask full, int budget) {
    if (full.maxDistance() <= budget || full.minDistance() > budget) return Integer.MAX_VALUE;
    return ConstraintMatcher.closingThreshold(full.minDistance(), budget);
  }

  /** Every token the state allows, whatever the budget. */
  Mask full(int state) {
    return mask(state, Integer.MAX_VALUE);
  }

  /**
   * The tokens the state allows that end at most {@code maxDistance} bytes from acceptance, computed once however
   * many threads ask for it at the same time.
   */
  Mask mask(int state, int maxDistance) {
    long key = key(state, maxDistance);
    Mask m = masks.get(key);
    if (m != null) return m;
    CompletableFuture<Mask> mine = new CompletableFuture<>();
    CompletableFuture<Mask> running = computing.putIfAbsent(key, mine);
    if (running != null) return running.join();
    try {
      m = masks.get(key); // finished between the look-up and the claim
      if (m == null) {
        Mask full = maxDistance == Integer.MAX_VALUE ? null : masks.get(key(state, Integer.MAX_VALUE));
        if (full != null && full.sparse()) {
          m = full.restrict(maxDistance, dfa, state, vocabulary);
        } else {
          walks.incrementAndGet();
          m = new Mask(vocabulary.walk(dfa, state, maxDistance));
        }
        keep(key, m);
      }
      mine.complete(m);
      return m;
    } catch (RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      computing.remove(key);
    }
  }

  /** Caches a mask while this grammar and all grammars together are within their bounds. */
  private void keep(long key, Mask m) {
    long bytes = m.bytes();
    if (released || cachedBytes.get() + bytes > GRAMMAR_MASK_BYTES
        || CACHED_MASK_BYTES.get() + bytes > MASK_BUDGET_BYTES) {
      return;
    }
    if (masks.putIfAbsent(key, m) == null) {
      cachedBytes.addAndGet(bytes);
      CACHED_MASK_BYTES.addAndGet(bytes);
    }
  }

  /**
   * Full masks of every state, nearest the start first (breadth-first), until done, released or out of budget. The
   * threads take states from one shared index, so the nearest states are still done first.
   */
  private void startPrecompute(int threads) {
    long start = System.nanoTime();
    int[] order = breadthFirst();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger running = new AtomicInteger(threads);
    Runnable task = () -> {
      try {
        for (int i; !released && (i = next.getAndIncrement()) < order.length; ) {
          full(order[i]);
          if (!masks.containsKey(key(order[i], Integer.MAX_VALUE))) next.set(order.length); // the budget is spent
        }
      } finally {
        if (running.decrementAndGet() == 0) {
          long ms = (System.nanoTime() - start) / 1_000_000;
          // Worth an operator's notice only when slow: requests wait on misses until it is done.
          if (ms >= 1000) {
            log.info("Precomputed the masks of a {}-state grammar in {} ms ({} MiB, {} threads)", order.length, ms,
                cachedBytes.get() >> 20, threads);
          }
          precomputed.complete(null);
        }
      }
    };
    for (int t = 0; t < threads; t++) PRECOMPUTE.execute(task);
  }

  /** States in breadth-first order from the start; only the start for automata too large to precompute. */
  private int[] breadthFirst() {
    int n = dfa.numStates();
    if (n > MAX_PRECOMPUTED_STATES) return new int[] {dfa.start()};
    int[] order = new int[n];
    boolean[] seen = new boolean[n];
    int head = 0, tail = 0;
    order[tail++] = dfa.start();
    seen[dfa.start()] = true;
    while (head < tail) {
      int s = order[head++];
      for (int b = 0; b < 256; b++) {
        int next = dfa.step(s, b);
        if (next >= 0 && !seen[next]) {
          seen[next] = true;
          order[tail++] = next;
        }
      }
    }
    return java.util.Arrays.copyOf(order, tail);
  }

  /**
   * Drops the cached masks (the grammar left the compiled-grammar cache) and stops its precomputation; requests
   * still using it compute their masks again, uncached.
   */
  public void release() {
    released = true;
    for (Long key : new java.util.ArrayList<>(masks.keySet())) {
      Mask m = masks.remove(key);
      if (m != null) {
        cachedBytes.addAndGet(-m.bytes());
        CACHED_MASK_BYTES.addAndGet(-m.bytes());
      }
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

  /** Done when the background has computed every state's full mask, or stopped (budget, release; tests). */
  CompletableFuture<Void> precomputed() {
    return precomputed;
  }

  /** Bytes of this grammar's cached masks. */
  long cachedBytes() {
    return cachedBytes.get();
  }

  /** Vocabulary walks done so far (each a computed mask; tests). */
  int walks() {
    return walks.get();
  }

  /** Cached masks of one state: its full mask and its closing masks (tests). */
  int cachedMasks(int state) {
    int n = 0;
    for (long key : masks.keySet()) if (key >>> 32 == state) n++;
    return n;
  }

  private static ExecutorService pool(String name, int threads) {
    // Unbounded queue, bounded use: a step submits at most one task per row and waits for them before the next.
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), daemon(name));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger count = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}

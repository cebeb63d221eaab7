package barista.engine.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.tokenizer.Tokenizer;
import barista.engine.tools.TokenizerFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Masks over R1-Distill's real vocabulary (151,936 logits, Qwen2's byte-level BPE): they are exactly the tokens a
 * brute-force walk allows, and what they cost is printed (the figures in docs/performance.md come from here).
 */
class R1VocabularyMaskTest {
  private static final int VOCAB = 151_936;
  private static final int EOS = 151_643;
  @TempDir
  static Path dir;
  static Tokenizer tokenizer;
  static TokenVocabulary vocabulary;
  static byte[][] bytes;

  @BeforeAll
  static void load() throws Exception {
    TokenizerFiles.writeR1Distill(dir);
    tokenizer = Tokenizer.load(dir);
    long start = System.nanoTime();
    bytes = tokenizer.regularTokenBytes(VOCAB);
    vocabulary = new TokenVocabulary(bytes, VOCAB, new int[] {EOS});
    System.out.printf("R1 vocabulary trie: %.0f ms%n", (System.nanoTime() - start) / 1e6);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @Test
  void masksMatchBruteForceAndTheirCostIsReported() throws Exception {
    assertTrue(vocabulary.everyByteIsAToken());
    Grammar g = Grammar.compile(JsonSchemas.compile(new ObjectMapper().readTree(
        "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":40},"
        + "\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]}},\"n\":{\"type\":\"integer\"}},"
        + "\"required\":[\"name\"]}")), vocabulary);
    ByteDfa dfa = g.dfa();
    Random random = new Random(7);
    long walkNanos = 0;
    int walks = 0;
    for (int i = 0; i < 12; i++) {
      int state = random.nextInt(dfa.numStates());
      long start = System.nanoTime();
      long[] words = vocabulary.walk(dfa, state, Integer.MAX_VALUE).words;
      walkNanos += System.nanoTime() - start;
      walks++;
      for (int id = 0; id < VOCAB; id++) {
        boolean allowed = (words[id >>> 6] >>> id & 1) != 0;
        boolean expected = id == EOS ? dfa.isAccepting(state) : bytes[id] != null && dfa.walk(state, bytes[id]) >= 0;
        assertEquals(expected, allowed, "state " + state + " token " + id);
      }
    }
    // Following one request: cached masks make later steps a lookup.
    ConstraintMatcher m = g.matcher();
    long first = System.nanoTime();
    m.allowed(200);
    long firstNanos = System.nanoTime() - first;
    long hit = System.nanoTime();
    for (int i = 0; i < 1000; i++) m.allowed(200);
    long hitNanos = (System.nanoTime() - hit) / 1000;
    System.out.printf("R1 masks: %d states; walk (cache miss) %.2f ms average over %d states; first mask %.2f ms; "
        + "cached mask %.1f us%n", dfa.numStates(), walkNanos / 1e6 / walks, walks, firstNanos / 1e6, hitNanos / 1e3);
  }

  /**
   * The benchmark's schema (scripts/bench/article-schema.json) served to 64 requests that pick uniformly among the
   * allowed tokens, as a random-weight model does, with max_tokens 128: every state's full mask is computed in the
   * background after compiling and fits the grammar's budget, so the requests walk the vocabulary only for closing
   * masks near their ends, and those stay rare (the threshold ladder).
   */
  @Test
  void theBenchmarkSchemaIsPrecomputedAndItsRequestsRarelyMiss() throws Exception {
    long start = System.nanoTime();
    Grammar g = Grammar.compile(JsonSchemas.compile(new ObjectMapper().readTree(
        java.nio.file.Files.readString(Path.of("../scripts/bench/article-schema.json")))), vocabulary);
    g.precomputed().get(120, java.util.concurrent.TimeUnit.SECONDS);
    double precomputeMs = (System.nanoTime() - start) / 1e6;
    int states = g.dfa().numStates();
    assertEquals(states, g.cachedMasks(), "every state's full mask is cached");
    assertEquals(states, g.walks());
    Random random = new Random(13);
    int words = (VOCAB + 63) / 64, steps = 0;
    for (int request = 0; request < 64; request++) {
      ConstraintMatcher m = g.matcher();
      for (int step = 0; step < 128; step++, steps++) {
        long[] allowed = m.allowed(128 - step).toWords(words);
        int pick = random.nextInt(bitCount(allowed)), token = -1;
        for (int w = 0; token < 0; w++) {
          int c = Long.bitCount(allowed[w]);
          if (pick >= c) {
            pick -= c;
            continue;
          }
          long bits = allowed[w];
          for (int j = 0; j < pick; j++) bits &= bits - 1;
          token = w * 64 + Long.numberOfTrailingZeros(bits);
        }
        assertTrue(m.accept(token));
        if (token == EOS) break;
        assertTrue(step < 127, "no EOS within max_tokens");
      }
    }
    int closingWalks = g.walks() - states;
    System.out.printf("benchmark schema: %d states precomputed in %.0f ms, %d KiB cached; %d requests, %d steps, "
        + "%d closing-mask walks%n", states, precomputeMs, g.cachedBytes() >> 10, 64, steps, closingWalks);
    assertTrue(g.cachedBytes() < Grammar.GRAMMAR_MASK_BYTES / 2, g.cachedBytes() + " bytes");
    assertTrue(closingWalks < steps / 20, closingWalks + " walks in " + steps + " steps");
  }

  private static int bitCount(long[] words) {
    int n = 0;
    for (long w : words) n += Long.bitCount(w);
    return n;
  }
}

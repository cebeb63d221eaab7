package barista.engine.constraint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.tokenizer.Tokenizer;
import barista.engine.tokenizer.TokenizerFiles;
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
}

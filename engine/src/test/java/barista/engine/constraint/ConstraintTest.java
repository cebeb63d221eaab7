package barista.engine.constraint;

import barista.engine.sampling.RefusedRequestException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConstraintTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void utf8RangesEncodeExactlyTheRange() {
    Random random = new Random(1);
    for (int trial = 0; trial < 200; trial++) {
      int lo = random.nextInt(0x11000), hi = Math.min(0x10ffff, lo + random.nextInt(trial % 2 == 0 ? 300 : 70000));
      List<int[]> seqs = Utf8Ranges.split(lo, hi);
      for (int probe = 0; probe < 300; probe++) {
        int cp = Math.max(0, lo - 50 + random.nextInt(hi - lo + 100));
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) continue;
        byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        int matches = 0;
        for (int[] seq : seqs) {
          if (seq.length != bytes.length * 2) continue;
          boolean all = true;
          for (int i = 0; i < bytes.length; i++) {
            all &= (bytes[i] & 0xff) >= seq[2 * i] && (bytes[i] & 0xff) <= seq[2 * i + 1];
          }
          if (all) matches++;
        }
        assertEquals(cp >= lo && cp <= hi ? 1 : 0, matches, "code point " + Integer.toHexString(cp) + " in ["
            + Integer.toHexString(lo) + ", " + Integer.toHexString(hi) + "]");
      }
    }
  }

  @Test
  void regexesMatchWhatJavaRegexMatches() {
    String[] regexes = {"[a-c]+x?", "(ab|b)*c{2,3}", "\\d{3}-\\w+", "[^ab]b.", "é+ü?", "(?:yes|no)$", "^a|bc",
        "[\\d\\s]*z", "(?P<x>a)(b?)+", "[a-]x", "\\.\\*"};
    String alphabet = "abcxz0129-_ éü.*\n";
    Random random = new Random(2);
    for (String regex : regexes) {
      ByteDfa dfa = ByteDfa.of(Regexes.parse(regex));
      Pattern reference = Pattern.compile(regex.replace("?P<", "?<"));
      for (int i = 0; i < 2000; i++) {
        StringBuilder s = new StringBuilder();
        int len = random.nextInt(7);
        for (int j = 0; j < len; j++) s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        String text = s.toString();
        assertEquals(reference.matcher(text).matches(), dfa.matches(text), regex + " on '" + text + "'");
      }
    }
  }

  @Test
  void unsupportedRegexConstructsAreNamed() {
    assertEquals("back-reference", assertThrows(RefusedRequestException.class,
        () -> Regexes.parse("(a)\\1")).what());
    assertEquals("\\b", assertThrows(RefusedRequestException.class, () -> Regexes.parse("\\bx")).what());
    assertThrows(RefusedRequestException.class, () -> Regexes.parse("a(?=b)"));
    assertThrows(IllegalArgumentException.class, () -> Regexes.parse("(ab"));
    assertEquals("size", assertThrows(RefusedRequestException.class,
        () -> Regexes.parse("((a{1000}){1000}){1000}")).what());
  }

  @Test
  void schemaAcceptsCompactValidJsonOnly() throws Exception {
    JsonNode schema = JSON.readTree(json("{'type':'object','properties':{'name':{'type':'string','maxLength':3},"
        + "'age':{'type':'integer'},'tags':{'type':'array','items':{'enum':['a','b']},'minItems':1},"
        + "'pet':{'anyOf':[{'type':'null'},{'$ref':'#/$defs/Pet'}]}},'required':['name','tags'],"
        + "'$defs':{'Pet':{'type':'object','properties':{'kind':{'const':'cat'}},'required':['kind']}}}"));
    ByteDfa dfa = ByteDfa.of(JsonSchemas.compile(schema));
    for (String ok : new String[] {"{'name':'ab','tags':['a']}", "{'name':'','age':-12,'tags':['a','b']}",
        "{'name':'é\\n','tags':['b'],'pet':null}", "{'name':'x','tags':['a'],'pet':{'kind':'cat'}}"}) {
      assertTrue(dfa.matches(json(ok)), ok);
    }
    for (String bad : new String[] {"{'name':'abcd','tags':['a']}", "{'tags':['a']}", "{'name':'a','tags':[]}",
        "{'name':'a', 'tags':['a']}", "{'name':'a','tags':['c']}", "{'name':'a','age':01,'tags':['a']}",
        "{'tags':['a'],'name':'a'}"}) {
      assertFalse(dfa.matches(json(bad)), bad);
    }
    assertTrue(ByteDfa.of(JsonSchemas.anyObject()).matches("{\"a\":[1,{\"b\":null}],\"c\":-1.5e3}"));
    assertFalse(ByteDfa.of(JsonSchemas.anyObject()).matches("[1]"));
  }

  /** JSON written with single quotes, for readable test literals. */
  private static String json(String singleQuoted) {
    return singleQuoted.replace('\'', '"');
  }

  @Test
  void unsupportedSchemaKeywordsAreNamed() throws Exception {
    assertEquals("multipleOf", assertThrows(RefusedRequestException.class,
        () -> JsonSchemas.compile(JSON.readTree("{\"type\":\"integer\",\"multipleOf\":2}"))).what());
    assertEquals("$ref", assertThrows(RefusedRequestException.class, () -> JsonSchemas.compile(JSON.readTree(
        "{\"$ref\":\"#/$defs/A\",\"$defs\":{\"A\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/A\"}}}}"))).what());
    assertThrows(IllegalArgumentException.class, () -> JsonSchemas.compile(JSON.readTree("{\"type\":\"thing\"}")));
    assertEquals("size", assertThrows(RefusedRequestException.class, () -> JsonSchemas.compile(JSON.readTree(
        "{\"type\":\"array\",\"maxItems\":256,\"items\":{\"type\":\"array\",\"maxItems\":256,\"items\":"
        + "{\"type\":\"string\",\"maxLength\":1024}}}"))).what());
    assertThrows(IllegalArgumentException.class, () -> JsonSchemas.compile(JSON.readTree("[1]")));
  }

  /** A small byte-level vocabulary: all single bytes, some merges, an EOS id past them. */
  private static TokenVocabulary vocabulary(int eos) {
    List<byte[]> tokens = new ArrayList<>();
    for (int b = 0; b < 256; b++) tokens.add(new byte[] {(byte) b});
    for (String merge : new String[] {"ab", "\"a", "\":", "{\"", "\"}", "true", "null", "12", "é", "éa",
        "x".repeat(30)}) {
      tokens.add(merge.getBytes(StandardCharsets.UTF_8));
    }
    byte[][] bytes = new byte[eos + 1][];
    for (int i = 0; i < tokens.size(); i++) bytes[i] = tokens.get(i);
    return new TokenVocabulary(bytes, eos + 7, new int[] {eos});
  }

  @Test
  void masksAreTheTokensTheAutomatonCanRead() throws Exception {
    int eos = 300;
    TokenVocabulary v = vocabulary(eos);
    Grammar g = Grammar.compile(JsonSchemas.compile(JSON.readTree(
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\"},\"b\":{\"type\":\"string\"}}}")), v);
    ByteDfa dfa = g.dfa();
    for (int state = 0; state < dfa.numStates(); state++) {
      long[] words = g.full(state).toWords((v.maskSize() + 63) / 64);
      for (int id = 0; id < v.maskSize(); id++) {
        boolean allowed = (words[id >>> 6] >>> id & 1) != 0;
        assertEquals(automatonAllows(v, dfa, eos, state, id), allowed, "state " + state + " token " + id);
      }
    }
  }

  @Test
  void randomSamplingUnderTheMaskEndsValidWithinTheBudget() throws Exception {
    int eos = 300;
    TokenVocabulary v = vocabulary(eos);
    assertTrue(v.everyByteIsAToken());
    Grammar g = Grammar.compile(JsonSchemas.anyObject(), v);
    Random random = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      int maxTokens = 20 + random.nextInt(60);
      String text = sampleToTheEnd(g, v, eos, maxTokens, random);
      assertTrue(JSON.readTree(text).isObject(), text);
    }
  }

  /**
   * Samples uniformly among the allowed tokens until EOS, each token checked by the matcher; the output's text,
   * asserting that EOS came within {@code maxTokens}.
   */
  private static String sampleToTheEnd(Grammar g, TokenVocabulary v, int eos, int maxTokens, Random random) {
    ConstraintMatcher m = g.matcher();
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    for (int step = 0; step < maxTokens; step++) {
      long[] words = m.allowed(maxTokens - step).toWords((v.maskSize() + 63) / 64);
      List<Integer> allowed = new ArrayList<>();
      for (int id = 0; id < v.maskSize(); id++) if ((words[id >>> 6] >>> id & 1) != 0) allowed.add(id);
      int token = allowed.get(random.nextInt(allowed.size()));
      assertTrue(m.accept(token));
      if (token == eos) return bytes.toString(StandardCharsets.UTF_8);
      bytes.writeBytes(v.bytes(token));
    }
    throw new AssertionError("no EOS within " + maxTokens + ": " + bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void closingThresholdIsALadderWithinTheBudget() {
    for (int min = 0; min < 40; min++) {
      int previous = -1;
      for (int budget = min; budget < 600; budget++) {
        int t = ConstraintMatcher.closingThreshold(min, budget);
        assertTrue(t >= min && t <= budget, "min " + min + " budget " + budget + ": " + t);
        assertTrue(t >= previous, "not monotone at budget " + budget);
        assertTrue(Integer.bitCount(t - min + 1) == 1, "off the ladder: " + t);
        previous = t;
      }
    }
  }

  /** Requests whose max_tokens barely fits the schema's shortest output still end valid (the threshold ladder). */
  @Test
  void tightBudgetsStillEndValid() throws Exception {
    int eos = 300;
    TokenVocabulary v = vocabulary(eos);
    Grammar g = Grammar.compile(tightSchema(), v);
    Random random = new Random(11);
    for (int trial = 0; trial < 300; trial++) {
      String text = sampleToTheEnd(g, v, eos, 80 + random.nextInt(100), random);
      JsonNode object = JSON.readTree(text);
      assertTrue(object.path("a").asText().length() >= 20 && object.path("c").size() >= 5, text);
    }
  }

  /**
   * One state asked with every budget from roomy to tight, as a request's last tokens ask it: its closing masks are
   * a few (the threshold ladder), not one per budget, so they stay cached instead of costing a vocabulary walk on
   * every step of every request's end.
   */
  @Test
  void closingMasksAreFewPerStateSoTheyStayCached() throws Exception {
    Grammar g = Grammar.compile(tightSchema(), vocabulary(300));
    ConstraintMatcher m = g.matcher();
    for (byte b : "{\"a\":\"".getBytes(StandardCharsets.UTF_8)) assertTrue(m.accept(b & 0xff));
    Grammar.Mask full = g.full(m.state()); // one x, or thirty (the minLength met at once)
    assertTrue(full.maxDistance() - full.minDistance() > 16, full.minDistance() + ".." + full.maxDistance());
    for (int tokensLeft = full.maxDistance() + 2; tokensLeft >= full.minDistance() + 2; tokensLeft--) {
      m.allowed(tokensLeft).toWords(words(g)); // waits for a mask computed on a worker
    }
    // Counted for this state alone: the background thread caches other states' full masks meanwhile.
    int closing = g.cachedMasks(m.state()) - 1;
    int ladder = 32 - Integer.numberOfLeadingZeros(full.maxDistance() - full.minDistance() + 1);
    assertTrue(closing >= 1 && closing <= ladder, closing + " closing masks for one state, "
        + (full.maxDistance() - full.minDistance()) + " budgets");
  }

  /**
   * Masks written one after another into one staging buffer, as the sampler writes a batch's rows: each row holds
   * exactly its state's tokens, whether the mask keeps ids (few tokens) or bits (many).
   */
  @Test
  void masksWrittenBackToBackHoldTheirOwnTokens() throws Exception {
    int eos = 300;
    TokenVocabulary v = vocabulary(eos);
    Grammar g = Grammar.compile(tightSchema(), v);
    ByteDfa dfa = g.dfa();
    int words = words(g);
    java.nio.LongBuffer staging = java.nio.ByteBuffer.allocateDirect(8 * words * dfa.numStates())
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer();
    for (int i = 0; i < words * dfa.numStates(); i++) staging.put(-1L); // stale bits from an earlier step
    staging.clear();
    boolean sawSparse = false, sawBits = false;
    for (int state = 0; state < dfa.numStates(); state++) {
      Grammar.Mask mask = g.full(state);
      sawSparse |= mask.sparse();
      sawBits |= !mask.sparse();
      mask.writeWords(staging, words);
    }
    assertTrue(sawSparse && sawBits, "both kinds of mask were written");
    for (int state = 0; state < dfa.numStates(); state++) {
      for (int id = 0; id < words * 64; id++) {
        boolean allowed = (staging.get(state * words + (id >>> 6)) >>> id & 1) != 0;
        assertEquals(automatonAllows(v, dfa, eos, state, id), allowed, "state " + state + " token " + id);
      }
    }
  }

  /**
   * After compiling, the background computes every state's full mask, so requests that follow find them cached;
   * a mask many rows miss at once (a closing one) is computed once however many ask for it.
   */
  /** A closing mask derived from a sparse full mask (each id walked) is the one a vocabulary walk gives. */
  @Test
  void closingMasksFromSparseFullMasksEqualTheirWalks() throws Exception {
    TokenVocabulary v = vocabulary(300);
    Grammar g = Grammar.compile(tightSchema(), v, 1);
    g.precomputed().get(60, java.util.concurrent.TimeUnit.SECONDS);
    int checked = 0;
    for (int s = 0; s < g.dfa().numStates(); s++) {
      Grammar.Mask full = g.full(s);
      if (!full.sparse() || full.allowed() == 0) continue;
      for (int t = full.minDistance(); t <= full.maxDistance(); t++) {
        Grammar.Mask derived = full.restrict(t, g.dfa(), s, v);
        Grammar.Mask walked = new Grammar.Mask(v.walk(g.dfa(), s, t));
        String where = "state " + s + ", distance " + t;
        assertArrayEquals(walked.toWords(words(g)), derived.toWords(words(g)), where);
        assertEquals(walked.allowed(), derived.allowed(), where);
        assertEquals(walked.minDistance(), derived.minDistance(), where);
        assertEquals(walked.maxDistance(), derived.maxDistance(), where);
        checked++;
      }
    }
    assertTrue(checked > 20, checked + " closing masks compared");
  }

  @Test
  void everyStateIsPrecomputedAndAMissIsWalkedOnce() throws Exception {
    int eos = 300;
    TokenVocabulary v = vocabulary(eos);
    Grammar g = Grammar.compile(tightSchema(), v, 4); // four threads share the states out, each walked once
    g.precomputed().get(60, java.util.concurrent.TimeUnit.SECONDS);
    int states = g.dfa().numStates();
    assertEquals(states, g.cachedMasks());
    assertEquals(states, g.walks());
    Random random = new Random(3);
    for (int trial = 0; trial < 20; trial++) sampleToTheEnd(g, v, eos, 1000, random); // roomy: full masks only
    assertEquals(states, g.walks(), "roomy requests walked the vocabulary again");

    ConstraintMatcher m = g.matcher();
    for (byte b : "{\"a\":\"".getBytes(StandardCharsets.UTF_8)) assertTrue(m.accept(b & 0xff));
    Grammar.Mask full = g.full(m.state());
    int tokensLeft = full.minDistance() + 4; // a closing mask, not cached yet
    int state = m.state();
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(8);
    List<java.util.concurrent.Future<long[]>> rows = new ArrayList<>();
    try {
      for (int row = 0; row < 8; row++) {
        rows.add(threads.submit(() -> {
          go.await();
          return g.allowed(state, tokensLeft - 2).toWords(words(g));
        }));
      }
      go.countDown();
      for (var row : rows) {
        assertTrue(java.util.Arrays.equals(rows.get(0).get(60, java.util.concurrent.TimeUnit.SECONDS),
            row.get(60, java.util.concurrent.TimeUnit.SECONDS)));
      }
    } finally {
      threads.shutdownNow();
    }
    long[] first = rows.get(0).get();
    assertEquals(states + 1, g.walks(), "one walk for eight rows");
    long[] fullWords = full.toWords(words(g));
    int closing = 0;
    for (int w = 0; w < first.length; w++) {
      assertEquals(0, first[w] & ~fullWords[w], "a closing mask allows only what the full one does");
      closing += Long.bitCount(first[w]);
    }
    assertTrue(closing > 0 && closing < full.allowed(), closing + " of " + full.allowed());
  }

  /** The brute-force answer: EOS exactly in accepting states, any other token where the automaton reads it. */
  private static boolean automatonAllows(TokenVocabulary v, ByteDfa dfa, int eos, int state, int id) {
    byte[] bytes = v.bytes(id);
    return id == eos ? dfa.isAccepting(state) : bytes != null && dfa.walk(state, bytes) >= 0;
  }

  private static int words(Grammar g) {
    return (g.maskSize() + 63) / 64;
  }

  /** Its shortest output is some 70 bytes (two strings of at least 20 characters, five integers). */
  private static dk.brics.automaton.Automaton tightSchema() throws Exception {
    return JsonSchemas.compile(JSON.readTree("{\"type\":\"object\",\"properties\":{"
        + "\"a\":{\"type\":\"string\",\"minLength\":20},\"b\":{\"type\":\"string\",\"minLength\":20},"
        + "\"c\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":5}},"
        + "\"required\":[\"a\",\"b\",\"c\"]}"));
  }
}

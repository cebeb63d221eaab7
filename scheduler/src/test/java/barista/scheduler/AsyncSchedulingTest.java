package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;
import static barista.scheduler.SchedulerConfig.Policy.PRIORITY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous scheduling (step N+1 scheduled while step N runs, outputs made on output threads) against the
 * synchronous loop on the same workloads: every request's streamed tokens, text pieces, finish and usage must be
 * the same; a request that stops computes at most one token more, which is never streamed nor counted.
 */
class AsyncSchedulingTest {
  private static final int EOS = 0; // FakeExecutor never produces it

  /** What a client sees of one request. */
  record Seen(List<String> pieces, int[] tokens, FinishReason finish, Object stopReason, int completionTokens) {
    static Seen of(Collector.Result r) {
      List<String> pieces = r.outputs().stream().map(RequestOutput::newText).toList();
      return new Seen(pieces, r.tokens(), r.finishReason(), r.last().stopReason(), r.last().completionTokens());
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Seen s && pieces.equals(s.pieces) && Arrays.equals(tokens, s.tokens)
          && finish == s.finish && java.util.Objects.equals(stopReason, s.stopReason)
          && completionTokens == s.completionTokens;
    }

    @Override
    public int hashCode() {
      return pieces.hashCode();
    }

    @Override
    public String toString() {
      return "Seen[" + String.join("|", pieces) + " " + Arrays.toString(tokens) + " " + finish + " " + stopReason
          + " " + completionTokens + "]";
    }
  }

  record Spec(String id, int[] prompt, SamplingParams params) {}

  /** One run of the workload; {@code engine} is left open for the caller to inspect, then closed. */
  private static Map<String, Seen> run(FakeEngine engine, List<Spec> specs) throws Exception {
    try (engine) {
      Map<String, Collector> collectors = new LinkedHashMap<>();
      List<GenerationRequest> requests = new ArrayList<>();
      for (Spec s : specs) {
        collectors.put(s.id(), engine.track(new Collector()));
        requests.add(new GenerationRequest(s.id(), s.prompt(), s.params(), 0, System.nanoTime()));
      }
      // All admitted at once, so the schedule does not depend on when the engine thread drains its inbox.
      engine.core.submitAll(requests, List.copyOf(collectors.values()));
      Map<String, Seen> seen = new LinkedHashMap<>();
      for (var e : collectors.entrySet()) seen.put(e.getKey(), Seen.of(e.getValue().await()));
      assertTrue(engine.core.shutdown(Duration.ofSeconds(10)), "drained");
      EngineStatus status = engine.core.status();
      assertEquals(status.totalBlocks(), status.freeBlocks(), "every block back in the pool");
      return seen;
    }
  }

  private static Map<String, Seen> runBoth(Supplier<FakeExecutor> executor, SchedulerConfig config, List<Spec> specs,
      long[] preemptions) throws Exception {
    FakeEngine sync = new FakeEngine(executor.get(), config, EOS);
    Map<String, Seen> expected = run(sync, specs);
    FakeEngine async = new FakeEngine(executor.get(), config.withAsyncScheduling(true), EOS);
    Map<String, Seen> actual = run(async, specs);
    if (preemptions != null) {
      preemptions[0] = sync.core.status().preemptions();
      preemptions[1] = async.core.status().preemptions();
    }
    assertEquals(expected, actual);
    return actual;
  }

  /** Greedy requests that end every way: max_tokens, stop strings (cut or kept), stop ids, min_tokens; n > 1. */
  private static List<Spec> mixedWorkload(int count) {
    List<Spec> specs = new ArrayList<>();
    int[] shared = FakeExecutor.randomPrompt(5, 13);
    for (int i = 0; i < count; i++) {
      int[] prompt = i % 4 == 3 ? shared : FakeExecutor.randomPrompt(50 + i, 3 + 5 * i % 23); // siblings: n > 1
      int[] unstopped = FakeExecutor.generate(prompt, 40);
      String text = LetterDetokenizer.text(unstopped);
      SamplingParams.Builder p = SamplingParams.builder().temperature(0).maxTokens(8 + 3 * i % 30);
      switch (i % 5) {
        case 0 -> p.stop(List.of(text.substring(6 + i % 5, 8 + i % 5))); // a stop string, cut
        case 1 -> p.stop(List.of(text.substring(4, 7), "zzzz")).includeStopStrInOutput(true);
        case 2 -> p.stopTokenIds(List.of(unstopped[5 + i % 7]));
        case 3 -> p.stopTokenIds(List.of(unstopped[2])).minTokens(6); // the early stop id is not yet allowed
        default -> { } // max_tokens only
      }
      specs.add(new Spec("r" + i, prompt, p.build()));
    }
    return specs;
  }

  @Test
  void greedyOutputsAreTheSameAsSynchronousSchedulingWithStopsMaxTokensAndSiblings() throws Exception {
    Map<String, Seen> seen = runBoth(() -> new FakeExecutor(128, 4), FakeEngine.config(6, 24, true, FCFS),
        mixedWorkload(15), null);
    assertTrue(seen.values().stream().anyMatch(s -> s.finish() == FinishReason.STOP && s.stopReason() instanceof String),
        "the workload stops on a string");
    assertTrue(seen.values().stream().anyMatch(s -> s.stopReason() instanceof Integer), "and on a stop id");
    assertTrue(seen.values().stream().anyMatch(s -> s.finish() == FinishReason.LENGTH), "and on max_tokens");
  }

  @Test
  void preemptedRequestsGiveTheSameOutputs() throws Exception {
    long[] preemptions = new long[2];
    // 13 blocks of 4 tokens for 6 requests of 10 + 20 tokens: the cache runs out and running requests are preempted.
    List<Spec> specs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int[] prompt = FakeExecutor.randomPrompt(100 + i, 10);
      String text = LetterDetokenizer.text(FakeExecutor.generate(prompt, 20));
      SamplingParams.Builder p = SamplingParams.builder().temperature(0).maxTokens(20);
      if (i % 2 == 1) p.stop(List.of(text.substring(14, 16)));
      specs.add(new Spec("p" + i, prompt, p.build()));
    }
    runBoth(() -> new FakeExecutor(1 + 12, 4), FakeEngine.config(6, 64, true, FCFS), specs, preemptions);
    assertTrue(preemptions[0] > 0 && preemptions[1] > 0, "both runs preempted: " + Arrays.toString(preemptions));
  }

  @Test
  void priorityPreemptionWithoutPrefixCachingGivesTheSameOutputs() throws Exception {
    long[] preemptions = new long[2];
    List<Spec> specs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      specs.add(new Spec("q" + i, FakeExecutor.randomPrompt(200 + i, 7 + i), SamplingParams.greedy(18 + i)));
    }
    runBoth(() -> new FakeExecutor(1 + 11, 4), FakeEngine.config(5, 16, false, PRIORITY), specs, preemptions);
    assertTrue(preemptions[1] > 0, "the asynchronous run preempted");
  }

  /**
   * Constrained requests run ahead too, their mask completed once the token before is applied: beside unconstrained
   * ones, each follows a grammar of its own output (so every mask allows one token) and every step's mask is the
   * synchronous run's. One of them ends on EOS, so its row that ran ahead (one mask more) shows it did run ahead.
   */
  @Test
  void constrainedRequestsRunAheadWithTheSameMasksAndOutputs() throws Exception {
    int[] stopper = null, expected = null;
    for (long seed = 0; ; seed++) { // a prompt whose 4th generated token appears nowhere before it: that is EOS
      stopper = FakeExecutor.randomPrompt(seed, 6);
      expected = FakeExecutor.generate(stopper, 4);
      int eos = expected[3];
      if (Arrays.stream(expected, 0, 3).noneMatch(t -> t == eos)) break;
    }
    int eos = expected[3];
    barista.engine.constraint.TokenVocabulary vocabulary = ConstrainedRequestTest.vocabulary(eos);
    List<GenerationRequest> requests = new ArrayList<>();
    requests.add(new GenerationRequest("eos", stopper, SamplingParams.greedy(10), 0, 0,
        barista.engine.constraint.Grammar.compile(barista.engine.constraint.Regexes.literal(
            LetterDetokenizer.text(expected, 0, 3)), vocabulary)));
    for (int i = 0; i < 6; i++) {
      int[] prompt = FakeExecutor.randomPrompt(400 + i, 3 + 4 * i);
      int k = 3 + i;
      int[] own = FakeExecutor.generate(prompt, k);
      boolean free = i % 3 == 2 || Arrays.stream(own).anyMatch(t -> t == eos);
      requests.add(new GenerationRequest("k" + i, prompt, SamplingParams.greedy(k), 0, 0, free ? null
          : barista.engine.constraint.Grammar.compile(barista.engine.constraint.Regexes.literal(
              LetterDetokenizer.text(own)), vocabulary)));
    }
    List<Map<Long, List<long[]>>> masks = new ArrayList<>();
    List<Map<String, Seen>> seen = new ArrayList<>();
    for (boolean async : new boolean[] {false, true}) {
      FakeEngine engine = new FakeEngine(new FakeExecutor(64, 4),
          FakeEngine.config(8, 32, true, FCFS).withAsyncScheduling(async), eos);
      try (engine) {
        List<Collector> collectors = new ArrayList<>();
        for (GenerationRequest g : requests) collectors.add(engine.track(new Collector()));
        engine.core.submitAll(requests, List.copyOf(collectors));
        Map<String, Seen> results = new LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) results.put(requests.get(i).requestId(), Seen.of(collectors.get(i).await()));
        seen.add(results);
        masks.add(engine.executor.masks);
      }
    }
    assertEquals(seen.get(0), seen.get(1));
    assertEquals(FinishReason.STOP, seen.get(1).get("eos").finish());
    assertTrue(seen.get(1).values().stream().allMatch(s -> s.finish() != FinishReason.ABORT), "no grammar refused");
    assertEquals(masks.get(0).keySet(), masks.get(1).keySet());
    for (Long seq : masks.get(0).keySet()) {
      List<long[]> sync = masks.get(0).get(seq), async = masks.get(1).get(seq);
      int extra = seq == 0 ? 1 : 0; // request "eos" (the first admitted) ran one step past its EOS
      assertEquals(sync.size() + extra, async.size(), "masks of sequence " + seq);
      for (int i = 0; i < sync.size(); i++) assertArrayEquals(sync.get(i), async.get(i), "seq " + seq + " step " + i);
    }
  }

  /**
   * Random workloads (seeded): prompt lengths, shared prefixes and repeats, every stop rule, priorities, step budgets
   * and caches small enough to preempt; each must give the same outputs both ways.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void randomWorkloadsGiveTheSameOutputs(long seed) throws Exception {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    int blockSize = 4;
    int numBlocks = 1 + 16 + random.nextInt(40); // room for the longest request (36 + 24 tokens)
    boolean priority = random.nextBoolean();
    SchedulerConfig config = new SchedulerConfig(2 + random.nextInt(7), 8 + random.nextInt(40), true,
        random.nextBoolean(), priority ? PRIORITY : FCFS, FakeEngine.MAX_MODEL_LEN, 100);
    int[] shared = FakeExecutor.randomPrompt(seed * 31, 4 + random.nextInt(12));
    List<Spec> specs = new ArrayList<>();
    List<Integer> priorities = new ArrayList<>();
    for (int i = 0; i < 6 + random.nextInt(10); i++) {
      int[] own = FakeExecutor.randomPrompt(seed * 1000 + i, 1 + random.nextInt(20));
      int[] prompt = switch (random.nextInt(3)) {
        case 0 -> own;
        case 1 -> concat(shared, own);
        default -> shared.clone(); // siblings
      };
      int maxTokens = 1 + random.nextInt(24);
      int[] unstopped = FakeExecutor.generate(prompt, maxTokens);
      String text = LetterDetokenizer.text(unstopped);
      SamplingParams.Builder p = SamplingParams.builder().temperature(0).maxTokens(maxTokens);
      int at = random.nextInt(maxTokens);
      switch (random.nextInt(4)) {
        case 0 -> p.stop(List.of(text.substring(at, Math.min(text.length(), at + 1 + random.nextInt(2)))))
            .includeStopStrInOutput(random.nextBoolean());
        case 1 -> p.stopTokenIds(List.of(unstopped[at])).minTokens(random.nextInt(3));
        case 2 -> p.minTokens(random.nextInt(maxTokens));
        default -> { }
      }
      specs.add(new Spec("w" + i, prompt, p.build()));
      priorities.add(random.nextInt(3));
    }
    Map<String, Seen> expected = null;
    for (boolean async : new boolean[] {false, true}) {
      FakeEngine engine = new FakeEngine(new FakeExecutor(numBlocks, blockSize), config.withAsyncScheduling(async),
          EOS);
      Map<String, Seen> seen = new LinkedHashMap<>();
      try (engine) {
        List<Collector> collectors = new ArrayList<>();
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
          Spec s = specs.get(i);
          collectors.add(engine.track(new Collector()));
          requests.add(new GenerationRequest(s.id(), s.prompt(), s.params(), priorities.get(i), System.nanoTime()));
        }
        engine.core.submitAll(requests, List.copyOf(collectors));
        for (int i = 0; i < specs.size(); i++) seen.put(specs.get(i).id(), Seen.of(collectors.get(i).await()));
        assertTrue(engine.core.shutdown(Duration.ofSeconds(10)));
        assertEquals(engine.core.status().totalBlocks(), engine.core.status().freeBlocks());
      }
      if (expected == null) expected = seen;
      else assertEquals(expected, seen, "seed " + seed);
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /**
   * A request ended by EOS, a stop id or a stop string had its next step scheduled before the stop was known: that
   * token is computed (one more draw than outputs), discarded, and neither streamed nor counted. A request ended by
   * max_tokens gets no extra step at all.
   */
  @Test
  void aStoppedRequestComputesAtMostOneExtraTokenThatIsNeverStreamedNorCounted() throws Exception {
    int[] prompt = FakeExecutor.randomPrompt(77, 9);
    int[] unstopped = FakeExecutor.generate(prompt, 40);
    String text = LetterDetokenizer.text(unstopped);
    Map<String, SamplingParams> cases = new LinkedHashMap<>();
    cases.put("stop-string", SamplingParams.builder().temperature(0).maxTokens(40)
        .stop(List.of(text.substring(11, 13))).build());
    cases.put("stop-id", SamplingParams.builder().temperature(0).maxTokens(40)
        .stopTokenIds(List.of(unstopped[9])).build());
    cases.put("max-tokens", SamplingParams.greedy(12));
    for (var c : cases.entrySet()) {
      FakeEngine sync = new FakeEngine(new FakeExecutor(64, 4), FakeEngine.config(4, 32, true, FCFS), EOS);
      Seen expected = run(sync, List.of(new Spec(c.getKey(), prompt, c.getValue()))).get(c.getKey());
      FakeEngine async = new FakeEngine(new FakeExecutor(64, 4),
          FakeEngine.config(4, 32, true, FCFS).withAsyncScheduling(true), EOS);
      Seen seen = run(async, List.of(new Spec(c.getKey(), prompt, c.getValue()))).get(c.getKey());
      assertEquals(expected, seen, c.getKey());
      assertArrayEquals(Arrays.copyOf(unstopped, seen.tokens().length), seen.tokens(), c.getKey());
      assertEquals(seen.tokens().length, seen.completionTokens(), c.getKey() + ": usage counts what was streamed");
      int sampled = async.executor.uniforms(prompt).size();
      int extra = c.getKey().equals("max-tokens") ? 0 : 1;
      assertEquals(seen.completionTokens() + extra, sampled, c.getKey() + ": tokens computed");
      assertEquals(seen.completionTokens(), sync.executor.uniforms(prompt).size(), "synchronous: none extra");
    }
  }

  /**
   * A client that goes away mid-stream (it aborts on its fifth output): what it was sent is a prefix of the
   * request's output, the abort's usage counts exactly that, nothing follows the abort, the others are unchanged
   * and every block returns to the pool.
   */
  @Test
  void abortsMidStreamStreamAPrefixCountedExactlyAndFreeTheirBlocks() throws Exception {
    for (boolean async : new boolean[] {false, true}) {
      SchedulerConfig config = FakeEngine.config(4, 32, true, FCFS).withAsyncScheduling(async);
      FakeEngine engine = new FakeEngine(new FakeExecutor(64, 4), config, EOS);
      try (engine) {
        List<int[]> prompts = new ArrayList<>();
        List<Collector> collectors = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          int[] prompt = FakeExecutor.randomPrompt(300 + i, 6 + i);
          prompts.add(prompt);
          String id = "a" + i;
          Collector c = i % 2 == 0 ? new AbortingCollector(engine.core, id, 5) : new Collector();
          engine.track(c);
          engine.core.submit(new GenerationRequest(id, prompt, SamplingParams.greedy(60), 0, System.nanoTime()), c);
          collectors.add(c);
        }
        for (int i = 0; i < 4; i++) {
          Collector.Result r = collectors.get(i).await();
          int n = r.tokens().length;
          assertArrayEquals(FakeExecutor.generate(prompts.get(i), n), r.tokens(), "async " + async + " a" + i);
          assertEquals(n, r.last().completionTokens(), "usage is what was streamed");
          if (i % 2 == 0) {
            assertEquals(FinishReason.ABORT, r.finishReason());
            assertTrue(n >= 5 && n < 60, "aborted mid-stream after " + n);
          } else {
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals(60, n);
          }
        }
        assertTrue(engine.core.shutdown(Duration.ofSeconds(10)));
        EngineStatus status = engine.core.status();
        assertEquals(status.totalBlocks(), status.freeBlocks(), "aborts freed their blocks");
      }
    }
  }

  /** Aborts its request from the listener once it has seen {@code after} outputs, as a client that hangs up. */
  private static final class AbortingCollector extends Collector {
    private final EngineCore core;
    private final String id;
    private final int after;
    private int seen;

    AbortingCollector(EngineCore core, String id, int after) {
      this.core = core;
      this.id = id;
      this.after = after;
    }

    @Override
    public void onOutput(RequestOutput output) {
      super.onOutput(output);
      if (++seen == after) core.abort(id);
    }
  }
}

package barista.scheduler;

import barista.engine.ScheduledSequence;
import barista.engine.StepExecutor;
import barista.engine.sampling.SampleResult;
import barista.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A deterministic stand-in for the model that audits the KV bookkeeping. It remembers which token's KV each cache
 * slot holds: before a step it checks that every position a sequence claims as computed really sits in the slot its
 * block table names (a wrong prefix-cache hit, a block reused after preemption or a paging bug fails here), then
 * writes the new positions. The next token is a hash of the whole sequence, so a request's output depends only on
 * its tokens, never on its batch-mates. Token 0 is never produced: tests that want an EOS name a token it does
 * produce.
 *
 * <p>An audit runs on the engine thread, where the loop catches every throwable and aborts all requests; a failed
 * audit therefore also records its message in {@link #violations}, which {@link FakeEngine#close} asserts empty on
 * the test thread, so a test that expects an abort cannot pass on an abort the audit caused.
 */
final class FakeExecutor implements StepExecutor {
  static final int VOCAB = 50;

  /** What one step computed. */
  record Step(int numTokens, int numSequences) {}

  private final int numBlocks;
  private final int blockSize;
  private final long[] slotToken; // -1: never written
  final List<Step> steps = new CopyOnWriteArrayList<>();
  private final Map<String, List<Double>> uniforms = new ConcurrentHashMap<>(); // by prompt
  private final Semaphore stepPermits = new Semaphore(Integer.MAX_VALUE);
  /** The constraint masks the sampling rows carried, by sequence id, in step order. */
  final Map<Long, List<long[]>> masks = new ConcurrentHashMap<>();
  private final Semaphore stepsStarted = new Semaphore(0);
  private final List<String> violations = new CopyOnWriteArrayList<>();

  FakeExecutor(int numBlocks, int blockSize) {
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.slotToken = new long[numBlocks * blockSize];
    Arrays.fill(slotToken, -1);
  }

  /** The model: the token that follows {@code tokens[0, length)}, never 0. */
  static int nextToken(int[] tokens, int length) {
    long h = 17;
    for (int i = 0; i < length; i++) h = h * 31 + tokens[i];
    h *= 0x9E3779B97F4A7C15L;
    return 1 + (int) Math.floorMod(h ^ (h >>> 31), (long) (VOCAB - 1));
  }

  /** The first {@code n} tokens the model generates after a prompt: what any schedule must reproduce. */
  static int[] generate(int[] prompt, int n) {
    int[] seq = Arrays.copyOf(prompt, prompt.length + n);
    for (int i = prompt.length; i < seq.length; i++) seq[i] = nextToken(seq, i);
    return Arrays.copyOfRange(seq, prompt.length, seq.length);
  }

  static int[] randomPrompt(long seed, int length) {
    return new SplittableRandom(seed).ints(length, 1, VOCAB).toArray();
  }

  /**
   * From now on each step waits for {@link #allowSteps}; lets tests catch the engine mid-step. Steps started before
   * no longer count for {@link #awaitStepStarted}.
   */
  void holdSteps() {
    stepPermits.drainPermits();
    stepsStarted.drainPermits();
  }

  void allowSteps(int n) {
    stepPermits.release(n);
  }

  /** Waits until the engine has entered one more step (it may be held there). */
  void awaitStepStarted() throws InterruptedException {
    if (!stepsStarted.tryAcquire(10, TimeUnit.SECONDS)) throw new AssertionError("no step started within 10 s");
  }

  /** The audits that failed, in order (each also threw on the engine thread). */
  List<String> violations() {
    return List.copyOf(violations);
  }

  /** Records a failed audit for the test thread and returns the error to throw on the engine thread. */
  private AssertionError violation(String message) {
    violations.add(message);
    return new AssertionError(message);
  }

  /** The random draws the sequences with this prompt were given, in order. */
  List<Double> uniforms(int[] prompt) {
    return uniforms.getOrDefault(Arrays.toString(prompt), List.of());
  }

  @Override
  public SampleResult execute(List<ScheduledSequence> sequences) {
    stepsStarted.release();
    awaitPermit();
    Map<Integer, Integer> blockUsers = new HashMap<>();
    for (ScheduledSequence s : sequences) for (int b : s.blockTable()) blockUsers.merge(b, 1, Integer::sum);
    int numTokens = 0;
    List<Integer> sampled = new ArrayList<>();
    for (ScheduledSequence s : sequences) {
      for (int p = 0; p < s.numComputed(); p++) {
        long held = slotToken[slot(s, p)];
        if (held != s.token(p)) {
          throw violation("seq " + s.seqId() + " position " + p + " claims token " + s.token(p)
              + " computed, but its slot holds " + held);
        }
      }
      for (int p = s.numComputed(); p < s.numComputed() + s.numNew(); p++) {
        int slot = slot(s, p);
        if (blockUsers.get(slot / blockSize) > 1) {
          throw violation("seq " + s.seqId() + " writes position " + p + " into shared block "
              + slot / blockSize);
        }
        slotToken[slot] = s.token(p);
      }
      numTokens += s.numNew();
      if (s.sample()) {
        if (s.allowed() != null) {
          masks.computeIfAbsent(s.seqId(), k -> new CopyOnWriteArrayList<>()).add(s.allowed().toWords((VOCAB + 63) / 64));
        }
        String prompt = Arrays.toString(Arrays.copyOf(s.tokens(), s.numPrompt()));
        uniforms.computeIfAbsent(prompt, k -> new CopyOnWriteArrayList<>()).add(s.uniform());
        sampled.add(sample(s));
      }
    }
    steps.add(new Step(numTokens, sequences.size()));
    if (sampled.isEmpty()) return null;
    int n = sampled.size();
    float[] logprobs = new float[n];
    Arrays.fill(logprobs, Float.NaN);
    return new SampleResult(sampled.stream().mapToInt(Integer::intValue).toArray(), logprobs, new int[n][0],
        new float[n][0]);
  }

  /** The forced token, else the model's token, or the next allowed one when it is banned. */
  private static int sample(ScheduledSequence s) {
    if (s.forcedToken() >= 0) return s.forcedToken();
    int t = nextToken(s.history(), s.numComputed() + s.numNew());
    while (contains(s.banned(), t)) t = 1 + t % (VOCAB - 1);
    return t;
  }

  private int slot(ScheduledSequence s, int position) {
    int index = position / blockSize;
    if (index >= s.blockTable().length) {
      throw violation("seq " + s.seqId() + " position " + position + " is beyond its "
          + s.blockTable().length + " blocks");
    }
    int block = s.blockTable()[index];
    if (block == KvCacheManager.NULL_BLOCK_ID || block >= numBlocks) {
      throw violation("seq " + s.seqId() + " has invalid block " + block);
    }
    return block * blockSize + position % blockSize;
  }

  /** Waits for the test to allow the step; an interrupt (engine shutdown) lets it finish like a real device step. */
  private void awaitPermit() {
    try {
      if (!stepPermits.tryAcquire(30, TimeUnit.SECONDS)) throw violation("step held for 30 s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean contains(int[] ids, int id) {
    for (int i : ids) if (i == id) return true;
    return false;
  }

  @Override
  public int numBlocks() {
    return numBlocks;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }
}

package barista.engine.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Picks the next token of every row of a batch in one pass on the device: logit bias, penalties, bans, forced tokens
 * and constraint masks, then greedy (argmax) or temperature / top-k / min-p / top-p sampling, then
 * log-probabilities.
 *
 * <p>Sampling is inverse-CDF over the kept probabilities in descending order, driven by one uniform number per
 * row drawn from that sequence's own generator (the support and the drawn token are found by selection, never by
 * sorting the vocabulary); the chosen token therefore depends only on the row's logits, its
 * parameters and its draw, never on what else is in the batch (a seeded request is reproducible). Log-probabilities
 * are those of the raw model output, as vLLM reports them.
 */
public final class Sampler {
  private final LogitMasker masker;
  /** Whether CPU logits are sampled on the host (else with DJL ops, as on CUDA). */
  private final boolean hostSampling;
  /** The device's one-launch draw (CUDA), or null: DJL ops over a window of the most likely tokens. */
  private final RowDraw rowDraw;

  /** A sampler that masks with DJL ops (any device). */
  public Sampler() {
    this(Sampler::maskWithDjlOps);
  }

  public Sampler(LogitMasker masker) {
    this(masker, true, null);
  }

  /** A sampler whose device rows are drawn by {@code rowDraw} (null: with DJL ops). */
  public Sampler(LogitMasker masker, RowDraw rowDraw) {
    this(masker, true, rowDraw);
  }

  /** With {@code hostSampling} false, CPU logits take the device path too (for tests of that path). */
  Sampler(LogitMasker masker, boolean hostSampling, RowDraw rowDraw) {
    this.masker = masker;
    this.hostSampling = hostSampling;
    this.rowDraw = rowDraw;
  }

  public SampleResult sample(NDArray logits, List<SamplingRow> rows, NDManager m) {
    return sample(logits, stage(rows, (int) logits.getShape().get(1), m), m);
  }

  /**
   * A step's rows with, where the device samples, their sampling parameters already on the device: one copy, made
   * before the step's forward pass (ModelRunner), since a copy from the host waits for everything queued before it.
   */
  public static final class Staged {
    final List<SamplingRow> rows;
    /** [n, 7] float32: temperature, top_k, min_p, top_p, the draw, greedy (0/1), top_k within the first window. */
    final NDArray params;
    final float[] topK;
    final int firstWindow;
    final boolean anyGreedy;

    private Staged(List<SamplingRow> rows, NDArray params, float[] topK, int firstWindow, boolean anyGreedy) {
      this.rows = rows;
      this.params = params;
      this.topK = topK;
      this.firstWindow = firstWindow;
      this.anyGreedy = anyGreedy;
    }
  }

  /**
   * Uploads the rows' sampling parameters for the device path (none when every row is greedy, or on the CPU, where
   * the host samples); arrays in {@code m}, whose device is the logits'.
   */
  public Staged stage(List<SamplingRow> rows, int vocab, NDManager m) {
    int n = rows.size();
    boolean anyStochastic = false, anyGreedy = false;
    for (SamplingRow r : rows) {
      anyStochastic |= !r.params().isGreedy();
      anyGreedy |= r.params().isGreedy();
    }
    if (!anyStochastic || (hostSampling && !m.getDevice().isGpu())) return new Staged(rows, null, null, 0, anyGreedy);
    float[] topK = new float[n];
    int window = Math.min(vocab, startWindow());
    for (int i = 0; i < n; i++) {
      topK[i] = keptTopK(rows.get(i).params(), vocab);
      if (topK[i] < vocab) window = Math.max(window, (int) topK[i]);
    }
    float[] flat = new float[n * 7];
    for (int i = 0; i < n; i++) {
      SamplingRow r = rows.get(i);
      SamplingParams p = r.params();
      flat[i * 7] = p.isGreedy() ? 1f : (float) p.temperature();
      flat[i * 7 + 1] = topK[i];
      flat[i * 7 + 2] = (float) p.minP();
      flat[i * 7 + 3] = (float) p.topP();
      flat[i * 7 + 4] = p.isGreedy() ? 0f : draw(r);
      flat[i * 7 + 5] = p.isGreedy() ? 1f : 0f;
      flat[i * 7 + 6] = topK[i] <= window ? 1f : 0f;
    }
    return new Staged(rows, m.create(flat, new Shape(n, 7)), topK, window, anyGreedy);
  }

  public SampleResult sample(NDArray logits, Staged staged, NDManager m) {
    List<SamplingRow> rows = staged.rows;
    int numRows = rows.size();
    int vocab = (int) logits.getShape().get(1);
    boolean anyLogprobs = false, anyStochastic = false, anyAdjusted = false, anyMasked = false;
    int maxTop = 0;
    for (SamplingRow r : rows) {
      SamplingParams p = r.params();
      anyLogprobs |= p.logprobs() != null;
      if (p.logprobs() != null) maxTop = Math.max(maxTop, p.logprobs());
      anyStochastic |= !p.isGreedy();
      anyAdjusted |= p.hasPenalties() || r.banned().length > 0 || !p.logitBias().isEmpty() || r.forcedToken() >= 0
          || p.allowedTokenIds() != null || !p.badWords().isEmpty();
      anyMasked |= r.allowed() != null && r.forcedToken() < 0;
    }
    NDArray logp = anyLogprobs ? logits.logSoftmax(1) : null;
    NDArray x = anyAdjusted ? adjust(logits.duplicate(), rows, vocab, m) : logits;
    if (anyMasked) x = masker.apply(x, rows, vocab, m);

    NDArray chosen;
    long[] drawn;
    if (anyStochastic && staged.params != null) {
      Draw d = rowDraw == null ? null : drawInOneLaunch(x, staged, m);
      if (d == null) {
        d = sampleInWindow(x, staged, vocab, m);
        lastWindow = d.window;
      }
      chosen = d.chosen;
      drawn = d.tokens;
    } else if (anyStochastic) {
      boolean[] greedy = new boolean[numRows];
      for (int i = 0; i < numRows; i++) greedy[i] = rows.get(i).params().isGreedy();
      NDArray sampled = sampleOnHost(x, rows, vocab, m);
      chosen = staged.anyGreedy ? NDArrays.where(m.create(greedy), x.argMax(1).toType(DataType.INT64, false), sampled)
          : sampled; // no argmax pass over the vocabulary when no row needs it
      drawn = chosen.toLongArray();
    } else {
      chosen = x.argMax(1).toType(DataType.INT64, false);
      drawn = chosen.toLongArray();
    }
    int[] tokens = toInts(drawn);

    float[] logprobs = new float[numRows];
    int[][] topIds = new int[numRows][];
    float[][] topLogprobs = new float[numRows][];
    java.util.Arrays.fill(logprobs, Float.NaN);
    if (anyLogprobs) {
      float[] picked = logp.gather(chosen.reshape(numRows, 1), 1).toFloatArray();
      float[] topV = null;
      long[] topI = null;
      if (maxTop > 0) {
        NDList top = logp.topK(maxTop, 1, true, true);
        topV = top.get(0).toFloatArray();
        topI = top.get(1).toLongArray();
      }
      for (int i = 0; i < numRows; i++) {
        Integer k = rows.get(i).params().logprobs();
        if (k == null) continue;
        logprobs[i] = picked[i];
        topIds[i] = new int[k];
        topLogprobs[i] = new float[k];
        for (int j = 0; j < k; j++) {
          topIds[i][j] = (int) topI[i * maxTop + j];
          topLogprobs[i][j] = topV[i * maxTop + j];
        }
      }
    }
    return new SampleResult(tokens, logprobs, topIds, topLogprobs);
  }

  /**
   * Logit bias first (as vLLM V1 applies its logits processors before the penalties), then repetition penalty on
   * every token of prompt + output, frequency and presence penalties on output tokens (vLLM's rules), bans, and
   * last the forced tokens; applied to the few affected entries only: gather, compute, scatter back.
   */
  private static NDArray adjust(NDArray x, List<SamplingRow> rows, int vocab, NDManager m) {
    addLogitBias(x.reshape(-1), rows, vocab, m);
    int entries = 0;
    for (SamplingRow r : rows) {
      if (r.params().hasPenalties()) entries += r.numPrompt() + r.numOutput();
    }
    long[] index = new long[entries];
    float[] divisor = new float[entries];
    float[] subtract = new float[entries];
    int e = 0;
    int bannedCount = 0;
    int[][] badWordBans = badWordBans(rows);
    for (int row = 0; row < rows.size(); row++) {
      SamplingRow r = rows.get(row);
      bannedCount += r.banned().length + badWordBans[row].length;
      SamplingParams p = r.params();
      if (!p.hasPenalties()) continue;
      Map<Integer, Integer> outputCounts = new HashMap<>();
      for (int i = r.numPrompt(); i < r.numPrompt() + r.numOutput(); i++) outputCounts.merge(r.tokens()[i], 1, Integer::sum);
      Map<Integer, Boolean> seen = new HashMap<>();
      for (int i = 0; i < r.numPrompt() + r.numOutput(); i++) {
        int token = r.tokens()[i];
        if (seen.put(token, Boolean.TRUE) != null) continue;
        int count = outputCounts.getOrDefault(token, 0);
        index[e] = (long) row * vocab + token;
        divisor[e] = (float) p.repetitionPenalty();
        subtract[e] = (float) (p.frequencyPenalty() * count + (count > 0 ? p.presencePenalty() : 0));
        e++;
      }
    }
    NDArray flat = x.reshape(-1);
    if (e > 0) {
      NDIndex at = new NDIndex("{}", m.create(java.util.Arrays.copyOf(index, e)));
      NDArray vals = flat.get(at);
      NDArray rp = m.create(java.util.Arrays.copyOf(divisor, e));
      NDArray penalized = NDArrays.where(vals.gt(0), vals.div(rp), vals.mul(rp));
      flat.set(at, penalized.sub(m.create(java.util.Arrays.copyOf(subtract, e))));
    }
    if (bannedCount > 0) {
      long[] banned = new long[bannedCount];
      int b = 0;
      for (int row = 0; row < rows.size(); row++) {
        for (int token : rows.get(row).banned()) banned[b++] = (long) row * vocab + token;
        for (int token : badWordBans[row]) banned[b++] = (long) row * vocab + token;
      }
      flat.set(new NDIndex("{}", m.create(banned)), m.full(new Shape(bannedCount), Float.NEGATIVE_INFINITY));
    }
    keepAllowed(flat, rows, vocab, m);
    force(flat, rows, vocab);
    return flat.reshape(rows.size(), vocab);
  }

  /**
   * vLLM's bad_words: a one-token word is always banned; a longer one bans its last token where the output so far
   * ends with the rest of it.
   */
  private static int[][] badWordBans(List<SamplingRow> rows) {
    int[][] bans = new int[rows.size()][];
    for (int row = 0; row < rows.size(); row++) {
      SamplingRow r = rows.get(row);
      List<int[]> words = r.params().badWords();
      int[] ban = new int[words.size()];
      int n = 0;
      int end = r.numPrompt() + r.numOutput();
      for (int[] word : words) {
        int prefix = word.length - 1;
        if (prefix > r.numOutput()) continue;
        boolean matches = true;
        for (int i = 0; i < prefix && matches; i++) matches = r.tokens()[end - prefix + i] == word[i];
        if (matches) ban[n++] = word[prefix];
      }
      bans[row] = java.util.Arrays.stream(ban, 0, n).distinct().toArray();
    }
    return bans;
  }

  /** vLLM's allowed_token_ids: every other token of the row gets -inf (after bias and penalties, as vLLM). */
  private static void keepAllowed(NDArray flat, List<SamplingRow> rows, int vocab, NDManager m) {
    for (int row = 0; row < rows.size(); row++) {
      List<Integer> allowed = rows.get(row).params().allowedTokenIds();
      if (allowed == null) continue;
      long start = (long) row * vocab;
      long[] index = allowed.stream().mapToLong(t -> start + t).distinct().toArray();
      NDIndex at = new NDIndex("{}", m.create(index));
      NDArray kept = flat.get(at);
      flat.set(new NDIndex(start + ":" + (start + vocab)), Float.NEGATIVE_INFINITY);
      flat.set(at, kept);
    }
  }

  /** OpenAI's logit_bias: the given values are added to those tokens' logits, one scatter for the whole batch. */
  private static void addLogitBias(NDArray flat, List<SamplingRow> rows, int vocab, NDManager m) {
    int entries = 0;
    for (SamplingRow r : rows) entries += r.params().logitBias().size();
    if (entries == 0) return;
    long[] index = new long[entries];
    float[] bias = new float[entries];
    int e = 0;
    for (int row = 0; row < rows.size(); row++) {
      for (Map.Entry<Integer, Float> b : rows.get(row).params().logitBias().entrySet()) {
        index[e] = (long) row * vocab + b.getKey(); // keys are unique per row, so no index repeats
        bias[e++] = b.getValue();
      }
    }
    NDIndex at = new NDIndex("{}", m.create(index));
    flat.set(at, flat.get(at).add(m.create(bias)));
  }

  /**
   * A row with a forced token keeps only that one finite logit, so greedy and every sampling path pick it; its
   * reported logprob is still the model's own (log-probabilities come from the raw logits).
   */
  private static void force(NDArray flat, List<SamplingRow> rows, int vocab) {
    for (int row = 0; row < rows.size(); row++) {
      int token = rows.get(row).forcedToken();
      if (token < 0) continue;
      long start = (long) row * vocab;
      flat.set(new NDIndex(start + ":" + (start + vocab)), Float.NEGATIVE_INFINITY);
      flat.set(new NDIndex(start + token), 0f);
    }
  }

  /**
   * Keeps only each constrained row's allowed tokens (others -inf), with DJL ops. Rows without a mask allow
   * everything, and so do rows with a forced token (it was already made the only finite logit; the engine never
   * forces a token into a constrained row). The masks' words are written by each mask (waiting for one still being
   * computed); a little-endian long's byte b holds tokens 8b..8b+7.
   */
  public static NDArray maskWithDjlOps(NDArray x, List<SamplingRow> rows, int vocab, NDManager m) {
    int words = (vocab + 63) / 64, n = rows.size();
    long[] bits = wordBuffer(n * words);
    writeMaskWords(rows, LongBuffer.wrap(bits, 0, n * words), words);
    return x.getDevice().isGpu() ? unpackOnDevice(x, bits, n, words, vocab, m)
        : addPenalties(x, bits, n, words, vocab, m);
  }

  /**
   * On the CPU: the bits become additive penalties (0 or -inf) here, a whole word or eight tokens at a time from
   * tables, and one add applies them: unpacking with tensor ops instead (divide, floor and modulo over a float copy
   * of every bit) took several times longer (docs/performance.md).
   */
  private static NDArray addPenalties(NDArray x, long[] bits, int n, int words, int vocab, NDManager m) {
    ByteBuffer staging = directBuffer(4L * n * vocab);
    FloatBuffer penalty = staging.asFloatBuffer();
    for (int i = 0; i < n * words; i++) {
      long word = bits[i];
      int count = Math.min(64, vocab - i % words * 64);
      if (count == 64 && (word == -1L || word == 0L)) { // whole words: most of a real mask
        penalty.put(word == 0L ? BANNED64 : ALLOWED64);
      } else {
        for (int b = 0; b < count; b += 8) {
          penalty.put(BYTE_PENALTIES, 8 * (int) (word >>> b & 0xff), Math.min(8, count - b));
        }
      }
    }
    return x.add(m.create(staging, new Shape(n, vocab), DataType.FLOAT32).toType(x.getDataType(), false));
  }

  /**
   * On a GPU without libbarista_native: the bits travel as they are (19 KiB a row at 151,936 tokens rather than
   * 4 bytes a token) and are unpacked there: bit j of byte b is floor(b / 2^j) mod 2.
   */
  private static NDArray unpackOnDevice(NDArray x, long[] bits, int n, int words, int vocab, NDManager m) {
    ByteBuffer packed = directBuffer(8L * n * words);
    packed.order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(bits, 0, n * words);
    float[] powers = new float[8];
    for (int j = 0; j < 8; j++) powers[j] = 1 << j;
    NDArray unpacked = m.create(packed, new Shape(n, words * 8L), DataType.UINT8)
        .toType(DataType.FLOAT32, false).reshape(n, words * 8L, 1)
        .div(m.create(powers, new Shape(1, 1, 8))).floor().mod(2f).reshape(n, words * 64L);
    NDArray keep = unpacked.get(":, 0:" + vocab).gt(0.5f);
    return NDArrays.where(keep, x, m.full(x.getShape(), Float.NEGATIVE_INFINITY, x.getDataType()));
  }

  private static final float[] ALLOWED64 = new float[64];
  private static final float[] BANNED64 = new float[64];
  /** Byte b of a mask word as the penalties of its eight tokens: 0 where the bit is set, else -inf. */
  private static final float[] BYTE_PENALTIES = new float[256 * 8];

  static {
    java.util.Arrays.fill(BANNED64, Float.NEGATIVE_INFINITY);
    for (int b = 0; b < 256; b++) {
      for (int j = 0; j < 8; j++) BYTE_PENALTIES[8 * b + j] = (b >>> j & 1) != 0 ? 0f : Float.NEGATIVE_INFINITY;
    }
  }

  /**
   * Each row's mask as {@code words} words, one row after another; a row without a mask, or with a forced token,
   * allows everything. Waits for masks still being computed.
   */
  public static void writeMaskWords(List<SamplingRow> rows, LongBuffer dst, int words) {
    for (SamplingRow r : rows) {
      TokenMask allowed = r.forcedToken() >= 0 ? null : r.allowed();
      if (allowed != null) {
        allowed.writeWords(dst, words); // may wait for a mask computed while the forward pass ran
      } else {
        for (int w = 0; w < words; w++) dst.put(-1L);
      }
    }
  }

  // The engine thread's staging, grown as needed: mask words, and what goes to the device (direct, so DJL copies
  // it as it is).
  private static final ThreadLocal<long[]> WORDS = new ThreadLocal<>();

  private static long[] wordBuffer(int words) {
    long[] w = WORDS.get();
    if (w == null || w.length < words) {
      w = new long[Math.max(words, w == null ? 0 : 2 * w.length)];
      WORDS.set(w);
    }
    return w;
  }

  private static final ThreadLocal<ByteBuffer> DIRECT = new ThreadLocal<>();

  private static ByteBuffer directBuffer(long bytes) {
    ByteBuffer b = DIRECT.get();
    if (b == null || b.capacity() < bytes) {
      b = ByteBuffer.allocateDirect((int) Math.max(bytes, b == null ? 0 : 2L * b.capacity()))
          .order(ByteOrder.nativeOrder());
      DIRECT.set(b);
    }
    b.clear().limit((int) bytes);
    return b.slice().order(ByteOrder.nativeOrder());
  }

  /**
   * Temperature, then min-p, top-k and top-p, then inverse-CDF with the row's draw over the kept tokens in
   * descending order of probability (the most likely first); nothing sorts the whole vocabulary. On the CPU the
   * logits are read back and {@link HostSampling} finds each row's support and draw by selection (here); elsewhere
   * (CUDA) {@link #sampleInWindow} works on the most likely tokens only.
   */
  private static NDArray sampleOnHost(NDArray x, List<SamplingRow> rows, int vocab, NDManager m) {
    int n = rows.size();
    // The tensor's own memory in one bulk copy (toFloatArray goes through a heap buffer, several times slower);
    // exponentials on this thread rather than torch ops, whose thread pool stalls when the cores are busy.
    float[] all = hostLogits(n * vocab);
    x.toType(DataType.FLOAT32, false).toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer()
        .get(all, 0, n * vocab);
    long[] tokens = new long[n];
    IntStream rowIndices = IntStream.range(0, n);
    // Rows are independent: a large step's rows are drawn on the common pool too (each thread its own buffers).
    if ((long) n * vocab >= PARALLEL_ELEMENTS) rowIndices = rowIndices.parallel();
    rowIndices.forEach(i -> {
      SamplingParams p = rows.get(i).params();
      if (p.isGreedy()) return; // the argmax is taken for it
      tokens[i] = HostSampling.draw(all, i * vocab, vocab, (float) p.temperature(), keptTopK(p, vocab),
          (float) p.minP(), (float) p.topP(), draw(rows.get(i)));
    });
    return m.create(tokens);
  }

  /** The row's top_k as a count of tokens: the whole vocabulary when it sets none. */
  private static int keptTopK(SamplingParams p, int vocab) {
    return p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
  }

  /** The row's uniform draw in float, below 1: a draw rounding to 1 would pick past the kept set. */
  private static float draw(SamplingRow r) {
    return Math.min((float) r.uniform(), 0x1.fffffep-1f);
  }

  private static final ThreadLocal<float[]> HOST_LOGITS = new ThreadLocal<>();
  /** Logits in a step from which host sampling splits its rows over threads (a few rows of a large vocabulary). */
  private static final long PARALLEL_ELEMENTS = 1 << 19;

  /** The engine thread's buffer for a step's logits on the host, grown as needed. */
  private static float[] hostLogits(int size) {
    float[] b = HOST_LOGITS.get();
    if (b == null || b.length < size) HOST_LOGITS.set(b = new float[size]);
    return b;
  }

  /** The most likely tokens a row's support is first looked for in (grown by {@link #nextWindow} while it spills over). */
  static final int WINDOW = 256;

  /** The chosen tokens (greedy rows' argmax among them) on the device, and read back. */
  private record Draw(NDArray chosen, long[] tokens, int window) {}

  /**
   * The step's tokens from {@link #rowDraw}; null when it left a row to this sampler (a boundary among thousands of
   * near-equal probabilities), whose windowed path then draws the step.
   */
  private Draw drawInOneLaunch(NDArray x, Staged s, NDManager m) {
    NDArray chosen = rowDraw.draw(x, s.params, m);
    long[] tokens = chosen.toLongArray();
    for (long t : tokens) if (t < 0) return null;
    return new Draw(chosen, tokens, WINDOW);
  }

  /**
   * With DJL ops (any device): the K most likely tokens of every row by partial selection (topK, K at least
   * {@link #WINDOW} and every row's top_k), their min-p / top-k / top-p filter and inverse-CDF as over the sorted
   * vocabulary. K grows while some row's top-p set may reach past it (the window's kept mass below top_p of the
   * row's whole kept mass), up to the vocabulary, where it is the sort it replaces. The draw is made before that is
   * known and read back with it, so a step waits for the device once; a window found too small (a rare, flat
   * distribution) costs a round more. Parameters come from {@link #stage}: no copy from the host on the way, each
   * of which would wait for the device.
   */
  private static Draw sampleInWindow(NDArray x, Staged s, int vocab, NDManager m) {
    int n = s.rows.size();
    NDArray p = s.params;
    NDArray topK = p.get(":, 1:2"), topP = p.get(":, 3:4"), u = p.get(":, 4:5");
    NDArray greedy = s.anyGreedy ? p.get(":, 5").toType(DataType.BOOLEAN, false) : null;
    NDArray argMax = greedy == null ? null : x.argMax(1).toType(DataType.INT64, false);
    NDArray probs = x.div(p.get(":, 0:1")).softmax(1);
    NDArray maxProb = probs.max(new int[] {1}, true);
    NDArray minPCut = maxProb.mul(p.get(":, 2:3"));
    NDArray massAboveMinP = probs.mul(probs.gte(minPCut).toType(probs.getDataType(), false)).sum(new int[] {1}, true);
    NDArray topKInWindow = p.get(":, 6:7").toType(DataType.BOOLEAN, false);
    int window = s.firstWindow;
    while (true) {
      NDList top = probs.topK(window, 1, true, true);
      NDArray sorted = top.get(0), order = top.get(1);
      NDArray rank = m.arange(0f, window, 1f, DataType.FLOAT32).reshape(1, window);
      NDArray keep = rank.lt(topK).logicalAnd(sorted.gte(minPCut));
      NDArray kept = sorted.mul(keep.toType(sorted.getDataType(), false));
      NDArray cum = kept.cumSum(1);
      NDArray inWindow = cum.get(":, " + (window - 1) + ":" + window);
      // A row cut by top_k has its whole kept set here; otherwise it is everything above the min-p cut.
      NDArray total = NDArrays.where(topKInWindow, inWindow, massAboveMinP);
      NDArray inTopP = cum.sub(kept).lt(total.mul(topP));
      NDArray cdf = kept.mul(inTopP.toType(kept.getDataType(), false)).cumSum(1);
      NDArray target = cdf.get(":, " + (window - 1) + ":" + window).mul(u);
      NDArray last = rank.get(":, " + (window - 1) + ":" + window); // a device value: a scalar would be a copy
      NDArray pick = cdf.lte(target).toType(DataType.FLOAT32, false).sum(new int[] {1}, true).minimum(last)
          .toType(DataType.INT64, false);
      NDArray sampled = order.gather(pick, 1).reshape(n);
      NDArray chosen = greedy == null ? sampled : NDArrays.where(greedy, argMax, sampled);
      if (window == vocab) return new Draw(chosen, chosen.toLongArray(), window);
      NDArray covered = inWindow.gte(total.mul(topP)).all().toType(DataType.INT64, false).reshape(1);
      long[] both = chosen.concat(covered).toLongArray();
      if (both[n] != 0) return new Draw(chosen, java.util.Arrays.copyOf(both, n), window);
      window = nextWindow(window, vocab);
      boolean[] within = new boolean[n];
      for (int i = 0; i < n; i++) within[i] = s.topK[i] <= window;
      topKInWindow = m.create(within).reshape(n, 1);
    }
  }

  /**
   * The first window of a step: where the last step's draw ended (a step's rows are mostly the last step's, their
   * distributions alike), but every {@value #RETRY_STEPS}th step from {@link #WINDOW} again, so one flat row that has
   * finished does not keep every later step selecting over the whole vocabulary. The draw does not depend on it: any
   * window that holds every row's top-p set gives the same token.
   */
  private int startWindow() {
    if (++stepsSinceRetry >= RETRY_STEPS) {
      stepsSinceRetry = 0;
      return WINDOW;
    }
    return Math.max(WINDOW, lastWindow);
  }

  private static final int RETRY_STEPS = 16;
  private int lastWindow = WINDOW; // the step thread's only
  private int stepsSinceRetry;

  /**
   * The window after one found too small: sixteen times wider, or the whole vocabulary once that is within four
   * times of it. A flat row (a random model's, or a high temperature) then costs three rounds (256, 4,096, all), not
   * six of growing partial selections, each of which waits for the device.
   */
  static int nextWindow(int window, int vocab) {
    long wider = (long) window * GROWTH;
    return wider * 4 >= vocab ? vocab : (int) wider;
  }

  private static final int GROWTH = 16;

  private static int[] toInts(long[] a) {
    int[] r = new int[a.length];
    for (int i = 0; i < a.length; i++) r[i] = (int) a[i];
    return r;
  }
}

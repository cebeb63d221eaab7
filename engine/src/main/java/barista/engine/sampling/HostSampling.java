package barista.engine.sampling;

/**
 * One row's draw from its probabilities on the host, without sorting the vocabulary. Probabilities are positive
 * floats, so their bit patterns order as they do: a histogram of count and mass over the top bits (exponent and
 * seven mantissa bits) finds, walking from the most likely bucket down, the bucket where top-k's count, top-p's
 * mass or the draw's mass is crossed, and only that bucket's tokens are then ordered, by selection (three-way
 * partitions, expected linear time). The token drawn is the first, in descending order of probability, whose
 * cumulative kept mass exceeds the draw times the kept mass: the token inverse-CDF over the sorted kept set picks
 * (ties between equal probabilities aside), so the distribution and each draw's meaning are unchanged.
 *
 * <p>Confined to the engine thread: the buffers are reused per thread.
 */
final class HostSampling {
  /** Ranges this small are finished by insertion sort and a walk. */
  private static final int SMALL = 16;
  /** Bits of a positive float below its bucket: 16 leaves the exponent and seven mantissa bits. */
  private static final int SHIFT = 16;
  /** Buckets of probabilities in (0, 1] (and a little above, for rounding). */
  private static final int BUCKETS = (Float.floatToRawIntBits(2f) >>> SHIFT) + 1;

  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  /** The histogram, and the tokens of the bucket being resolved. */
  private static final class Buffers {
    final int[] count = new int[BUCKETS];
    final double[] mass = new double[BUCKETS];
    float[] values = new float[1024];
    int[] ids = new int[1024];
  }

  private HostSampling() {}

  private static int bucket(float p) {
    return Math.min(BUCKETS - 1, Float.floatToRawIntBits(p) >>> SHIFT);
  }

  /**
   * The token drawn from the logits {@code logits[offset, offset + vocab)} at {@code temperature}; overwrites them
   * with their weights {@code exp((logit - max) / temperature)} (softmax but for the common divisor, which no
   * filter and no draw needs).
   */
  static int draw(float[] logits, int offset, int vocab, float temperature, int topK, float minP, float topP,
      float u) {
    float max = Float.NEGATIVE_INFINITY;
    int argMax = 0;
    for (int t = 0; t < vocab; t++) {
      float l = logits[offset + t];
      if (l > max) { // a NaN logit never is
        max = l;
        argMax = t;
      }
    }
    // Nothing finite to weigh (every logit -inf or NaN, or one +inf, say from a repetition penalty near 0): the
    // distribution's limit is its most likely token.
    if (max == Float.NEGATIVE_INFINITY || max == Float.POSITIVE_INFINITY) return argMax;
    weights(logits, offset, vocab, max, 1f / temperature);
    float cut = Math.max(minP, Float.MIN_VALUE); // the largest weight is 1 (to the weights' precision)
    Buffers b = cleared();
    int candidates = 0;
    for (int t = 0; t < vocab; t++) {
      float w = logits[offset + t];
      if (w >= cut) { // a NaN weight (from a NaN logit) never is
        int k = bucket(w);
        b.count[k]++;
        b.mass[k] += w;
        candidates++;
      }
    }
    return candidates == 0 ? argMax : resolve(logits, offset, vocab, cut, candidates, topK, topP, u, b);
  }

  /** Arguments below this give a weight of exactly 0 (e^-200 is below float's smallest subnormal): -inf stays 0. */
  private static final float FLOOR = -200f;
  /** e^x = (e^-C e^z)^64 with z = x / 64 + C: z stays within [-C, C] for x in [-87.3, 0]. */
  private static final float C = 0.6819766f;
  private static final float E_MINUS_C = 0.50561660f;

  /**
   * Overwrites {@code v[offset, offset + n)} with {@code exp((v - max) * scale)}, arguments being at most 0. Only
   * float multiplies and adds, so that the JIT compiles the loop to SIMD instructions (a power of two built from
   * the exponent bits, or a table, keeps it scalar, several times slower, and this runs once per vocabulary entry
   * of every sampled row): e^x is e^z, by its Taylor series to degree 8 around 0, times e^-C, squared six times.
   * The squarings scale the series' rounding by 64, to a relative error of about 1e-5: weights of a distribution,
   * where that is far below what any sample can show. -inf maps to exactly 0; NaN stays NaN.
   */
  static void weights(float[] v, int offset, int n, float max, float scale) {
    for (int i = offset; i < offset + n; i++) {
      float z = Math.max((v[i] - max) * scale, FLOOR) * (1f / 64) + C;
      float p = E_MINUS_C * (1f + z * (1f + z * (0.5f + z * (1f / 6 + z * (1f / 24 + z * (1f / 120
          + z * (1f / 720 + z * (1f / 5040 + z * (1f / 40320)))))))));
      p *= p;
      p *= p;
      p *= p;
      p *= p;
      p *= p;
      p *= p;
      v[i] = p;
    }
  }

  /** e^x for x <= 0, as {@link #weights} computes it. */
  static float expNonPositive(float x) {
    float[] one = {x};
    weights(one, 0, 1, 0f, 1f);
    return one[0];
  }

  /**
   * The token drawn from {@code probs[offset, offset + vocab)}: probabilities after temperature, or any positive
   * multiple of them.
   *
   * @param topK tokens kept by top-k (vocab or more: off)
   * @param minP tokens below minP times the largest probability are dropped
   * @param topP the smallest set of most likely tokens whose mass reaches topP of the kept mass is kept
   * @param u the row's uniform draw in [0, 1)
   */
  static int drawFromWeights(float[] probs, int offset, int vocab, int topK, float minP, float topP, float u) {
    float max = 0;
    int argMax = 0;
    for (int t = 0; t < vocab; t++) {
      if (probs[offset + t] > max) { // a NaN never is
        max = probs[offset + t];
        argMax = t;
      }
    }
    if (!(max > 0) || max == Float.POSITIVE_INFINITY) return argMax; // nothing finite to weigh
    float cut = Math.max(minP * max, Float.MIN_VALUE);
    Buffers b = cleared();
    int[] count = b.count;
    double[] mass = b.mass;
    int candidates = 0;
    for (int t = 0; t < vocab; t++) {
      float p = probs[offset + t];
      if (p >= cut) {
        int k = bucket(p);
        count[k]++;
        mass[k] += p;
        candidates++;
      }
    }
    return candidates == 0 ? argMax : resolve(probs, offset, vocab, cut, candidates, topK, topP, u, b);
  }

  private static Buffers cleared() {
    Buffers b = BUFFERS.get();
    java.util.Arrays.fill(b.count, 0);
    java.util.Arrays.fill(b.mass, 0);
    return b;
  }

  /** Top-k, top-p and the draw over the histogram {@code b} of the weights at or above {@code cut}. */
  private static int resolve(float[] probs, int offset, int vocab, float cut, int candidates, int topK, float topP,
      float u, Buffers b) {
    // The kept set: every bucket above `lowest`, and in `lowest` the first `partial` of b.values/ids (or all of it
    // when partial < 0).
    int lowest = 0;
    while (b.count[lowest] == 0) lowest++; // the least likely candidate's bucket: there is one (max >= cut)
    int partial = -1;
    if (topK < candidates) {
      int bucket = BUCKETS - 1;
      int above = 0;
      while (above + b.count[bucket] < topK) above += b.count[bucket--];
      int size = collect(probs, offset, vocab, cut, bucket, b);
      partial = crossing(b.values, b.ids, 0, size, topK - above, true, true) + 1;
      b.mass[bucket] = sum(b.values, 0, partial);
      lowest = bucket;
    }
    if (topP < 1) {
      double total = 0;
      for (int k = lowest; k < BUCKETS; k++) total += b.mass[k];
      double bound = topP * total, above = 0;
      int bucket = BUCKETS - 1;
      while (bucket > lowest && above + b.mass[bucket] < bound) above += b.mass[bucket--];
      int size = bucket == lowest && partial >= 0 ? partial : collect(probs, offset, vocab, cut, bucket, b);
      int last = crossing(b.values, b.ids, 0, size, bound - above, true, false);
      partial = last < 0 ? size : last + 1; // not reached (rounding): the whole bucket
      b.mass[bucket] = sum(b.values, 0, partial);
      lowest = bucket;
    }
    double kept = 0;
    for (int k = lowest; k < BUCKETS; k++) kept += b.mass[k];
    double target = u * kept, above = 0;
    int bucket = BUCKETS - 1;
    while (bucket > lowest && above + b.mass[bucket] <= target) above += b.mass[bucket--];
    int size = bucket == lowest && partial >= 0 ? partial : collect(probs, offset, vocab, cut, bucket, b);
    int drawn = crossing(b.values, b.ids, 0, size, target - above, false, false);
    return b.ids[drawn >= 0 ? drawn : smallest(b.values, 0, size)]; // not exceeded (rounding): the least likely
  }

  /** Gathers the tokens of one bucket (at or above the min-p cut) into b.values / b.ids; returns how many. */
  private static int collect(float[] probs, int offset, int vocab, float cut, int bucket, Buffers b) {
    // The arrays in locals and the bucket test first (most tokens fail it): this scan runs once or twice per row.
    float[] values = b.values;
    int[] ids = b.ids;
    int size = 0;
    for (int t = 0; t < vocab; t++) {
      float p = probs[offset + t];
      if (bucket(p) == bucket && p >= cut) {
        if (size == values.length) {
          values = java.util.Arrays.copyOf(values, 2 * size);
          ids = java.util.Arrays.copyOf(ids, 2 * size);
        }
        values[size] = p;
        ids[size++] = t;
      }
    }
    b.values = values;
    b.ids = ids;
    return size;
  }

  /**
   * Arranges {@code v[lo, hi)} (with {@code id}) in part so that the position returned holds the first element, in
   * descending order of value, at which the running total (of counts when {@code counting}, else of values)
   * reaches {@code bound} ({@code >=} when {@code inclusive}, else {@code >}), and the positions before it hold
   * exactly the elements that precede it in that order; -1 when the total never reaches it.
   */
  static int crossing(float[] v, int[] id, int lo, int hi, double bound, boolean inclusive, boolean counting) {
    double before = 0; // count or mass of the elements placed before lo
    while (hi - lo > SMALL) {
      float pivot = median(v[lo], v[lo + (hi - lo) / 2], v[hi - 1]);
      // Three-way partition: [lo, greater) > pivot, [greater, less) == pivot, [less, hi) < pivot.
      int greater = lo, i = lo, less = hi;
      double greaterMass = 0, equalMass = 0;
      while (i < less) {
        float x = v[i];
        if (x > pivot) {
          greaterMass += counting ? 1 : x;
          swap(v, id, i++, greater++);
        } else if (x < pivot) {
          swap(v, id, i, --less);
        } else {
          equalMass += counting ? 1 : x;
          i++;
        }
      }
      if (crosses(before + greaterMass, bound, inclusive)) {
        hi = greater;
      } else if (crosses(before + greaterMass + equalMass, bound, inclusive)) {
        before += greaterMass;
        lo = greater;
        hi = less;
        break; // all equal: walk them
      } else {
        before += greaterMass + equalMass;
        lo = less;
      }
    }
    insertionSortDescending(v, id, lo, hi);
    for (int i = lo; i < hi; i++) {
      before += counting ? 1 : v[i];
      if (crosses(before, bound, inclusive)) return i;
    }
    return -1;
  }

  private static boolean crosses(double total, double bound, boolean inclusive) {
    return inclusive ? total >= bound : total > bound;
  }

  /** Position of the smallest value in {@code v[from, to)} (the last kept token, for a draw rounding up). */
  private static int smallest(float[] v, int from, int to) {
    int best = from;
    for (int i = from + 1; i < to; i++) if (v[i] < v[best]) best = i;
    return best;
  }

  private static float median(float a, float b, float c) {
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  }

  private static void insertionSortDescending(float[] v, int[] id, int lo, int hi) {
    for (int i = lo + 1; i < hi; i++) {
      for (int j = i; j > lo && v[j] > v[j - 1]; j--) swap(v, id, j, j - 1);
    }
  }

  private static void swap(float[] v, int[] id, int a, int b) {
    float x = v[a];
    v[a] = v[b];
    v[b] = x;
    int t = id[a];
    id[a] = id[b];
    id[b] = t;
  }

  private static double sum(float[] v, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) s += v[i];
    return s;
  }
}

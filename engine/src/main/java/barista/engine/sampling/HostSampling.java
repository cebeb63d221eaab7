package barista.engine.sampling;

/**
 * One row's draw from its probabilities on the host, without sorting the vocabulary: min-p is a threshold, top-k
 * and top-p are found by selection (three-way partitions around a pivot, keeping the side where the count or the
 * probability mass crosses its bound, expected linear time), and the drawn token likewise: the first token, in
 * descending order of probability, whose cumulative kept mass exceeds the draw times the kept mass. That is the
 * same token inverse-CDF over the sorted kept set picks (ties between equal probabilities aside), so the
 * distribution and each draw's meaning are unchanged.
 *
 * <p>Confined to the engine thread: the candidate buffers are reused per thread.
 */
final class HostSampling {
  /** Ranges this small are finished by insertion sort and a walk. */
  private static final int SMALL = 16;

  private static final ThreadLocal<float[]> VALUES = new ThreadLocal<>();
  private static final ThreadLocal<int[]> IDS = new ThreadLocal<>();

  private HostSampling() {}

  /**
   * The token drawn from {@code probs[offset, offset + vocab)} (softmax after temperature).
   *
   * @param topK tokens kept by top-k (vocab or more: off)
   * @param minP tokens below minP times the largest probability are dropped
   * @param topP the smallest set of most likely tokens whose mass reaches topP of the kept mass is kept
   * @param u the row's uniform draw in [0, 1)
   */
  static int draw(float[] probs, int offset, int vocab, int topK, float minP, float topP, float u) {
    float max = 0;
    for (int t = 0; t < vocab; t++) max = Math.max(max, probs[offset + t]);
    float cut = minP * max;
    float[] v = buffer(vocab);
    int[] id = ids(vocab);
    int count = 0;
    for (int t = 0; t < vocab; t++) {
      float p = probs[offset + t];
      if (p > 0 && p >= cut) {
        v[count] = p;
        id[count++] = t;
      }
    }
    if (count == 0) return argMax(probs, offset, vocab); // every probability underflowed but the top: take it
    if (topK < count) count = crossing(v, id, 0, count, topK, true, true) + 1;
    if (topP < 1) {
      double total = sum(v, 0, count);
      count = crossing(v, id, 0, count, topP * total, true, false) + 1;
    }
    double kept = sum(v, 0, count);
    return id[crossing(v, id, 0, count, u * kept, false, false)];
  }

  /**
   * Arranges {@code v[lo, hi)} (with {@code id}) in part so that the position returned holds the first element, in
   * descending order of value, at which the running total (of counts when {@code counting}, else of values)
   * reaches {@code bound} ({@code >=} when {@code inclusive}, else {@code >}), and the positions before it hold
   * exactly the elements that precede it in that order. Without such an element, the smallest one's position.
   */
  static int crossing(float[] v, int[] id, int lo, int hi, double bound, boolean inclusive, boolean counting) {
    int start = lo, end = hi;
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
    return smallest(v, start, end);
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

  private static int argMax(float[] probs, int offset, int vocab) {
    int best = 0;
    for (int t = 1; t < vocab; t++) if (probs[offset + t] > probs[offset + best]) best = t;
    return best;
  }

  private static float[] buffer(int size) {
    float[] b = VALUES.get();
    if (b == null || b.length < size) VALUES.set(b = new float[size]);
    return b;
  }

  private static int[] ids(int size) {
    int[] b = IDS.get();
    if (b == null || b.length < size) IDS.set(b = new int[size]);
    return b;
  }
}

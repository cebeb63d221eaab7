package barista.server.bench;

import java.util.Arrays;
import java.util.Collection;

/**
 * Mean and percentiles of a sample. Percentiles use linear interpolation between the closest ranks, as
 * numpy.percentile's default (and so vLLM's bench): rank = p / 100 * (n - 1), value = a[floor] + (a[ceil] - a[floor])
 * * (rank - floor) over the sorted sample. An empty sample gives zeros, as vLLM reports it.
 */
public record Stats(int count, double mean, double median, double p90, double p99, double max) {

  public static Stats of(Collection<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (sorted.length == 0) return new Stats(0, 0, 0, 0, 0, 0);
    return new Stats(sorted.length, Arrays.stream(sorted).sum() / sorted.length, percentile(sorted, 50),
        percentile(sorted, 90), percentile(sorted, 99), sorted[sorted.length - 1]);
  }

  /** The p-th percentile (0..100) of a non-empty, ascending array. */
  static double percentile(double[] sorted, double p) {
    if (p < 0 || p > 100) throw new IllegalArgumentException("percentile must be in 0..100, got " + p);
    double rank = p / 100 * (sorted.length - 1);
    int lo = (int) Math.floor(rank);
    int hi = (int) Math.ceil(rank);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
  }
}

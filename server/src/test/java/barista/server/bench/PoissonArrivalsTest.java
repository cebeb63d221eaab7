package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class PoissonArrivalsTest {

  private static long[] gaps(double rate, long seed, int n) {
    PoissonArrivals arrivals = new PoissonArrivals(rate, seed);
    return LongStream.range(0, n).map(i -> arrivals.nextGapNanos()).toArray();
  }

  @Test
  void sameSeedSameArrivals() {
    assertEquals(java.util.Arrays.toString(gaps(5, 42, 20)), java.util.Arrays.toString(gaps(5, 42, 20)));
    assertNotEquals(java.util.Arrays.toString(gaps(5, 42, 20)), java.util.Arrays.toString(gaps(5, 43, 20)));
  }

  @Test
  void meanGapIsOneOverTheRate() {
    long[] gaps = gaps(4, 1, 100_000);
    double meanSeconds = LongStream.of(gaps).average().orElseThrow() / 1e9;
    assertEquals(0.25, meanSeconds, 0.25 * 0.02);
    // exponential: the median gap is ln 2 / rate
    long[] sorted = gaps.clone();
    java.util.Arrays.sort(sorted);
    assertEquals(Math.log(2) / 4, sorted[sorted.length / 2] / 1e9, 0.25 * 0.02);
  }

  @Test
  void infiniteRateSendsAllAtOnce() {
    assertEquals(0, LongStream.of(gaps(Double.POSITIVE_INFINITY, 0, 10)).sum());
  }

  @Test
  void nonPositiveRateIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new PoissonArrivals(0, 0));
  }
}

package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {
  private static final double EPS = 1e-12;

  @Test
  void percentilesInterpolateLinearlyLikeNumpy() {
    // numpy.percentile([4, 1, 3, 2], [50, 90, 99]) == [2.5, 3.7, 3.97]
    Stats stats = Stats.of(List.of(4.0, 1.0, 3.0, 2.0));
    assertEquals(4, stats.count());
    assertEquals(2.5, stats.mean(), EPS);
    assertEquals(2.5, stats.median(), EPS);
    assertEquals(3.7, stats.p90(), EPS);
    assertEquals(3.97, stats.p99(), EPS);
    assertEquals(4.0, stats.max(), EPS);
  }

  @Test
  void twoValues() {
    // numpy.percentile([10, 20], [50, 90, 99]) == [15, 19, 19.9]
    Stats stats = Stats.of(List.of(20.0, 10.0));
    assertEquals(15, stats.median(), EPS);
    assertEquals(19, stats.p90(), EPS);
    assertEquals(19.9, stats.p99(), EPS);
  }

  @Test
  void oddCountMedianIsTheMiddleValue() {
    assertEquals(7, Stats.of(List.of(100.0, 7.0, 1.0, 9.0, 3.0)).median(), EPS);
  }

  @Test
  void singleValueIsEveryStatistic() {
    assertEquals(new Stats(1, 0.25, 0.25, 0.25, 0.25, 0.25), Stats.of(List.of(0.25)));
  }

  @Test
  void emptySampleIsZeros() {
    assertEquals(new Stats(0, 0, 0, 0, 0, 0), Stats.of(List.of()));
  }

  @Test
  void endsAreMinAndMax() {
    double[] sorted = {1, 5, 6};
    assertEquals(1, Stats.percentile(sorted, 0), EPS);
    assertEquals(6, Stats.percentile(sorted, 100), EPS);
    assertThrows(IllegalArgumentException.class, () -> Stats.percentile(sorted, 101));
  }
}

package barista.server.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class ServerMetricsTest {

  @Test
  void oneTwoFiveBucketsStopAtTheMaximum() {
    assertArrayEquals(new double[] {1, 2, 5, 10, 20, 50, 100, 200}, ServerMetrics.oneTwoFive(256));
    assertArrayEquals(new double[] {1, 2, 5, 10}, ServerMetrics.oneTwoFive(10));
    assertArrayEquals(new double[] {1}, ServerMetrics.oneTwoFive(1));
    assertArrayEquals(new double[] {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000,
        100000}, ServerMetrics.oneTwoFive(131072));
  }
}

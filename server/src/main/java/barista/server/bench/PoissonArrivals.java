package barista.server.bench;

import java.util.Random;

/** The gaps between request arrivals at a mean rate: exponential (a Poisson process), seeded; none at rate infinity. */
final class PoissonArrivals {
  private final double ratePerSecond;
  private final Random random;

  PoissonArrivals(double ratePerSecond, long seed) {
    if (!(ratePerSecond > 0)) throw new IllegalArgumentException("--request-rate must be > 0, got " + ratePerSecond);
    this.ratePerSecond = ratePerSecond;
    this.random = new Random(seed);
  }

  long nextGapNanos() {
    if (Double.isInfinite(ratePerSecond)) return 0;
    return (long) (-Math.log(1 - random.nextDouble()) / ratePerSecond * 1e9);
  }
}

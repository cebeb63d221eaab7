package barista.engine.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import barista.engine.checkpoint.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class RandomWeightsTest {

  private static final RandomWeights.Init UNIT = new RandomWeights.Init(0, 1);

  @Test
  void valuesDoNotDependOnHowTheTensorIsChunked() {
    RandomWeights random = new RandomWeights(5);
    ByteBuffer whole = ByteBuffer.allocate(400).order(ByteOrder.LITTLE_ENDIAN);
    random.fill("w", UNIT, DType.F32, 0, 100, whole);
    ByteBuffer pieces = ByteBuffer.allocate(400).order(ByteOrder.LITTLE_ENDIAN);
    random.fill("w", UNIT, DType.F32, 0, 37, pieces);
    random.fill("w", UNIT, DType.F32, 37, 63, pieces);
    assertEquals(whole.flip(), pieces.flip());
  }

  @Test
  void seedAndNameChangeTheValues() {
    assertNotEquals(values(1, "w", UNIT, 0), values(2, "w", UNIT, 0));
    assertNotEquals(values(1, "w", UNIT, 0), values(1, "v", UNIT, 0));
    assertEquals(values(1, "w", UNIT, 0), values(1, "w", UNIT, 0));
  }

  @Test
  void hasTheRequestedMeanAndStandardDeviation() {
    int n = 200_000;
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    new RandomWeights(3).fill("w", new RandomWeights.Init(1, 0.1), DType.F32, 0, n, b);
    double sum = 0;
    double sumSquares = 0;
    for (int i = 0; i < n; i++) {
      double v = b.getFloat(4 * i);
      sum += v;
      sumSquares += v * v;
    }
    double mean = sum / n;
    assertEquals(1, mean, 0.002);
    assertEquals(0.1, Math.sqrt(sumSquares / n - mean * mean), 0.002);
  }

  private static ByteBuffer values(long seed, String name, RandomWeights.Init init, long start) {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    new RandomWeights(seed).fill(name, init, DType.BF16, start, 32, b);
    return b.flip();
  }
}

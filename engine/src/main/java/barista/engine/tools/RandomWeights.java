package barista.engine.tools;

import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.DTypes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Deterministic pseudo-random tensor values: element i of tensor "name" depends only on (seed, name, i),
 * through integer hashing and float arithmetic that Java specifies exactly, so any machine, thread count
 * or chunking produces the same bytes.
 */
final class RandomWeights {

  /** Values are mean + std * g, with g approximately standard normal. */
  record Init(double mean, double std) {}

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  /** Standard deviation of a sum of four uniform 16-bit integers: sqrt(4 * (65536^2 - 1) / 12). */
  private static final double IRWIN_HALL_STD = StrictMath.sqrt(4 * (65536.0 * 65536.0 - 1) / 12);
  private static final double IRWIN_HALL_MEAN = 4 * 65535 / 2.0;

  private final long seed;

  RandomWeights(long seed) {
    this.seed = seed;
  }

  /** Writes elements [start, start + count) of the tensor into out (little-endian) at out's position. */
  void fill(String name, Init init, DType dtype, long start, int count, ByteBuffer out) {
    long base = mix(seed ^ fnv1a(name));
    double scale = init.std() / IRWIN_HALL_STD;
    double mean = init.mean();
    int at = out.position();
    for (int i = 0; i < count; i++) {
      float value = (float) (mean + scale * (irwinHallSum(mix(base + (start + i) * GOLDEN)) - IRWIN_HALL_MEAN));
      switch (dtype) {
        case F32 -> out.putFloat(at + 4 * i, value);
        case BF16 -> out.putShort(at + 2 * i, DTypes.f32ToBf16(value));
        case F16 -> out.putShort(at + 2 * i, DTypes.f32ToF16(value));
        default -> throw new IllegalArgumentException("random weights need a float dtype, not " + dtype);
      }
    }
    out.position(at + count * dtype.size());
  }

  /** Sum of the four 16-bit parts: an approximately normal integer (Irwin-Hall), with no transcendental functions. */
  private static long irwinHallSum(long bits) {
    return (bits & 0xffff) + ((bits >>> 16) & 0xffff) + ((bits >>> 32) & 0xffff) + (bits >>> 48);
  }

  /** SplitMix64's finalizer. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** 64-bit FNV-1a of the UTF-8 name: a fixed hash, independent of the JVM. */
  private static long fnv1a(String name) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    return hash;
  }
}

package barista.engine.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.stream.IntStream;

/** Conversions between the 16- and 32-bit float formats, per element and for whole tensors. */
public final class DTypes {

  /** Elements converted per bulk get/put; small enough to stay in cache. */
  private static final int CHUNK = 1 << 14;

  /**
   * Elements a tensor conversion hands to one task of the common pool: a whole checkpoint (R1's 1.8 billion bf16
   * weights to f16) converted on one thread kept the server from starting for seconds.
   */
  private static final int RANGE = 1 << 20;

  /** All 65536 f16 values decoded once: a lookup beats branching on every element. */
  private static final float[] F16_TO_F32 = new float[1 << 16];
  /** All 65536 bf16 values as f16 (bf16ToF16 once each): a lookup instead of a rounding per element. */
  private static final short[] BF16_TO_F16 = new short[1 << 16];

  static {
    for (int h = 0; h < F16_TO_F32.length; h++) F16_TO_F32[h] = decodeF16(h);
    for (int b = 0; b < BF16_TO_F16.length; b++) BF16_TO_F16[b] = f32ToF16(bf16ToF32((short) b));
  }

  private DTypes() {}

  public static float bf16ToF32(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** Rounds to nearest, ties to even; NaN stays a (quiet) NaN. */
  public static short f32ToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }

  public static float f16ToF32(short bits) {
    return F16_TO_F32[bits & 0xffff];
  }

  /** Rounds to nearest, ties to even, producing subnormals, infinities on overflow, and quiet NaNs. */
  public static short f32ToF16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    int e = exp - 127 + 15; // biased f16 exponent
    if (e >= 0x1f) return (short) (sign | 0x7c00);
    if (e <= 0) {
      // Subnormal result: value = full * 2^(exp-150) = m * 2^-24, so m = full >> (14 - e).
      if (e < -10) return (short) sign; // below half the smallest subnormal
      int full = mant | 0x800000;
      int shift = 14 - e;
      return (short) (sign | roundShift(full, shift));
    }
    // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
    return (short) (sign | roundShift((e << 23) | mant, 13));
  }

  public static short bf16ToF16(short bits) {
    return BF16_TO_F16[bits & 0xffff];
  }

  /** The tensor as f32: a direct little-endian buffer, the raw bytes themselves when already F32. */
  public static ByteBuffer toF32(TensorInfo info, ByteBuffer raw) {
    ByteBuffer in = checked(info, raw);
    if (info.dtype() == DType.F32 && in.isDirect()) return in;
    ByteBuffer out = allocate(info.numel() * 4, info);
    if (info.dtype() == DType.F32) {
      out.asFloatBuffer().put(in.asFloatBuffer());
      return out;
    }
    boolean bf16 = info.dtype() == DType.BF16;
    inRanges((int) info.numel(), (from, n) -> {
      ShortBuffer src = in.asShortBuffer();
      FloatBuffer dst = out.asFloatBuffer();
      short[] s = new short[CHUNK];
      float[] f = new float[CHUNK];
      for (int at = from; at < from + n; at += CHUNK) {
        int m = Math.min(CHUNK, from + n - at);
        src.get(at, s, 0, m);
        if (bf16) {
          for (int i = 0; i < m; i++) f[i] = Float.intBitsToFloat((s[i] & 0xffff) << 16);
        } else {
          for (int i = 0; i < m; i++) f[i] = F16_TO_F32[s[i] & 0xffff];
        }
        dst.put(at, f, 0, m);
      }
    });
    return out;
  }

  /** The tensor as f16: a direct little-endian buffer, the raw bytes themselves when already F16. */
  public static ByteBuffer toF16(TensorInfo info, ByteBuffer raw) {
    return toF16(info, raw, null);
  }

  /**
   * The tensor as f16, converted into {@code reuse} when it is a direct buffer large enough (its first bytes, as a
   * little-endian slice; its earlier contents overwritten), else into a new one; the raw bytes themselves when
   * already F16 and direct.
   */
  public static ByteBuffer toF16(TensorInfo info, ByteBuffer raw, ByteBuffer reuse) {
    ByteBuffer in = checked(info, raw);
    if (info.dtype() == DType.F16 && in.isDirect()) return in;
    long bytes = info.numel() * 2;
    ByteBuffer out = reuse != null && reuse.isDirect() && reuse.capacity() >= bytes
        ? reuse.duplicate().clear().limit((int) bytes).slice().order(ByteOrder.LITTLE_ENDIAN)
        : allocate(bytes, info);
    if (info.dtype() == DType.F16) {
      out.asShortBuffer().put(in.asShortBuffer());
      return out;
    }
    boolean bf16 = info.dtype() == DType.BF16;
    inRanges((int) info.numel(), (from, n) -> {
      ShortBuffer dst = out.asShortBuffer();
      short[] s = new short[CHUNK];
      if (bf16) {
        ShortBuffer src = in.asShortBuffer();
        for (int at = from; at < from + n; at += CHUNK) {
          int m = Math.min(CHUNK, from + n - at);
          src.get(at, s, 0, m);
          for (int i = 0; i < m; i++) s[i] = BF16_TO_F16[s[i] & 0xffff];
          dst.put(at, s, 0, m);
        }
      } else {
        FloatBuffer src = in.asFloatBuffer();
        float[] f = new float[CHUNK];
        for (int at = from; at < from + n; at += CHUNK) {
          int m = Math.min(CHUNK, from + n - at);
          src.get(at, f, 0, m);
          for (int i = 0; i < m; i++) s[i] = f32ToF16(f[i]);
          dst.put(at, s, 0, m);
        }
      }
    });
    return out;
  }

  private interface Range {
    void convert(int from, int n);
  }

  /** Elements [0, n) in ranges of {@link #RANGE}, on the common pool when there are several. */
  private static void inRanges(int n, Range range) {
    int ranges = (n + RANGE - 1) / RANGE;
    if (ranges <= 1) {
      range.convert(0, n);
      return;
    }
    IntStream.range(0, ranges).parallel().forEach(r -> range.convert(r * RANGE, Math.min(RANGE, n - r * RANGE)));
  }

  /** value >> shift, rounded to nearest with ties to even. */
  private static int roundShift(int value, int shift) {
    int kept = value >>> shift;
    int rest = value & ((1 << shift) - 1);
    int half = 1 << (shift - 1);
    if (rest > half || (rest == half && (kept & 1) != 0)) kept++;
    return kept;
  }

  private static float decodeF16(int h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0) {
      float magnitude = mant * 0x1p-24f; // exact: subnormal (or zero) = mant * 2^-24
      return sign != 0 ? -magnitude : magnitude;
    }
    if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  private static ByteBuffer checked(TensorInfo info, ByteBuffer raw) {
    if (!info.dtype().isFloat()) {
      throw new CheckpointException("tensor " + info.name() + " in " + info.file() + " has dtype "
          + info.dtype() + ", not a float type");
    }
    if (raw.remaining() != info.byteLength()) {
      throw new IllegalArgumentException("tensor " + info.name() + ": buffer has " + raw.remaining()
          + " bytes, expected " + info.byteLength());
    }
    return raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ByteBuffer allocate(long bytes, TensorInfo info) {
    if (bytes > Integer.MAX_VALUE) {
      throw new CheckpointException("tensor " + info.name() + " in " + info.file() + " is too large to convert ("
          + bytes + " bytes)");
    }
    return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}

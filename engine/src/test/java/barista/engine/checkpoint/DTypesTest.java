package barista.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DTypesTest {

  @Test
  void everyF16SurvivesARoundTripThroughF32() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      int h = bits;
      float f = DTypes.f16ToF32((short) h);
      if (Float.isNaN(f)) {
        assertTrue((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0);
        assertTrue(isF16NaN(DTypes.f32ToF16(f)));
      } else {
        assertEquals(h, DTypes.f32ToF16(f) & 0xffff, () -> Integer.toHexString(h));
      }
    }
  }

  @Test
  void decodesKnownF16Values() {
    assertEquals(1.0f, DTypes.f16ToF32((short) 0x3c00));
    assertEquals(-2.0f, DTypes.f16ToF32((short) 0xc000));
    assertEquals(65504f, DTypes.f16ToF32((short) 0x7bff));
    assertEquals(0x1p-14f, DTypes.f16ToF32((short) 0x0400), "smallest normal");
    assertEquals(0x1p-24f, DTypes.f16ToF32((short) 0x0001), "smallest subnormal");
    assertEquals(1023 * 0x1p-24f, DTypes.f16ToF32((short) 0x03ff), "largest subnormal");
    assertEquals(Float.POSITIVE_INFINITY, DTypes.f16ToF32((short) 0x7c00));
    assertEquals(Float.NEGATIVE_INFINITY, DTypes.f16ToF32((short) 0xfc00));
    assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(DTypes.f16ToF32((short) 0x8000)));
  }

  @Test
  void roundsToNearestEvenIncludingSubnormalsAndOverflow() {
    assertF16(0x3c00, 1 + 0x1p-11f); // halfway between 1 and 1 + 2^-10: stays on the even 1
    assertF16(0x3c02, 1 + 3 * 0x1p-11f); // halfway between 0x3c01 and 0x3c02: goes to even 0x3c02
    assertF16(0x3c01, 1 + 0x1p-11f + 0x1p-20f); // just above halfway
    assertF16(0x0000, 0x1p-25f); // half the smallest subnormal ties to zero
    assertF16(0x0001, 0x1p-25f + 0x1p-40f);
    assertF16(0x0002, 3 * 0x1p-25f); // 1.5 subnormal steps ties to 2
    assertF16(0x0000, 0x1p-26f);
    assertF16(0x0400, 0x1p-14f - 0x1p-26f); // rounds up out of the subnormals into the smallest normal
    assertF16(0x7bff, 65519f);
    assertF16(0x7c00, 65520f); // halfway to 65536 rounds to even, which is infinity
    assertF16(0x7c00, 1e10f);
    assertF16(0xfc00, -1e10f);
    assertF16(0x8000, -0f);
    assertF16(0xbc00, -1f);
    assertF16(0x7c00, Float.POSITIVE_INFINITY);
    assertF16(0xfc00, Float.NEGATIVE_INFINITY);
    assertTrue(isF16NaN(DTypes.f32ToF16(Float.NaN)));
    assertTrue(isF16NaN(DTypes.f32ToF16(Float.intBitsToFloat(0x7f800001)))); // low payload bits must not make it inf
  }

  @Test
  void f32ToF16PicksTheNearestValue() {
    Random random = new Random(7);
    for (int n = 0; n < 200_000; n++) {
      // Magnitudes from deep subnormal to the top of the f16 range.
      float f = (float) (random.nextDouble() * Math.pow(2, -26 + random.nextInt(42)));
      if (f >= 65504) continue;
      int h = DTypes.f32ToF16(f);
      double err = Math.abs(f - DTypes.f16ToF32((short) h));
      for (int neighbour : new int[] {h - 1, h + 1}) {
        if (neighbour < 0 || neighbour > 0x7bff) continue;
        double other = Math.abs(f - DTypes.f16ToF32((short) neighbour));
        assertTrue(err < other || (err == other && (h & 1) == 0), () -> f + " -> " + Integer.toHexString(h));
      }
    }
  }

  @Test
  void bf16IsTheHighHalfOfF32() {
    assertEquals(1.0f, DTypes.bf16ToF32((short) 0x3f80));
    assertEquals(-2.0f, DTypes.bf16ToF32((short) 0xc000));
    assertEquals(Float.POSITIVE_INFINITY, DTypes.bf16ToF32((short) 0x7f80));
    assertEquals((short) 0x3f80, DTypes.f32ToBf16(1 + 0x1p-8f)); // tie to even
    assertEquals((short) 0x3f82, DTypes.f32ToBf16(1 + 3 * 0x1p-8f)); // tie to even, upwards
    assertEquals((short) 0x3f81, DTypes.f32ToBf16(1 + 0x1p-8f + 0x1p-20f));
    assertTrue(Float.isNaN(DTypes.bf16ToF32(DTypes.f32ToBf16(Float.intBitsToFloat(0x7f800001)))));
    assertEquals((short) 0x3c00, DTypes.bf16ToF16((short) 0x3f80));
    assertEquals((short) 0x7c00, DTypes.bf16ToF16((short) 0x4780), "65536 overflows f16");
  }

  @Test
  void convertsTensorsIntoDirectLittleEndianBuffers() {
    float[] values = {1f, -2.5f, 0.1f, 3e-6f, 1e5f};
    ByteBuffer bf16 = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) bf16.putShort(DTypes.f32ToBf16(v));
    TensorInfo info = info(DType.BF16, values.length);

    ByteBuffer f32 = DTypes.toF32(info, bf16.flip());
    assertTrue(f32.isDirect());
    assertEquals(ByteOrder.LITTLE_ENDIAN, f32.order());
    ByteBuffer f16 = DTypes.toF16(info, bf16);
    assertTrue(f16.isDirect());
    for (int i = 0; i < values.length; i++) {
      float viaBf16 = DTypes.bf16ToF32(DTypes.f32ToBf16(values[i]));
      assertEquals(viaBf16, f32.getFloat(4 * i));
      assertEquals(DTypes.f32ToF16(viaBf16), f16.getShort(2 * i));
    }

    ByteBuffer back = DTypes.toF32(info(DType.F16, values.length), f16);
    ByteBuffer halfAgain = DTypes.toF16(info(DType.F32, values.length), back);
    for (int i = 0; i < values.length; i++) assertEquals(f16.getShort(2 * i), halfAgain.getShort(2 * i));
  }

  /**
   * A tensor of several conversion ranges (converted on the common pool) and a ragged tail comes out as the
   * per-element conversions say, at every index, for each source dtype and a heap or a direct source.
   */
  @Test
  void largeTensorsConvertRangeByRangeAsElementByElement() {
    int n = 3 * (1 << 20) + 12_345;
    Random random = new Random(3);
    for (DType dtype : new DType[] {DType.BF16, DType.F16, DType.F32}) {
      for (boolean direct : new boolean[] {false, true}) {
        ByteBuffer in = (direct ? ByteBuffer.allocateDirect(n * dtype.size()) : ByteBuffer.allocate(n * dtype.size()))
            .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          if (dtype == DType.F32) {
            in.putFloat(4 * i, (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 8)));
          } else {
            in.putShort(2 * i, (short) random.nextInt(1 << 16));
          }
        }
        TensorInfo info = info(dtype, n);
        ByteBuffer f16 = DTypes.toF16(info, in);
        ByteBuffer f32 = DTypes.toF32(info, in);
        for (int i = 0; i < n; i++) {
          float value = dtype == DType.F32 ? in.getFloat(4 * i)
              : dtype == DType.BF16 ? DTypes.bf16ToF32(in.getShort(2 * i)) : DTypes.f16ToF32(in.getShort(2 * i));
          short half = dtype == DType.F16 ? in.getShort(2 * i) : DTypes.f32ToF16(value);
          if (half != f16.getShort(2 * i)) {
            throw new AssertionError(dtype + (direct ? " direct" : " heap") + " element " + i + ": f16 "
                + f16.getShort(2 * i) + ", expected " + half);
          }
          if (Float.floatToRawIntBits(value) != Float.floatToRawIntBits(f32.getFloat(4 * i))) {
            throw new AssertionError(dtype + (direct ? " direct" : " heap") + " element " + i + ": f32 "
                + f32.getFloat(4 * i) + ", expected " + value);
          }
        }
      }
    }
  }

  /**
   * A direct buffer large enough carries the conversion (its first bytes, earlier contents overwritten), one too
   * small or on the heap does not, and an F16 tensor in direct memory is still its own bytes.
   */
  @Test
  void aReusedBufferCarriesTheConversion() {
    int n = 1000;
    ByteBuffer bf16 = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) bf16.putShort(2 * i, DTypes.f32ToBf16(i * 0.37f - 100));
    ByteBuffer fresh = DTypes.toF16(info(DType.BF16, n), bf16);
    ByteBuffer reuse = ByteBuffer.allocateDirect(4 * n);
    for (int i = 0; i < 4 * n; i++) reuse.put(i, (byte) 0x55);
    ByteBuffer out = DTypes.toF16(info(DType.BF16, n), bf16, reuse);
    assertEquals(2 * n, out.remaining());
    assertEquals(ByteOrder.LITTLE_ENDIAN, out.order());
    for (int i = 0; i < n; i++) {
      assertEquals(fresh.getShort(2 * i), out.getShort(2 * i));
      assertEquals(fresh.getShort(2 * i), reuse.order(ByteOrder.LITTLE_ENDIAN).getShort(2 * i), "in the reused bytes");
    }
    assertEquals((byte) 0x55, reuse.get(2 * n), "nothing past the tensor written");
    ByteBuffer small = ByteBuffer.allocateDirect(2 * n - 2);
    assertTrue(DTypes.toF16(info(DType.BF16, n), bf16, small) != small, "too small: a new buffer");
    ByteBuffer heap = ByteBuffer.allocate(4 * n);
    assertTrue(DTypes.toF16(info(DType.BF16, n), bf16, heap).isDirect(), "a heap buffer is not reused");
    ByteBuffer f16 = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer shared = DTypes.toF16(info(DType.F16, n), f16, reuse);
    f16.putShort(2, (short) 0x3c00);
    assertEquals((short) 0x3c00, shared.getShort(2), "F16 in direct memory: its own bytes, not the reused buffer");
  }

  @Test
  void matchingDirectBufferIsSharedNotCopied() {
    ByteBuffer stored = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 1f).putFloat(4, 2f);
    ByteBuffer f32 = DTypes.toF32(info(DType.F32, 2), stored);
    stored.putFloat(0, 42f);
    assertEquals(42f, f32.getFloat(0));

    ByteBuffer halves = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer f16 = DTypes.toF16(info(DType.F16, 2), halves);
    halves.putShort(2, (short) 0x3c00);
    assertEquals((short) 0x3c00, f16.getShort(2));
  }

  @Test
  void rejectsIntegerTensorsAndWrongLengths() {
    assertThrows(CheckpointException.class, () -> DTypes.toF32(info(DType.I32, 2), ByteBuffer.allocate(8)));
    assertThrows(IllegalArgumentException.class, () -> DTypes.toF16(info(DType.F32, 2), ByteBuffer.allocate(4)));
  }

  private static TensorInfo info(DType dtype, int n) {
    return new TensorInfo("t", dtype, new long[] {n}, Path.of("t.safetensors"), 0, (long) n * dtype.size());
  }

  private static void assertF16(int expected, float f) {
    assertEquals(expected, DTypes.f32ToF16(f) & 0xffff, () -> f + " -> " + Integer.toHexString(DTypes.f32ToF16(f) & 0xffff));
  }

  private static boolean isF16NaN(short h) {
    return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
  }
}

package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.linear.MethodLinear;
import barista.engine.tools.AwqWeights;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AwqPackingTest {

  /** Row r's word holds nibbles r, r+1, ..., r+7 at nibble positions 0..7 (no carries: all below 16). */
  private static final int[] WORDS = new int[8];

  static {
    for (int r = 0; r < 8; r++) WORDS[r] = 0x76543210 + r * 0x11111111;
  }

  /** AutoAWQ's GEMM order: column c of a word is nibble NIBBLE_OF_COLUMN[c] (its packing order reversed). */
  private static final int[] NIBBLE_OF_COLUMN = {0, 4, 1, 5, 2, 6, 3, 7};

  /** Nibble i lands in column ORDER[i] = [0,2,4,6,1,3,5,7][i], so column c reads nibble [0,4,1,5,2,6,3,7][c]. */
  private static final int[][] EXPECTED = {
    {0, 4, 1, 5, 2, 6, 3, 7},
    {1, 5, 2, 6, 3, 7, 4, 8},
    {2, 6, 3, 7, 4, 8, 5, 9},
    {3, 7, 4, 8, 5, 9, 6, 10},
    {4, 8, 5, 9, 6, 10, 7, 11},
    {5, 9, 6, 10, 7, 11, 8, 12},
    {6, 10, 7, 11, 8, 12, 9, 13},
    {7, 11, 8, 12, 9, 13, 10, 14},
  };

  @Test
  void unpacksTheInterleavedNibbleOrder() {
    int[] values = AwqPacking.unpack(WORDS, 8, 8);
    for (int r = 0; r < 8; r++) {
      for (int c = 0; c < 8; c++) assertEquals(EXPECTED[r][c], values[r * 8 + c], "row " + r + " column " + c);
    }
    // A lone 9 in column 1 sits in nibble 4 (bits 16..19).
    assertEquals(0x0009_0000, AwqPacking.pack(new int[] {0, 9, 0, 0, 0, 0, 0, 0}, 1, 8)[0]);
    assertArrayEquals(WORDS, AwqPacking.pack(values, 8, 8));
  }

  /** Our device layout: byte (r, o) holds row r low and row r + in/2 high. */
  @Test
  void nibblePairsHoldRowsFromBothHalves() {
    byte[] pairs = AwqPacking.toNibblePairs(WORDS, 8, 8);
    assertEquals(32, pairs.length);
    for (int r = 0; r < 4; r++) {
      for (int o = 0; o < 8; o++) {
        assertEquals(EXPECTED[r][o] | EXPECTED[r + 4][o] << 4, pairs[r * 8 + o] & 0xff, "byte " + r + ", " + o);
      }
    }
    assertEquals(0x84, pairs[1] & 0xff); // rows 0 and 4 of column 1: 4 and 8
  }

  /**
   * quantize -> pack (AWQ words) -> repack and unpack on the device -> dequantize, against (q - z) * s computed in
   * float64 from the packed words; the dequantized weight is within one scale step of the original.
   */
  @Test
  void roundTripThroughTheDeviceLayerMatchesFloat64() {
    int out = 24;
    int in = 64;
    int group = 16;
    Random random = new Random(7);
    float[] w = new float[out * in];
    for (int i = 0; i < w.length; i++) w[i] = (float) random.nextGaussian() * 0.1f;
    AwqWeights a = AwqWeights.quantize(w, out, in, group);
    int[] qweight = AwqPacking.pack(a.q(), in, out);
    int[] qzeros = AwqPacking.pack(a.zeros(), in / group, out);

    try (NDManager m = QuantTestModels.cpu()) {
      float[] zeros = new float[in / group * out];
      int[] z = AwqPacking.unpack(qzeros, in / group, out);
      for (int i = 0; i < z.length; i++) zeros[i] = z[i];
      float[] bias = new float[out];
      for (int o = 0; o < out; o++) bias[o] = o;
      MethodLinear<AwqDeviceWeight> layer = new MethodLinear<>(AwqDeviceWeight.nibblePairs(
          m.create(ByteBuffer.wrap(AwqPacking.toNibblePairs(qweight, in, out)), new Shape(in / 2, out), DataType.UINT8),
          m.create(zeros, new Shape(in / group, out)), m.create(a.scales(), new Shape(in / group, out)), m.create(bias),
          group), DjlAwqMethod.INSTANCE);
      assertFalse(layer.captureSafe(), "the DJL reference divides by host scalars");
      NDArray identity = m.eye(in);
      float[] dequantized = layer.apply(identity).toFloatArray(); // x = I: row i of the output is W[i] + bias
      for (int i = 0; i < in; i++) {
        for (int o = 0; o < out; o++) {
          int g = i / group;
          double q = (qweight[i * (out / 8) + o / 8] >>> (4 * NIBBLE_OF_COLUMN[o % 8])) & 0xf;
          double zero = (qzeros[g * (out / 8) + o / 8] >>> (4 * NIBBLE_OF_COLUMN[o % 8])) & 0xf;
          double s = a.scales()[g * out + o];
          double expected = (q - zero) * s;
          assertEquals(expected + o, dequantized[i * out + o], 1e-5, "W[" + i + "][" + o + "]");
          assertTrue(Math.abs(expected - w[o * in + i]) <= s, "quantization error at " + i + ", " + o);
        }
      }
      assertEquals(in * out / 2 + 2L * (in / group) * out * 4 + out * 4, layer.deviceBytes());
      layer.close();
    }
  }

  /**
   * The kernels' layout holds every value of the AutoAWQ words at its input and output, eight inputs of one output
   * per word, and two adjacent inputs in the low nibbles of the two half-words after one shift (what the kernels'
   * magic-number conversion reads).
   */
  @Test
  void kernelLayoutHoldsEveryValue() {
    int in = 32;
    int out = 16;
    Random random = new Random(3);
    int[] values = new int[in * out];
    for (int i = 0; i < values.length; i++) values[i] = random.nextInt(16);
    int[] qweight = AwqPacking.pack(values, in, out);
    int[] kernel = AwqPacking.toKernelLayout(qweight, in, out);
    assertEquals(in * out / 8, kernel.length);
    for (int i = 0; i < in; i++) {
      for (int o = 0; o < out; o++) {
        assertEquals(values[i * out + o], AwqPacking.kernelValue(kernel, in, i, o), "value at " + i + ", " + o);
      }
    }
    for (int o = 0; o < out; o++) {
      for (int j = 0; j < in / 8; j++) {
        int word = kernel[o * (in / 8) + j];
        for (int pair = 0; pair < 4; pair++) {
          int bits = (word >>> (4 * pair)) & 0x000f000f;
          assertEquals(values[(8 * j + 2 * pair) * out + o], bits & 0xf, "low half of pair " + pair);
          assertEquals(values[(8 * j + 2 * pair + 1) * out + o], bits >>> 16, "high half of pair " + pair);
        }
      }
    }
  }
}

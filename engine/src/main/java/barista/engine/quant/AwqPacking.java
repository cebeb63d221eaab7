package barista.engine.quant;

import java.util.stream.IntStream;

/**
 * AutoAWQ "GEMM" packing: eight 4-bit values per int32 along the output dimension, interleaved. Nibble {@code i}
 * (bits 4i..4i+3) of word {@code j} holds column {@code 8j + ORDER[i]}; column {@code 8j + m} is nibble
 * {@code REVERSE[m]}. qweight and qzeros use the same order.
 */
public final class AwqPacking {
  private static final int[] ORDER = {0, 2, 4, 6, 1, 3, 5, 7};
  private static final int[] REVERSE = {0, 4, 1, 5, 2, 6, 3, 7};

  private AwqPacking() {}

  /** Packs {@code values} ({@code [rows, cols]} row-major, each 0..15) into {@code [rows, cols / 8]} words. */
  public static int[] pack(int[] values, int rows, int cols) {
    int words = cols / 8;
    int[] packed = new int[rows * words];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < words; j++) {
        int word = 0;
        for (int i = 0; i < 8; i++) word |= (values[r * cols + 8 * j + ORDER[i]] & 0xf) << (4 * i);
        packed[r * words + j] = word;
      }
    }
    return packed;
  }

  /** The value of column {@code col} in the packed row {@code words[rowStart ..]}. */
  public static int value(int[] words, int rowStart, int col) {
    return (words[rowStart + col / 8] >>> (4 * REVERSE[col % 8])) & 0xf;
  }

  /** Unpacks {@code [rows, cols / 8]} words into {@code [rows, cols]} values 0..15. */
  public static int[] unpack(int[] packed, int rows, int cols) {
    int words = cols / 8;
    int[] values = new int[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) values[r * cols + c] = value(packed, r * words, c);
    }
    return values;
  }

  /**
   * Our device layout of a {@code [in, out]} 4-bit matrix: {@code [in / 2, out]} bytes, byte {@code (r, o)} holding
   * row {@code r} in its low nibble and row {@code r + in / 2} in its high one, so that unpacking is
   * {@code concat(low, high)} along the input dimension (no interleaving op needed).
   */
  public static byte[] toNibblePairs(int[] qweight, int in, int out) {
    int half = in / 2;
    int words = out / 8;
    byte[] pairs = new byte[half * out];
    IntStream.range(0, half).parallel().forEach(r -> {
      for (int o = 0; o < out; o++) {
        int low = value(qweight, r * words, o);
        int high = value(qweight, (r + half) * words, o);
        pairs[r * out + o] = (byte) (low | high << 4);
      }
    });
    return pairs;
  }

  /** Nibble slot {@code s} of a kernel-layout word holds input {@code 8j + KERNEL_ORDER[s]}. */
  private static final int[] KERNEL_ORDER = {0, 2, 4, 6, 1, 3, 5, 7};

  /**
   * libbarista_native's layout of a {@code [in, out]} 4-bit matrix (native/src/quantization/quant_kernels.h):
   * {@code [out, in / 8]} words, word {@code (o, j)} holding inputs {@code 8j .. 8j + 7} of output {@code o}, input
   * {@code 8j + KERNEL_ORDER[s]} in nibble slot {@code s}, so that one shift and mask yields two adjacent inputs
   * as an fp16 pair.
   */
  public static int[] toKernelLayout(int[] qweight, int in, int out) {
    int words = out / 8;
    int perRow = in / 8;
    int[] packed = new int[out * perRow];
    IntStream.range(0, out).parallel().forEach(o -> {
      for (int j = 0; j < perRow; j++) {
        int word = 0;
        for (int s = 0; s < 8; s++) word |= value(qweight, (8 * j + KERNEL_ORDER[s]) * words, o) << (4 * s);
        packed[o * perRow + j] = word;
      }
    });
    return packed;
  }

  /** The value of input {@code i}, output {@code o} of a {@link #toKernelLayout} matrix. */
  public static int kernelValue(int[] packed, int in, int i, int o) {
    int word = packed[o * (in / 8) + i / 8];
    int slot = 0;
    while (KERNEL_ORDER[slot] != i % 8) slot++;
    return (word >>> (4 * slot)) & 0xf;
  }
}

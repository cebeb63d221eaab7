package barista.engine.quant;

/**
 * compressed-tensors' {@code pack-quantized} layout for 8-bit weights: four values per int32 along the input
 * dimension, value {@code 4j + k} in bits {@code 8k..8k+7}, stored as {@code q + 128} (vLLM's uint8b128).
 */
public final class PackQuantized {
  private PackQuantized() {}

  /** {@code q [rows, cols]} to {@code [rows, cols / 4]} words. */
  public static int[] pack(byte[] q, int rows, int cols) {
    int words = cols / 4;
    int[] packed = new int[rows * words];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < words; j++) {
        int word = 0;
        for (int k = 0; k < 4; k++) word |= ((q[r * cols + 4 * j + k] + 128) & 0xff) << (8 * k);
        packed[r * words + j] = word;
      }
    }
    return packed;
  }

  /** {@code [rows, cols / 4]} words back to {@code q [rows, cols]}. */
  public static byte[] unpack(int[] packed, int rows, int cols) {
    byte[] q = new byte[rows * cols];
    int words = cols / 4;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        q[r * cols + c] = (byte) (((packed[r * words + c / 4] >>> (8 * (c % 4))) & 0xff) - 128);
      }
    }
    return q;
  }
}

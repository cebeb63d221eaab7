package barista.engine.checkpoint;

import java.nio.file.Path;
import java.util.Arrays;

/** Where one tensor lives: its file, absolute byte offset there, and byte length. */
public record TensorInfo(String name, DType dtype, long[] shape, Path file, long offset, long byteLength) {

  public long numel() {
    return numel(shape);
  }

  /** The shape as "[a, b]" for messages. */
  public String shapeString() {
    return Arrays.toString(shape);
  }

  /** Elements in a tensor of this shape; throws ArithmeticException past a long. */
  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) n = Math.multiplyExact(n, d);
    return n;
  }
}

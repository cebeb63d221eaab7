package barista.engine.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

/**
 * Not a test: how fast a bf16 weight converts to f16 on the host, as the CUDA path loads a checkpoint (R1's gate/up
 * projection, 27.5 million elements, by default). Usage: java -cp ... barista.engine.checkpoint.ConversionBench
 * [elements] [rounds]
 */
public final class ConversionBench {
  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1536 * 17920;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    ByteBuffer raw = ByteBuffer.allocateDirect(n * 2).order(ByteOrder.LITTLE_ENDIAN);
    Random random = new Random(1);
    for (int i = 0; i < n; i++) raw.putShort(2 * i, DTypes.f32ToBf16((float) random.nextGaussian() * 0.02f));
    TensorInfo info = new TensorInfo("w", DType.BF16, new long[] {n}, Path.of("w.safetensors"), 0, 2L * n);
    for (int round = 0; round < rounds; round++) {
      long start = System.nanoTime();
      ByteBuffer f16 = DTypes.toF16(info, raw);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf("round %d: %d bf16 elements to f16 in %.1f ms, %.0f MB/s of bf16 (%d)%n", round, n,
          seconds * 1e3, 2.0 * n / seconds / 1e6, f16.getShort(0));
    }
  }
}

package barista.server.cli;

import barista.engine.tools.CheckpointQuantizer;
import barista.engine.quant.Quantization;
import barista.server.progress.ProgressReporter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code barista quantize}: writes an AWQ-GEMM or compressed-tensors W8A16 copy of a 16-bit checkpoint. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
    description = "Quantize a 16-bit Hugging Face checkpoint: AWQ-GEMM 4-bit (round-to-nearest, group scales and "
        + "zero points) or compressed-tensors W8A16 (per-channel int8, pack-quantized).")
public final class QuantizeCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "16-bit model folder.") Path model;
  @Option(names = "--out", required = true, description = "Folder to write.") Path out;
  @Option(names = "--method", required = true, description = "awq or int8.") String method;
  @Option(names = "--group-size", description = "AWQ group size (default: 128, or the largest power of two "
      + "dividing every input dim).") Integer groupSize;

  @Override
  public Integer call() throws Exception {
    Quantization.Method m = switch (method.toLowerCase()) {
      case Quantization.AWQ -> Quantization.Method.AWQ;
      case Quantization.INT8 -> Quantization.Method.INT8;
      default -> throw new IllegalArgumentException("--method must be awq or int8, got " + method);
    };
    long start = System.nanoTime();
    ProgressReporter progress = ProgressReporter.onStderr("quantize");
    try {
      CheckpointQuantizer.quantize(model, out, m, groupSize, progress::bytesWritten);
    } finally {
      progress.finish();
    }
    System.err.printf("wrote %s (%s) in %.1f s%n", out, m == Quantization.Method.AWQ ? "AWQ-GEMM 4-bit"
        : "compressed-tensors W8A16", (System.nanoTime() - start) / 1e9);
    return 0;
  }
}

package barista.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import barista.engine.quant.Quantization;
import java.nio.file.Path;
import java.util.List;

/**
 * What the engine needs to start: the model, where and how to run it, and how much KV cache to keep.
 *
 * @param device where the model runs ({@link #deviceOf} reads {@code --device})
 * @param dtype FLOAT16 or FLOAT32, what the model computes in ({@link #dtypeOf} reads {@code --dtype})
 * @param maxModelLen 0: the model's max_position_embeddings
 * @param kvCacheSpaceGiB KV cache size on CPU
 * @param quantization the {@code --quantization} method, or null to follow the checkpoint
 * @param numGpuBlocksOverride 0: size the cache from memory; otherwise exactly this many blocks (tests)
 * @param cuda the CUDA path's options (graphs, native library)
 */
public record EngineConfig(
    Path model,
    Device device,
    DataType dtype,
    int maxModelLen,
    int blockSize,
    double gpuMemoryUtilization,
    double kvCacheSpaceGiB,
    int maxNumBatchedTokens,
    int maxNumSeqs,
    long seed,
    Quantization.Method quantization,
    int numGpuBlocksOverride,
    CudaOptions cuda) {

  /**
   * @param enforceEager never capture CUDA graphs (vLLM's {@code --enforce-eager})
   * @param graphSizes step sizes in tokens to capture; empty: vLLM V1's default (1, 2, 4, multiples of 8, from 256
   *     of 16, up to twice {@code --max-num-seqs}, at most 512); one value N: that pattern up to N; several: exactly
   *     those
   * @param nativeLibrary libbarista_native.so; null: the default locations (see barista.engine.cuda.CudaNative)
   */
  public record CudaOptions(boolean enforceEager, List<Integer> graphSizes, Path nativeLibrary) {
    public static final CudaOptions DEFAULT = new CudaOptions(false, List.of(), null);

    public CudaOptions {
      graphSizes = List.copyOf(graphSizes);
    }
  }

  /** The engine's options with the CUDA path's defaults. */
  public EngineConfig(Path model, Device device, DataType dtype, int maxModelLen, int blockSize,
      double gpuMemoryUtilization, double kvCacheSpaceGiB, int maxNumBatchedTokens, int maxNumSeqs,
      long seed, Quantization.Method quantization, int numGpuBlocksOverride) {
    this(model, device, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB, maxNumBatchedTokens,
        maxNumSeqs, seed, quantization, numGpuBlocksOverride, CudaOptions.DEFAULT);
  }

  public EngineConfig withCuda(CudaOptions c) {
    return new EngineConfig(model, device, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, seed, quantization, numGpuBlocksOverride, c);
  }

  /** The defaults of the launch options, on {@code device} in its {@code --dtype auto}. */
  public static EngineConfig defaults(Path model, Device device) {
    return new EngineConfig(model, device, dtypeOf("auto", device), 0, 16, 0.9, 4, 8192, 256, 0, null, 0);
  }

  public EngineConfig withBlocks(int blockSize, int numBlocks) {
    return new EngineConfig(model, device, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, seed, quantization, numBlocks, cuda);
  }

  public EngineConfig withMaxModelLen(int len) {
    return new EngineConfig(model, device, dtype, len, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, seed, quantization, numGpuBlocksOverride, cuda);
  }

  /** The device a {@code --device} value names: auto, cpu, cuda or cuda:N (auto: a GPU when one is visible). */
  public static Device deviceOf(String option) {
    int gpus = Engine.getEngine("PyTorch").getGpuCount();
    String n = option == null ? "auto" : option.toLowerCase();
    switch (n) {
      case "auto":
        return gpus > 0 ? Device.gpu() : Device.cpu();
      case "cpu":
        return Device.cpu();
      default:
        if (!n.startsWith("cuda")) {
          throw new IllegalArgumentException("--device must be auto, cpu, cuda or cuda:N, got " + option);
        }
        int id = n.equals("cuda") ? 0 : Integer.parseInt(n.substring(5));
        if (id >= gpus) {
          throw new IllegalArgumentException("--device " + option + ": " + gpus + " CUDA device(s) visible");
        }
        return Device.gpu(id);
    }
  }

  /** The type a {@code --dtype} value names on {@code device} (auto: float16 on a GPU, float32 on the CPU). */
  public static DataType dtypeOf(String option, Device device) {
    String n = option == null ? "auto" : option.toLowerCase();
    switch (n) {
      case "auto":
        return device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
      case "half":
      case "float16":
        return DataType.FLOAT16;
      case "float":
      case "float32":
        return DataType.FLOAT32;
      case "bfloat16":
        throw new IllegalArgumentException("--dtype bfloat16 is not supported (DJL 0.36 cannot hold bf16 tensors); "
            + "bf16 checkpoints load as float16 on CUDA and float32 on CPU: use --dtype auto");
      default:
        throw new IllegalArgumentException("--dtype must be auto, half, float16, float or float32, got " + option);
    }
  }
}

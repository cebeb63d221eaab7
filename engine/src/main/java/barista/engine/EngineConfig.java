package barista.engine;

import java.nio.file.Path;
import java.util.List;

/**
 * What the engine needs to start: the model, where and how to run it, and how much KV cache to keep.
 *
 * @param device "auto", "cpu", "cuda" or "cuda:N"
 * @param dtype "auto", "half"/"float16", "float"/"float32" ("bfloat16" is refused: DJL cannot hold it)
 * @param maxModelLen 0: the model's max_position_embeddings
 * @param kvCacheSpaceGiB KV cache size on CPU
 * @param numGpuBlocksOverride 0: size the cache from memory; otherwise exactly this many blocks (tests)
 * @param cuda the CUDA path's options (graphs, native library)
 */
public record EngineConfig(
    Path model,
    String device,
    String dtype,
    int maxModelLen,
    int blockSize,
    double gpuMemoryUtilization,
    double kvCacheSpaceGiB,
    int maxNumBatchedTokens,
    int maxNumSeqs,
    boolean enablePrefixCaching,
    long seed,
    String quantization,
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
  public EngineConfig(Path model, String device, String dtype, int maxModelLen, int blockSize,
      double gpuMemoryUtilization, double kvCacheSpaceGiB, int maxNumBatchedTokens, int maxNumSeqs,
      boolean enablePrefixCaching, long seed, String quantization, int numGpuBlocksOverride) {
    this(model, device, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB, maxNumBatchedTokens,
        maxNumSeqs, enablePrefixCaching, seed, quantization, numGpuBlocksOverride, CudaOptions.DEFAULT);
  }

  public EngineConfig withCuda(CudaOptions c) {
    return new EngineConfig(model, device, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, enablePrefixCaching, seed, quantization, numGpuBlocksOverride, c);
  }

  public static EngineConfig defaults(Path model) {
    return new EngineConfig(model, "auto", "auto", 0, 16, 0.9, 4, 8192, 256, true, 0, null, 0);
  }

  public EngineConfig withDevice(String d) {
    return new EngineConfig(model, d, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, enablePrefixCaching, seed, quantization, numGpuBlocksOverride, cuda);
  }

  public EngineConfig withBlocks(int blockSize, int numBlocks) {
    return new EngineConfig(model, device, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, enablePrefixCaching, seed, quantization, numBlocks, cuda);
  }

  public EngineConfig withMaxModelLen(int len) {
    return new EngineConfig(model, device, dtype, len, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, enablePrefixCaching, seed, quantization, numGpuBlocksOverride, cuda);
  }
}

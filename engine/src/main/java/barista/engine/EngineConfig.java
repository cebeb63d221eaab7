package barista.engine;

import java.nio.file.Path;

/**
 * What the engine needs to start: the model, where and how to run it, and how much KV cache to keep.
 *
 * @param device "auto", "cpu", "cuda" or "cuda:N"
 * @param dtype "auto", "half"/"float16", "float"/"float32" ("bfloat16" is refused: DJL cannot hold it)
 * @param maxModelLen 0: the model's max_position_embeddings
 * @param kvCacheSpaceGiB KV cache size on CPU
 * @param numGpuBlocksOverride 0: size the cache from memory; otherwise exactly this many blocks (tests)
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
    int numGpuBlocksOverride) {

  public static EngineConfig defaults(Path model) {
    return new EngineConfig(model, "auto", "auto", 0, 16, 0.9, 4, 8192, 256, true, 0, null, 0);
  }

  public EngineConfig withDevice(String d) {
    return new EngineConfig(model, d, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, enablePrefixCaching, seed, quantization, numGpuBlocksOverride);
  }

  public EngineConfig withBlocks(int blockSize, int numBlocks) {
    return new EngineConfig(model, device, dtype, maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, enablePrefixCaching, seed, quantization, numBlocks);
  }

  public EngineConfig withMaxModelLen(int len) {
    return new EngineConfig(model, device, dtype, len, blockSize, gpuMemoryUtilization, kvCacheSpaceGiB,
        maxNumBatchedTokens, maxNumSeqs, enablePrefixCaching, seed, quantization, numGpuBlocksOverride);
  }
}

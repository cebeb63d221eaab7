package barista.engine;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many KV blocks fit: on CPU, {@code --kv-cache-space} GiB; on CUDA, what {@code --gpu-memory-utilization} of
 * the device leaves after the weights and the activations of a profiling forward at {@code
 * --max-num-batched-tokens} (PyTorch's caching allocator keeps that peak reserved, so "used" includes it).
 */
final class KvCacheSizer {
  private static final Logger log = LoggerFactory.getLogger(KvCacheSizer.class);

  private KvCacheSizer() {}

  static int cpuBlocks(double kvCacheSpaceGiB, long blockBytes) {
    return (int) Math.min(Integer.MAX_VALUE, (long) (kvCacheSpaceGiB * (1L << 30)) / blockBytes);
  }

  /** @param reserveBytes kept free besides (the CUDA graphs' memory pool, captured after the cache exists) */
  static int gpuBlocks(Device device, double utilization, long blockBytes, long reserveBytes) {
    long[] usedTotal = gpuMemory(device);
    long budget = (long) (usedTotal[1] * utilization) - usedTotal[0] - reserveBytes;
    log.info("GPU memory: {} MiB in use after profiling, {} MiB total, {} MiB kept for CUDA graphs, {} MiB for the "
            + "KV cache at utilization {}", usedTotal[0] >> 20, usedTotal[1] >> 20, reserveBytes >> 20,
        Math.max(0, budget) >> 20, utilization);
    return (int) Math.max(0, Math.min(Integer.MAX_VALUE, budget / blockBytes));
  }

  /** {used, total} bytes: cudaMemGetInfo through DJL, else nvidia-smi. */
  private static long[] gpuMemory(Device device) {
    try {
      MemoryUsage m = CudaUtils.getGpuMemory(device);
      return new long[] {m.getUsed(), m.getMax()};
    } catch (RuntimeException | LinkageError e) {
      log.debug("cudaMemGetInfo unavailable ({}), asking nvidia-smi", e.toString());
    }
    try {
      Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=memory.used,memory.total",
          "--format=csv,noheader,nounits", "-i", String.valueOf(device.getDeviceId())).start();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String[] f = r.readLine().split(",");
        return new long[] {Long.parseLong(f[0].trim()) << 20, Long.parseLong(f[1].trim()) << 20};
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot read GPU memory (cudaMemGetInfo and nvidia-smi both failed): " + e, e);
    }
  }
}

package barista.engine.cuda;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libbarista_native (the {@code native/} module): CUDA streams and graphs, pinned staging memory and the fused
 * kernels of the forward pass, called on DJL's own arrays. A {@link PtNDArray} handle is a {@code torch::Tensor*}, so
 * arrays cross as handles and results come back as new handles wrapped in the caller's manager.
 *
 * <p>Where it is looked for, first found wins: {@code --native-library}, {@code $BARISTA_NATIVE_LIBRARY},
 * {@code lib/libbarista_native.so} beside the running jar's folder (the bundle layout) and
 * {@code native/build/libbarista_native.so} under the working directory (a source checkout after
 * {@code scripts/build-native.sh}). It links against libtorch, so it is loaded after DJL's engine started.
 */
public final class CudaNative {
  private static final Logger log = LoggerFactory.getLogger(CudaNative.class);
  public static final String FILE_NAME = "libbarista_native.so";
  public static final String ENV = "BARISTA_NATIVE_LIBRARY";

  /**
   * The JNI interface this code calls: the library's {@code version()} starts with "barista-native N ". Bumped
   * whenever an entry point is added or changes, so a stale build is refused at load with one clear message instead
   * of an UnsatisfiedLinkError in the middle of a graph capture.
   */
  static final int INTERFACE = 3;

  private static volatile String loaded; // version string once loaded
  private static volatile String failure; // why it is not loaded, once tried

  private CudaNative() {}

  /**
   * Loads the library once (DJL's PyTorch engine must be started). Returns empty when loaded, else why not (the
   * caller logs it once).
   */
  public static synchronized Optional<String> load(Path explicit) {
    if (loaded != null) return Optional.empty();
    if (failure != null && explicit == null) return Optional.of(failure);
    List<Path> candidates = new ArrayList<>();
    if (explicit != null) {
      if (!Files.isRegularFile(explicit)) return Optional.of("--native-library " + explicit + " does not exist");
      candidates.add(explicit);
    } else {
      String env = System.getenv(ENV);
      if (env != null && !env.isBlank()) candidates.add(Path.of(env));
      jarFolder().ifPresent(dir -> candidates.add(dir.resolveSibling("lib").resolve(FILE_NAME)));
      candidates.add(Path.of("native", "build", FILE_NAME).toAbsolutePath());
    }
    for (Path p : candidates) {
      if (!Files.isRegularFile(p)) continue;
      try {
        System.load(p.toAbsolutePath().toString());
        String v = version();
        Optional<String> mismatch = interfaceMismatch(p, v, INTERFACE);
        if (mismatch.isPresent()) return remember(mismatch.get(), explicit);
        loaded = v;
        log.info("Loaded {} from {}", loaded, p);
        return Optional.empty();
      } catch (UnsatisfiedLinkError e) {
        return remember(p + " could not be loaded: " + e.getMessage(), explicit);
      }
    }
    failure = FILE_NAME + " not found (looked at " + candidates + "); build it with scripts/build-native.sh and "
        + "point --native-library or $" + ENV + " at it";
    return Optional.of(failure);
  }

  /**
   * Why a library reporting {@code version} cannot serve this code, which calls interface {@code expected}: one line
   * naming both, or empty when they match.
   */
  static Optional<String> interfaceMismatch(Path library, String version, int expected) {
    if (version.startsWith("barista-native " + expected + " ")) return Optional.empty();
    return Optional.of(library + " is " + version + " but this barista needs interface " + expected
        + ": rebuild it with scripts/build-native.sh");
  }

  /** A failure of the default search is remembered (it cannot change); one of an explicit path is not. */
  private static Optional<String> remember(String why, Path explicit) {
    if (explicit == null) failure = why;
    return Optional.of(why);
  }

  public static boolean isLoaded() {
    return loaded != null;
  }

  private static Optional<Path> jarFolder() {
    try {
      Path p = Path.of(CudaNative.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(p) ? Optional.of(p.getParent()) : Optional.empty();
    } catch (Exception | Error e) {
      return Optional.empty();
    }
  }

  static long handle(NDArray a) {
    return ((PtNDArray) a).getHandle();
  }

  /** Wraps a tensor handle the library returned; the manager frees it like any DJL array. */
  static NDArray wrap(NDManager m, long handle) {
    return new PtNDArray((PtNDManager) m, handle);
  }

  static native String version();

  static native long newStream(int device);

  static native void setCurrentStream(long stream);

  static native void synchronize(long stream);

  static native long newGraphPool();

  static native void freeGraphPool(long pool);

  static native long captureBegin(long pool);

  static native void captureEnd(long graph);

  static native void replay(long graph);

  static native void freeGraph(long graph);

  /** {allocated, reserved} bytes of PyTorch's caching allocator on the device. */
  static native long[] memoryStats(int device);

  static native ByteBuffer allocPinned(long bytes);

  static native void freePinned(ByteBuffer buffer);

  static native void copyFromHost(long dst, ByteBuffer src, long srcOffset, long bytes);

  /** {@link #copyFromHost(long, ByteBuffer, long, long)} into {@code dst}; nothing when there are no bytes. */
  static void copyFromHost(NDArray dst, ByteBuffer src, long srcOffset, long bytes) {
    if (bytes > 0) copyFromHost(handle(dst), src, srcOffset, bytes);
  }

  /** Rows {@code [start, start + length)} of a tensor as a view of the same storage. */
  static native long narrow(long tensor, long start, long length);

  static NDArray narrow(NDArray a, long start, long length, NDManager m) {
    return wrap(m, narrow(handle(a), start, length));
  }

  static native long embedding(long weight, long ids);

  static native long rmsNorm(long x, long w, float eps);

  static native long[] addRmsNorm(long x, long residual, long w, float eps);

  static native long[] ropeSplit(long qkv, long positions, long cos, long sin, int heads, int kvHeads, int headDim);

  /** q {@code [T, H, D]}; k and v (RoPE applied to k) written at {@code slots} of the caches, none where a slot < 0. */
  static native long ropeSplitCache(long qkv, long positions, long cos, long sin, long kCache, long vCache, long slots,
      int heads, int kvHeads, int headDim);

  static native long siluAndMul(long x);

  /** fp16 {@code x [..., K]} of at most 8 rows times {@code w [N, K]}^T (+ bias; 0: none). */
  static native long denseGemv(long x, long w, long bias);

  static native void writeKv(long k, long v, long kCache, long vCache, long slots);

  /** In place: logits {@code [R, V]} float32 keep the tokens whose bits {@code [R, (V + 63) / 64]} int64 are set. */
  static native void applyTokenMask(long logits, long bits);

  /**
   * int64 {@code [R]}: a token per row of float32 logits {@code [R, V]} by float32 params {@code [R, 7]}
   * (Sampler's staged parameters); -1 for a row the kernel leaves to the caller.
   */
  static native long sampleRows(long logits, long params);

  /** @param rowSeq 0: row r is sequence r (a decode step) */
  static native long pagedAttention(long q, long kCache, long vCache, long blockTables, long rowSeq,
      long contextLens, int blockSize, float scale);

  /** The device's streaming multiprocessors: how many blocks a launch needs to fill it. */
  static native int multiProcessorCount(int device);

  /**
   * The tensor-core paged attention (fp16, head_dim 16/32/64/128): {@code maxItems} blocks over the work list
   * {@code work} built by {@link AttentionWork}, split chunks in {@code scratch} (float32) merged by the last to
   * finish as {@code counters} (int32, zero between launches) tell; returns {@code [R, H, D]}.
   */
  static native long pagedAttentionTc(long q, long kCache, long vCache, long blockTables, long work, long scratch,
      long counters, int maxItems, int blockSize, float scale);
}

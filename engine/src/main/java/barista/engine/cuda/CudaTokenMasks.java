package barista.engine.cuda;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.sampling.LogitMasker;
import barista.engine.sampling.Sampler;
import barista.engine.sampling.SamplingRow;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Constraint masks on the CUDA path: each row's bits written straight into pinned staging memory, copied to a
 * persistent device buffer without a sync, and applied by one kernel. The DJL route it replaces unpacked bytes
 * with a dozen ops and a pageable copy that waited for the forward pass. Buffers are made on the first constrained
 * step (most servers never have one) and sized for the largest batch.
 */
final class CudaTokenMasks implements LogitMasker, AutoCloseable {
  private final NDManager manager;
  private final int maxRows;
  private ByteBuffer staging;
  private NDArray bits; // [maxRows, words] int64
  private int words;

  CudaTokenMasks(NDManager manager, int maxRows) {
    this.manager = manager;
    this.maxRows = maxRows;
  }

  @Override
  public NDArray apply(NDArray x, List<SamplingRow> rows, int vocab, NDManager m) {
    int n = rows.size();
    if (n > maxRows) throw new IllegalArgumentException(n + " rows exceed the mask buffer's " + maxRows);
    ensure((vocab + 63) / 64);
    // The previous step's copy is done: its tokens were read back, or it had no mask to copy.
    Sampler.writeMaskWords(rows, staging.clear().asLongBuffer(), words);
    NDArray view = CudaNative.narrow(bits, 0, n, m);
    CudaNative.copyFromHost(CudaNative.handle(view), staging, 0, 8L * n * words);
    NDArray logits = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, true); // the sampler's own
    CudaNative.applyTokenMask(CudaNative.handle(logits), CudaNative.handle(view));
    return logits;
  }

  private void ensure(int w) {
    if (staging != null && words == w) return;
    close();
    staging = CudaNative.allocPinned(8L * maxRows * w).order(ByteOrder.nativeOrder());
    bits = manager.zeros(new Shape(maxRows, w), DataType.INT64);
    words = w;
  }

  @Override
  public void close() {
    if (staging != null) CudaNative.freePinned(staging);
    if (bits != null) bits.close();
    staging = null;
    bits = null;
  }
}

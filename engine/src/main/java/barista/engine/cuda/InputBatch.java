package barista.engine.cuda;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.model.AttentionBackend;
import barista.engine.model.ForwardBatch;
import barista.engine.model.StepInputs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The persistent input batch (vLLM's InputBatch, reduced to what a step reads): device buffers sized once from
 * {@code --max-num-batched-tokens} and {@code --max-num-seqs}, filled each step from one pinned host staging buffer
 * by asynchronous copies, beside the attention backend's own metadata ({@link AttentionBackend.MetadataBuilder}).
 * CUDA graphs record reads of these buffers, so replaying one only needs new contents here.
 *
 * <p>Padding rows (a step rounded up to its graph's token count) read token 0 at position 0; the attention
 * metadata makes them write no KV slot and attend to nothing, and no logits are taken from them.
 */
final class InputBatch implements AutoCloseable {
  private final int maxTokens;
  private final int maxSeqs;
  private final AttentionBackend.MetadataBuilder attention;
  private final ByteBuffer staging;
  private final long offPositions;
  private final long offRows;
  private final NDArray tokenIds; // [maxTokens] int64
  private final NDArray positions; // [maxTokens] int64
  private final NDArray logitRows; // [maxSeqs] int64
  private boolean closed;

  InputBatch(NDManager manager, int maxTokens, int maxSeqs, AttentionBackend.MetadataBuilder attention) {
    this.maxTokens = maxTokens;
    this.maxSeqs = maxSeqs;
    this.attention = attention;
    offPositions = 8L * maxTokens;
    offRows = offPositions + 8L * maxTokens;
    staging = CudaNative.allocPinned(offRows + 8L * maxSeqs).order(ByteOrder.nativeOrder());
    tokenIds = manager.zeros(new Shape(maxTokens), DataType.INT64);
    positions = manager.zeros(new Shape(maxTokens), DataType.INT64);
    logitRows = manager.zeros(new Shape(maxSeqs), DataType.INT64);
  }

  /**
   * Views of the first {@code rows} rows of any step, as a CUDA graph records them: prompt chunks and decodes share
   * a graph. Call once per graph at capture, then {@link #uploadStep} before each replay.
   */
  StepInputs graphViews(int rows, NDManager m) {
    return views(rows, null, m);
  }

  private StepInputs views(int rows, NDArray wanted, NDManager m) {
    return new StepInputs(CudaNative.narrow(tokenIds, 0, rows, m), CudaNative.narrow(positions, 0, rows, m), wanted,
        attention.views(rows, m));
  }

  /** Fills rows as padding: what a graph is warmed up and captured with (no real block is read or written). */
  void uploadPadding(int rows) {
    ForwardBatch empty = new ForwardBatch(new int[0], new int[0], new long[0], new int[0], new int[0], new int[0],
        new int[0][], new boolean[0]);
    uploadStep(empty, rows);
  }

  /**
   * Writes a step of at most {@code rows} tokens: its rows, then padding rows up to {@code rows} (a graph's bucket;
   * none on the eager path), the rows whose logits are wanted ({@link #logitRows}) and the attention metadata.
   * Returns how many rows sample.
   */
  int uploadStep(ForwardBatch b, int rows) {
    int t = b.numTokens();
    int n = b.numSequences();
    if (rows < t || rows > maxTokens || n > maxSeqs) {
      throw new IllegalArgumentException(t + " tokens / " + n + " sequences in " + rows + " graph rows");
    }
    for (int r = 0; r < t; r++) {
      staging.putLong(8 * r, b.tokenIds()[r]);
      staging.putLong((int) (offPositions + 8L * r), b.positions()[r]);
    }
    for (int r = t; r < rows; r++) {
      staging.putLong(8 * r, 0);
      staging.putLong((int) (offPositions + 8L * r), 0);
    }
    long[] wanted = b.logitRows();
    for (int i = 0; i < wanted.length; i++) staging.putLong((int) (offRows + 8L * i), wanted[i]);
    CudaNative.copyFromHost(tokenIds, staging, 0, 8L * rows);
    CudaNative.copyFromHost(positions, staging, offPositions, 8L * rows);
    CudaNative.copyFromHost(logitRows, staging, offRows, 8L * wanted.length);
    attention.stage(b, rows);
    return wanted.length;
  }

  /** The first {@code n} rows uploaded by {@link #uploadStep} whose logits are wanted, as a device index. */
  NDArray logitRows(int n, NDManager m) {
    return CudaNative.narrow(logitRows, 0, n, m);
  }

  /**
   * Writes any step for the eager path, its rows as a graph reads them but unpadded, and returns views of it
   * (with the rows whose logits are wanted unless every row samples).
   */
  StepInputs upload(ForwardBatch b, NDManager m) {
    int t = b.numTokens();
    int sampled = uploadStep(b, t); // the same rows, without padding
    return views(t, sampled == t ? null : logitRows(sampled, m), m);
  }

  NDManager manager() {
    return tokenIds.getManager();
  }

  int maxSeqs() {
    return maxSeqs;
  }


  /** The bytes each step moves are rewritten only after the previous step's copies are done (see ModelRunner). */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    Arrays.asList(tokenIds, positions, logitRows).forEach(NDArray::close);
    CudaNative.freePinned(staging);
  }
}

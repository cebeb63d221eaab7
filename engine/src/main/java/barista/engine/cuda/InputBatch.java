package barista.engine.cuda;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.model.ForwardBatch;
import barista.engine.model.StepInputs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The persistent input batch (vLLM's InputBatch, reduced to what a step reads): device buffers sized once from
 * {@code --max-num-batched-tokens} and {@code --max-num-seqs}, filled each step from one pinned host staging buffer
 * by asynchronous copies. CUDA graphs record reads of these buffers, so replaying one only needs new contents here.
 *
 * <p>Block tables stay on the device: a host mirror remembers what each row holds and only the rows whose block ids
 * changed are copied. Padding rows (a step rounded up to its graph's token count) get slot -1 (written nowhere) and
 * context length 0 (attends to nothing), so they never touch a real block.
 */
final class InputBatch implements AutoCloseable {
  private final int maxTokens;
  private final int maxSeqs;
  private final int maxBlocksPerSeq;
  private final ByteBuffer staging;
  private final long offPositions;
  private final long offSlots;
  private final long offRows;
  private final long offContext;
  private final long offRowSeq;
  private final long offTables;
  private final int[] mirror; // what the device block table holds, row-major [maxSeqs, maxBlocksPerSeq]
  private final NDArray tokenIds; // [maxTokens] int64
  private final NDArray positions; // [maxTokens] int64
  private final NDArray slots; // [maxTokens] int64
  private final NDArray logitRows; // [maxSeqs] int64
  private final NDArray contextLens; // [maxRows] int32, per query row
  private final NDArray rowSeq; // [maxTokens] int32, each row's sequence (prompt chunks)
  private final NDArray blockTables; // [maxSeqs, maxBlocksPerSeq] int32
  private boolean closed;

  InputBatch(NDManager manager, int maxTokens, int maxSeqs, int maxModelLen, int blockSize) {
    this.maxTokens = maxTokens;
    this.maxSeqs = maxSeqs;
    this.maxBlocksPerSeq = (maxModelLen + blockSize - 1) / blockSize;
    offPositions = 8L * maxTokens;
    offSlots = offPositions + 8L * maxTokens;
    offRows = offSlots + 8L * maxTokens;
    int maxRows = Math.max(maxTokens, maxSeqs);
    offContext = offRows + 8L * maxSeqs;
    offRowSeq = offContext + 4L * maxRows;
    offTables = offRowSeq + 4L * maxTokens;
    long bytes = offTables + 4L * maxSeqs * maxBlocksPerSeq;
    staging = CudaNative.allocPinned(bytes).order(ByteOrder.nativeOrder());
    mirror = new int[maxSeqs * maxBlocksPerSeq];
    tokenIds = manager.zeros(new Shape(maxTokens), DataType.INT64);
    positions = manager.zeros(new Shape(maxTokens), DataType.INT64);
    slots = manager.zeros(new Shape(maxTokens), DataType.INT64);
    logitRows = manager.zeros(new Shape(maxSeqs), DataType.INT64);
    contextLens = manager.zeros(new Shape(maxRows), DataType.INT32);
    rowSeq = manager.zeros(new Shape(maxTokens), DataType.INT32);
    blockTables = manager.zeros(new Shape(maxSeqs, maxBlocksPerSeq), DataType.INT32);
  }

  /**
   * Views of the first {@code rows} rows of any step, as a CUDA graph records them: each row names its sequence, so
   * prompt chunks and decodes share a graph. Call once per graph at capture, then {@link #uploadStep} before each
   * replay.
   */
  StepInputs graphViews(int rows, NDManager m) {
    return views(rows, blockTables, null, m);
  }

  /** Views of the first {@code rows} rows, with the given block tables and rows whose logits are wanted. */
  private StepInputs views(int rows, NDArray tables, NDArray wanted, NDManager m) {
    return new StepInputs(CudaNative.narrow(tokenIds, 0, rows, m), CudaNative.narrow(positions, 0, rows, m), wanted,
        new PagedAttention.Paged(CudaNative.narrow(slots, 0, rows, m), tables, CudaNative.narrow(rowSeq, 0, rows, m),
            CudaNative.narrow(contextLens, 0, rows, m)));
  }

  /** Fills rows as padding: what a graph is warmed up and captured with (no real block is read or written). */
  void uploadPadding(int rows) {
    ForwardBatch empty = new ForwardBatch(new int[0], new int[0], new long[0], new int[0], new int[0], new int[0],
        new int[0][], new boolean[0]);
    uploadStep(empty, rows);
  }

  /**
   * Writes a step of at most {@code rows} tokens: its rows (a prompt row attends up to its own position, as a
   * decode row does), then padding rows up to {@code rows} that write nowhere and attend to nothing (a graph's
   * bucket; none on the eager path), and the rows whose logits are wanted ({@link #logitRows}). Returns how many
   * those are.
   */
  int uploadStep(ForwardBatch b, int rows) {
    int t = b.numTokens();
    int n = b.numSequences();
    if (rows < t || rows > maxTokens || n > maxSeqs) {
      throw new IllegalArgumentException(t + " tokens / " + n + " sequences in " + rows + " graph rows");
    }
    for (int s = 0; s < n; s++) {
      for (int r = b.queryStart()[s]; r < b.queryStart()[s] + b.queryLen()[s]; r++) {
        putRow(r, b.tokenIds()[r], b.positions()[r], b.slotMapping()[r], b.positions()[r] + 1, s);
      }
    }
    for (int r = t; r < rows; r++) putRow(r, 0, 0, -1, 0, 0);
    long[] wanted = b.logitRows();
    for (int i = 0; i < wanted.length; i++) staging.putLong((int) (offRows + 8L * i), wanted[i]);
    copy(tokenIds, 0, 8L * rows);
    copy(positions, offPositions, 8L * rows);
    copy(slots, offSlots, 8L * rows);
    copy(contextLens, offContext, 4L * rows);
    copy(rowSeq, offRowSeq, 4L * rows);
    copy(logitRows, offRows, 8L * wanted.length);
    uploadTables(b.blockTables(), n);
    return wanted.length;
  }

  private void putRow(int r, int token, int position, long slot, int contextLen, int seq) {
    staging.putLong((int) (8L * r), token);
    staging.putLong((int) (offPositions + 8L * r), position);
    staging.putLong((int) (offSlots + 8L * r), slot);
    staging.putInt((int) (offContext + 4L * r), contextLen);
    staging.putInt((int) (offRowSeq + 4L * r), seq);
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
    int n = b.numSequences();
    int sampled = uploadStep(b, t); // the same rows, without padding
    return views(t, CudaNative.narrow(blockTables, 0, n, m), sampled == t ? null : logitRows(sampled, m), m);
  }

  NDManager manager() {
    return tokenIds.getManager();
  }

  int maxSeqs() {
    return maxSeqs;
  }

  /** Copies the rows whose block ids changed (one contiguous range) to the device table. */
  private void uploadTables(int[][] tables, int n) {
    int first = -1, last = -1;
    for (int r = 0; r < n; r++) {
      int[] table = tables[r];
      if (table.length > maxBlocksPerSeq) {
        throw new IllegalArgumentException("block table of " + table.length + " blocks exceeds " + maxBlocksPerSeq);
      }
      int base = r * maxBlocksPerSeq;
      boolean changed = false;
      for (int j = 0; j < table.length; j++) {
        if (mirror[base + j] != table[j]) {
          mirror[base + j] = table[j];
          changed = true;
        }
      }
      if (changed) {
        if (first < 0) first = r;
        last = r;
      }
    }
    if (first < 0) return;
    long rowBytes = 4L * maxBlocksPerSeq;
    for (int i = first * maxBlocksPerSeq; i < (last + 1) * maxBlocksPerSeq; i++) {
      staging.putInt((int) (offTables + 4L * i), mirror[i]);
    }
    try (NDManager tmp = blockTables.getManager().newSubManager()) {
      NDArray rowsView = CudaNative.narrow(blockTables, first, last - first + 1, tmp);
      CudaNative.copyFromHost(CudaNative.handle(rowsView), staging, offTables + first * rowBytes,
          (last - first + 1) * rowBytes);
    }
  }

  private void copy(NDArray dst, long offset, long bytes) {
    if (bytes > 0) CudaNative.copyFromHost(CudaNative.handle(dst), staging, offset, bytes);
  }

  /** The bytes each step moves are rewritten only after the previous step's copies are done (see ModelRunner). */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    Arrays.asList(tokenIds, positions, slots, logitRows, contextLens, rowSeq, blockTables).forEach(NDArray::close);
    CudaNative.freePinned(staging);
  }
}

package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One step's inputs on the device: the flattened tokens and their positions, which rows produce logits, and the
 * attention backend's metadata.
 *
 * @param logitRows {@code [S]} int64 rows whose logits are wanted; null: every row, in order (a pure decode step)
 */
public record StepInputs(NDArray tokenIds, NDArray positions, NDArray logitRows,
    AttentionBackend.Metadata attention) {

  /** Copies a host batch to the device with ordinary DJL creates (the eager path; never inside a CUDA graph). */
  public static StepInputs upload(ForwardBatch b, AttentionBackend attention, NDManager m) {
    return upload(b, null, attention, m);
  }

  /** @param logitRows the rows whose logits are wanted, or null for the batch's sampled rows */
  public static StepInputs upload(ForwardBatch b, long[] logitRows, AttentionBackend attention, NDManager m) {
    long[] rows = logitRows == null ? b.logitRows() : logitRows;
    boolean allRows = logitRows == null && rows.length == b.numTokens();
    AttentionBackend.MetadataBuilder builder = attention.metadataBuilder();
    builder.stage(b, b.numTokens());
    return new StepInputs(m.create(Qwen2Model.toLongs(b.tokenIds())), m.create(Qwen2Model.toLongs(b.positions())),
        allRows ? null : m.create(rows), builder.views(b.numTokens(), m));
  }
}

package barista.engine.tools;

import barista.engine.checkpoint.Qwen2TensorNames;

/** Hears how far writing a checkpoint has come, for a progress bar; called on the writing thread. */
@FunctionalInterface
public interface WriteProgress {
  WriteProgress NONE = (done, total, where) -> { };

  /**
   * @param done bytes written so far, of {@code total}
   * @param where the part being written, e.g. "layer 3/28"
   */
  void update(long done, long total, String where);

  /** Where a tensor belongs, as progress names it: "embeddings", "layer N/L" (from 1), or "head". */
  static String partOf(String tensorName, int layers) {
    int layer = Qwen2TensorNames.layerOf(tensorName);
    if (layer >= 0) return "layer " + (layer + 1) + "/" + layers;
    return tensorName.equals(Qwen2TensorNames.EMBED_TOKENS) ? "embeddings" : "head";
  }
}

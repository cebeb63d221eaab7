package barista.engine.checkpoint;

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
    if (tensorName.startsWith("model.layers.")) {
      int end = tensorName.indexOf('.', "model.layers.".length());
      if (end > 0) {
        try {
          return "layer " + (Integer.parseInt(tensorName.substring("model.layers.".length(), end)) + 1) + "/" + layers;
        } catch (NumberFormatException e) {
          return "layers";
        }
      }
    }
    return tensorName.startsWith("model.embed_tokens.") ? "embeddings" : "head";
  }
}

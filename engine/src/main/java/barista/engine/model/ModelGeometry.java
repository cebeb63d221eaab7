package barista.engine.model;

/**
 * The shape of the network, as the forward pass needs it (read from config.json by the loader).
 *
 * @param ropePositions how many positions the rotary table covers (the served context length)
 */
public record ModelGeometry(
    int numLayers,
    int hiddenSize,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    int vocabSize,
    double ropeTheta,
    double rmsNormEps,
    int ropePositions,
    boolean attentionBias,
    boolean tieWordEmbeddings) {

  public int queriesPerKvHead() {
    return numHeads / numKvHeads;
  }
}

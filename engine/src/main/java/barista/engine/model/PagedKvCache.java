package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The device side of the paged KV cache: one K and one V tensor per layer, each {@code [numBlocks * blockSize,
 * kvHeads, headDim]}, addressed by flat slot. The block allocator (kvcache module) decides which slots a sequence
 * owns; this class only writes new K/V through the slot mapping and gathers a sequence's context by slot.
 */
public final class PagedKvCache implements AutoCloseable {
  private final NDArray[] keys;
  private final NDArray[] values;
  private final int numBlocks;
  private final int blockSize;

  public PagedKvCache(NDManager manager, int numLayers, int numBlocks, int blockSize, int kvHeads, int headDim,
      DataType dtype) {
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    Shape shape = new Shape((long) numBlocks * blockSize, kvHeads, headDim);
    keys = new NDArray[numLayers];
    values = new NDArray[numLayers];
    for (int l = 0; l < numLayers; l++) {
      keys[l] = manager.zeros(shape, dtype);
      values[l] = manager.zeros(shape, dtype);
    }
  }

  /** Layer {@code layer}'s K tensor {@code [numBlocks * blockSize, kvHeads, headDim]} (kernels read it in place). */
  public NDArray keyTensor(int layer) {
    return keys[layer];
  }

  public NDArray valueTensor(int layer) {
    return values[layer];
  }

  /** Bytes one block takes across all layers (K and V). */
  public static long bytesPerBlock(int numLayers, int blockSize, int kvHeads, int headDim, DataType dtype) {
    return 2L * numLayers * blockSize * kvHeads * headDim * dtype.getNumOfBytes();
  }

  public int numLayers() {
    return keys.length;
  }

  public int numBlocks() {
    return numBlocks;
  }

  public int blockSize() {
    return blockSize;
  }

  /** Stores the new tokens' K and V ({@code [T, kvHeads, headDim]}) at their slots ({@code [T]} int64). */
  public void write(int layer, NDArray slots, NDArray k, NDArray v) {
    NDIndex at = new NDIndex("{}", slots);
    keys[layer].set(at, k);
    values[layer].set(at, v);
  }

  /**
   * Gathers K of the given slots into {@code m} (never the cache's own manager, which lives as long as the cache):
   * {@code slots} of any shape S gives {@code S x [kvHeads, headDim]}.
   */
  public NDArray keys(int layer, NDArray slots, NDManager m) {
    return keys[layer].get(m, new NDIndex("{}", slots));
  }

  public NDArray values(int layer, NDArray slots, NDManager m) {
    return values[layer].get(m, new NDIndex("{}", slots));
  }

  /**
   * The slots of each sequence's first {@code width} context positions, {@code [numSeqs, width]} int64, computed on
   * the device from the block tables. Positions past a sequence's table point into block 0, the allocator's
   * reserved scratch block; attention masks them out.
   */
  public NDArray contextSlots(NDManager m, int[][] blockTables, int width) {
    int blocksWide = (width + blockSize - 1) / blockSize;
    long[] table = new long[blockTables.length * blocksWide];
    for (int s = 0; s < blockTables.length; s++) {
      int n = Math.min(blocksWide, blockTables[s].length);
      for (int j = 0; j < n; j++) table[s * blocksWide + j] = blockTables[s][j];
    }
    NDArray blocks = m.create(table, new Shape(blockTables.length, blocksWide));
    NDArray pos = m.arange(0, width, 1, DataType.INT64);
    NDArray blockOfPos = pos.div(blockSize).toType(DataType.INT64, false);
    NDArray offset = pos.sub(blockOfPos.mul(blockSize));
    return blocks.get(new NDIndex(":, {}", blockOfPos)).mul(blockSize).add(offset);
  }

  @Override
  public void close() {
    for (int l = 0; l < keys.length; l++) {
      keys[l].close();
      values[l].close();
    }
  }
}

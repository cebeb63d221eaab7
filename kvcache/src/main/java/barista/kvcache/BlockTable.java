package barista.kvcache;

import java.util.Arrays;
import java.util.Objects;

/**
 * A request's block ids in token order: the token at position {@code p} lives in block {@code get(p / blockSize)}.
 * Only grows while the request holds blocks. Live view owned by the engine thread.
 */
public final class BlockTable {
  private int[] ids = new int[8];
  private int size;
  private int[] snapshot; // toArray's last answer

  public int size() {
    return size;
  }

  public int get(int index) {
    return ids[Objects.checkIndex(index, size)];
  }

  /**
   * The ids as an array that nobody writes: the same one until the table grows (a step copies every running
   * request's table, and a table grows once in a block's worth of steps).
   */
  public int[] toArray() {
    if (snapshot == null || snapshot.length != size) snapshot = Arrays.copyOf(ids, size);
    return snapshot;
  }

  void add(int id) {
    if (size == ids.length) {
      ids = Arrays.copyOf(ids, size * 2);
    }
    ids[size++] = id;
  }
}

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

  public int size() {
    return size;
  }

  public int get(int index) {
    return ids[Objects.checkIndex(index, size)];
  }

  public int[] toArray() {
    return Arrays.copyOf(ids, size);
  }

  void add(int id) {
    if (size == ids.length) {
      ids = Arrays.copyOf(ids, size * 2);
    }
    ids[size++] = id;
  }
}

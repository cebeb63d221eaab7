package barista.engine.constraint;

import dk.brics.automaton.Automaton;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A deterministic automaton over UTF-8 bytes, as a flat table, made from a DFA over UTF-16 chars
 * (dk.brics.automaton's). Tokens are byte strings, pieces of one character may fall into different tokens, so the
 * mask builder needs byte steps: each char range becomes its UTF-8 byte-range sequences (surrogates, which UTF-8
 * cannot encode, are dropped), read by shared continuation nodes, deterministic by construction.
 *
 * <p>Immutable and thread-safe. States are 0..numStates-1, a missing step is -1; every state can reach an accepting
 * one (dead ends are pruned), and {@link #distance} says in how few bytes.
 */
public final class ByteDfa {
  /** Larger automata are refused: their masks would not fit the caches that keep decoding fast. */
  public static final int MAX_STATES = 50_000;
  /** Intermediate automata are refused beyond this many states, before they are built (repetitions). */
  static final int MAX_BUILD_STATES = 200_000;

  // Bytes that no transition tells apart share a class (JSON needs a few dozen), so the table is
  // states x classes instead of states x 256.
  private final int[] classOf; // byte -> class
  private final int numClasses;
  private final int[] next; // state * numClasses + class
  private final boolean[] accepting;
  private final int[] distance;
  private final int start;

  private ByteDfa(int[] classOf, int numClasses, int[] next, boolean[] accepting, int start) {
    this.classOf = classOf;
    this.numClasses = numClasses;
    this.next = next;
    this.accepting = accepting;
    this.start = start;
    this.distance = distances(next, numClasses, accepting);
  }

  /** Compiles a char-level automaton; IllegalArgumentException when it accepts nothing or is too large. */
  public static ByteDfa of(Automaton chars) {
    FlatAutomaton a = Automata.deterministic(chars, Map.of());
    if (a.isEmpty()) throw new IllegalArgumentException("the constraint accepts no output at all");
    if (a.size > MAX_STATES) throw tooLarge(a.size);
    FlatAutomaton bytes = toBytes(a).pruned();
    if (bytes.isEmpty()) throw new IllegalArgumentException("the constraint accepts no output UTF-8 can encode");
    if (bytes.size > MAX_STATES) throw tooLarge(bytes.size);
    int n = bytes.size;
    boolean[] boundary = new boolean[257]; // a class starts at each transition's min and after its max
    boundary[0] = true;
    for (int t = 0; t < bytes.first[n]; t++) {
      boundary[bytes.min[t]] = true;
      boundary[bytes.max[t] + 1] = true;
    }
    int[] classOf = new int[256];
    int classes = 0;
    for (int b = 0; b < 256; b++) {
      if (boundary[b] && b > 0) classes++;
      classOf[b] = classes;
    }
    int numClasses = classes + 1;
    int[] next = new int[n * numClasses];
    Arrays.fill(next, -1);
    for (int s = 0; s < n; s++) {
      for (int t = bytes.first[s]; t < bytes.first[s + 1]; t++) {
        for (int b = bytes.min[t]; b <= bytes.max[t]; b++) next[s * numClasses + classOf[b]] = bytes.dest[t];
      }
    }
    return new ByteDfa(classOf, numClasses, next, Arrays.copyOf(bytes.accept, n), bytes.start);
  }

  private static IllegalArgumentException tooLarge(int states) {
    return new IllegalArgumentException("the constraint is too complex (" + states + " automaton states, at most "
        + MAX_STATES + "); lower maxLength/maxItems or simplify the schema");
  }

  /**
   * The deterministic byte automaton of a deterministic char automaton: each char state keeps its number and reads
   * the first byte of its ranges' UTF-8 encodings (RE2's and Rust's utf8-ranges construction, {@link Utf8Ranges});
   * the continuation bytes are read by intermediate nodes, one per distinct set of moves (so nodes are shared by
   * every state and range that continue alike). Deterministic by construction: at each byte position the ranges
   * are cut at each other's bounds, and distinct code points never share a whole byte sequence.
   */
  private static FlatAutomaton toBytes(FlatAutomaton chars) {
    int n = chars.size;
    List<int[]> moves = new ArrayList<>(); // per byte state: (lo, hi, dest) triples
    Map<Moves, Integer> nodes = new HashMap<>();
    for (int s = 0; s < n; s++) moves.add(null);
    List<Item> items = new ArrayList<>();
    Map<Long, List<int[]>> splits = new HashMap<>(); // char ranges recur (every position of a string)
    for (int s = 0; s < n; s++) {
      if ((s & 255) == 0) CompileBudget.check();
      int from = chars.first[s], to = chars.first[s + 1];
      if (to == from || chars.max[to - 1] < 0x80) { // ASCII only: the char moves are the byte moves
        int[] ascii = new int[3 * (to - from)];
        for (int t = from, i = 0; t < to; t++, i += 3) {
          ascii[i] = chars.min[t];
          ascii[i + 1] = chars.max[t];
          ascii[i + 2] = chars.dest[t];
        }
        moves.set(s, ascii);
        continue;
      }
      items.clear();
      for (int t = from; t < to; t++) {
        List<int[]> split = splits.computeIfAbsent(((long) chars.min[t] << 32) | chars.max[t],
            range -> Utf8Ranges.split((int) (range >>> 32), (int) (long) range));
        for (int[] seq : split) items.add(new Item(seq, chars.dest[t]));
      }
      moves.set(s, group(items, 0, moves, nodes));
    }
    FlatAutomaton.Builder b = new FlatAutomaton.Builder();
    for (int s = 0; s < moves.size(); s++) {
      b.newState(s < n && chars.accept[s]);
      int[] m = moves.get(s);
      for (int i = 0; i < m.length; i += 3) b.transition(m[i], m[i + 1], m[i + 2]);
    }
    return b.build(chars.start);
  }

  /** One UTF-8 byte-range sequence of a char transition, and where it leads. */
  private record Item(int[] seq, int target) {}

  /** The moves reading byte {@code level} of the items: (lo, hi, dest) triples in byte order. */
  private static int[] group(List<Item> items, int level, List<int[]> moves, Map<Moves, Integer> nodes) {
    int[] bounds = new int[2 * items.size()];
    for (int i = 0; i < items.size(); i++) {
      bounds[2 * i] = items.get(i).seq[2 * level];
      bounds[2 * i + 1] = items.get(i).seq[2 * level + 1] + 1;
    }
    Arrays.sort(bounds);
    int[] out = new int[3 * bounds.length];
    int used = 0;
    List<Item> covering = new ArrayList<>();
    for (int k = 0; k + 1 < bounds.length; k++) {
      int low = bounds[k], high = bounds[k + 1] - 1;
      if (high < low) continue;
      covering.clear();
      for (Item item : items) {
        if (item.seq[2 * level] <= low && low <= item.seq[2 * level + 1]) covering.add(item);
      }
      if (covering.isEmpty()) continue;
      int to;
      if (covering.get(0).seq.length == 2 * level + 2) {
        to = covering.get(0).target; // the last byte: one code point range, one target
      } else {
        int[] rest = group(covering, level + 1, moves, nodes);
        Moves key = new Moves(rest);
        Integer node = nodes.get(key);
        if (node == null) {
          node = moves.size();
          moves.add(rest);
          nodes.put(key, node);
        }
        to = node;
      }
      if (used > 0 && out[used - 1] == to && out[used - 2] + 1 == low) {
        out[used - 2] = high;
      } else {
        out[used++] = low;
        out[used++] = high;
        out[used++] = to;
      }
    }
    return Arrays.copyOf(out, used);
  }

  /** A node's moves as a map key. */
  private static final class Moves {
    private final int[] triples;
    private final int hash;

    Moves(int[] triples) {
      this.triples = triples;
      this.hash = Arrays.hashCode(triples);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Moves && Arrays.equals(triples, ((Moves) o).triples);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** Fewest bytes from each state to an accepting state (breadth-first over the reversed table). */
  private static int[] distances(int[] next, int numClasses, boolean[] accepting) {
    int n = accepting.length;
    int[] first = new int[n + 1]; // predecessors of s: from[first[s] .. first[s+1]), with repeats
    for (int to : next) if (to >= 0) first[to + 1]++;
    for (int s = 0; s < n; s++) first[s + 1] += first[s];
    int[] from = new int[first[n]];
    int[] fill = Arrays.copyOf(first, n);
    for (int i = 0; i < next.length; i++) if (next[i] >= 0) from[fill[next[i]]++] = i / numClasses;
    int[] dist = new int[n];
    Arrays.fill(dist, Integer.MAX_VALUE);
    int[] queue = new int[n];
    int head = 0, tail = 0;
    for (int s = 0; s < n; s++) {
      if (accepting[s]) {
        dist[s] = 0;
        queue[tail++] = s;
      }
    }
    while (head < tail) {
      int s = queue[head++];
      for (int i = first[s]; i < first[s + 1]; i++) {
        int p = from[i];
        if (dist[p] == Integer.MAX_VALUE) {
          dist[p] = dist[s] + 1;
          queue[tail++] = p;
        }
      }
    }
    return dist;
  }

  public int start() {
    return start;
  }

  public int numStates() {
    return accepting.length;
  }

  /** Bytes of the transition table (what a cached grammar's automaton costs). */
  long tableBytes() {
    return 4L * next.length;
  }

  /** The state after one byte, or -1 when the byte is not allowed there. */
  public int step(int state, int unsignedByte) {
    return next[state * numClasses + classOf[unsignedByte]];
  }

  /** The state after the bytes, or -1. */
  public int walk(int state, byte[] bytes) {
    for (int i = 0; i < bytes.length && state >= 0; i++) state = next[state * numClasses + classOf[bytes[i] & 0xff]];
    return state;
  }

  public boolean isAccepting(int state) {
    return accepting[state];
  }

  /** Fewest bytes that lead from the state to an accepting one. */
  public int distance(int state) {
    return distance[state];
  }

  /** Whether the whole text (as UTF-8) is accepted; for tests and checks. */
  public boolean matches(String text) {
    int s = walk(start, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return s >= 0 && accepting[s];
  }
}

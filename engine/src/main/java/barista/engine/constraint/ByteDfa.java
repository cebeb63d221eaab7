package barista.engine.constraint;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A deterministic automaton over UTF-8 bytes, as a flat table, made from a minimal DFA over UTF-16 chars
 * (dk.brics.automaton's). Tokens are byte strings, pieces of one character may fall into different tokens, so the
 * mask builder needs byte steps: each char range becomes its UTF-8 byte-range sequences (surrogates, which UTF-8
 * cannot encode, are dropped), the resulting byte NFA is determinized and minimized by brics again.
 *
 * <p>Immutable and thread-safe. States are 0..numStates-1, a missing step is -1; every state can reach an accepting
 * one (brics's minimal automata have no dead states), and {@link #distance} says in how few bytes.
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
    Automaton a = chars.clone();
    Automata.minimize(a);
    if (a.isEmpty()) throw new IllegalArgumentException("the constraint accepts no output at all");
    if (a.getNumberOfStates() > MAX_STATES) throw tooLarge(a.getNumberOfStates());
    Automaton bytes = toBytes(a);
    Automata.minimize(bytes);
    if (bytes.isEmpty()) throw new IllegalArgumentException("the constraint accepts no output UTF-8 can encode");
    if (bytes.getNumberOfStates() > MAX_STATES) throw tooLarge(bytes.getNumberOfStates());
    List<State> states = new java.util.ArrayList<>(bytes.getStates());
    Map<State, Integer> index = new HashMap<>();
    State init = bytes.getInitialState();
    index.put(init, 0);
    for (State s : states) if (s != init) index.put(s, index.size());
    int n = index.size();
    boolean[] boundary = new boolean[257]; // a class starts at each transition's min and after its max
    boundary[0] = true;
    for (State s : states) {
      for (Transition t : s.getTransitions()) {
        boundary[Math.min(t.getMin(), 256)] = true;
        boundary[Math.min(t.getMax() + 1, 256)] = true;
      }
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
    boolean[] accepting = new boolean[n];
    for (State s : states) {
      int from = index.get(s);
      accepting[from] = s.isAccept();
      for (Transition t : s.getTransitions()) {
        int to = index.get(t.getDest());
        for (int b = t.getMin(); b <= t.getMax() && b < 256; b++) next[from * numClasses + classOf[b]] = to;
      }
    }
    return new ByteDfa(classOf, numClasses, next, accepting, 0);
  }

  private static IllegalArgumentException tooLarge(int states) {
    return new IllegalArgumentException("the constraint is too complex (" + states + " automaton states, at most "
        + MAX_STATES + "); lower maxLength/maxItems or simplify the schema");
  }

  /**
   * The byte NFA: a char transition [min, max] -> t becomes, per UTF-8 byte-range sequence r1..rk of the range,
   * r1 into a node that reads r2..rk and then goes to t. Nodes are shared by (t, remaining ranges), so the NFA stays
   * linear in the char automaton; brics determinizes it.
   */
  private static Automaton toBytes(Automaton chars) {
    Map<State, State> mapped = new HashMap<>();
    for (State s : chars.getStates()) {
      State b = new State();
      b.setAccept(s.isAccept());
      mapped.put(s, b);
    }
    Map<State, Integer> ids = new HashMap<>();
    for (State s : chars.getStates()) ids.put(s, ids.size());
    Map<String, State> suffixNodes = new HashMap<>();
    for (State s : chars.getStates()) {
      State from = mapped.get(s);
      for (Transition t : s.getTransitions()) {
        State to = mapped.get(t.getDest());
        for (int[] seq : Utf8Ranges.split(t.getMin(), t.getMax())) {
          State target = suffixNode(seq, 1, to, ids.get(t.getDest()), suffixNodes);
          from.addTransition(new Transition((char) seq[0], (char) seq[1], target));
        }
      }
    }
    Automaton bytes = new Automaton();
    bytes.setInitialState(mapped.get(chars.getInitialState()));
    bytes.setDeterministic(false);
    bytes.restoreInvariant();
    return bytes;
  }

  /** The node that reads byte ranges seq[pair..] then is at {@code to}; seq holds (lo, hi) pairs. */
  private static State suffixNode(int[] seq, int pair, State to, int key, Map<String, State> nodes) {
    if (pair * 2 >= seq.length) return to;
    StringBuilder name = new StringBuilder().append(key);
    for (int i = pair * 2; i < seq.length; i++) name.append(',').append(seq[i]);
    String id = name.toString();
    State node = nodes.get(id);
    if (node == null) {
      node = new State();
      State rest = suffixNode(seq, pair + 1, to, key, nodes);
      node.addTransition(new Transition((char) seq[pair * 2], (char) seq[pair * 2 + 1], rest));
      nodes.put(id, node);
    }
    return node;
  }

  /** Fewest bytes from each state to an accepting state (breadth-first over the reversed table). */
  private static int[] distances(int[] next, int numClasses, boolean[] accepting) {
    int n = accepting.length;
    int[][] predecessors = new int[n][];
    int[] counts = new int[n];
    for (int i = 0; i < next.length; i++) if (next[i] >= 0) counts[next[i]]++;
    for (int s = 0; s < n; s++) predecessors[s] = new int[counts[s]];
    Arrays.fill(counts, 0);
    for (int i = 0; i < next.length; i++) {
      int to = next[i];
      if (to >= 0) predecessors[to][counts[to]++] = i / numClasses;
    }
    int[] dist = new int[n];
    Arrays.fill(dist, Integer.MAX_VALUE);
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int s = 0; s < n; s++) {
      if (accepting[s]) {
        dist[s] = 0;
        queue.add(s);
      }
    }
    while (!queue.isEmpty()) {
      int s = queue.poll();
      for (int p : predecessors[s]) {
        if (dist[p] == Integer.MAX_VALUE) {
          dist[p] = dist[s] + 1;
          queue.add(p);
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

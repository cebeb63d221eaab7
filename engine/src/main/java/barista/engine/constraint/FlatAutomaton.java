package barista.engine.constraint;

import barista.engine.sampling.RefusedRequestException;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * An automaton as flat int arrays: states 0..size-1, each with its transitions over symbol ranges (chars, or bytes)
 * and its empty moves. The compile pipeline's heavy steps (subset construction, pruning, the UTF-8 byte expansion)
 * run on this form: brics' object graph (a State with a HashSet of Transitions each, HashSet subsets, a traversal
 * for every size query) made them cost hundreds of microseconds a state, seconds for a wide schema. Immutable.
 */
final class FlatAutomaton {
  final int size;
  final int start;
  final boolean[] accept;
  /** State s's transitions are min/max/dest[first[s] .. first[s+1]). */
  final int[] first;
  final int[] min;
  final int[] max;
  final int[] dest;
  /** State s's empty moves are emptyDest[emptyFirst[s] .. emptyFirst[s+1]); null when there are none. */
  final int[] emptyFirst;
  final int[] emptyDest;

  private FlatAutomaton(int size, int start, boolean[] accept, int[] first, int[] min, int[] max, int[] dest,
      int[] emptyFirst, int[] emptyDest) {
    this.size = size;
    this.start = start;
    this.accept = accept;
    this.first = first;
    this.min = min;
    this.max = max;
    this.dest = dest;
    this.emptyFirst = emptyFirst;
    this.emptyDest = emptyDest;
  }

  /** Whether it accepts nothing (after {@link #pruned()}, exactly when the start has no move and does not accept). */
  boolean isEmpty() {
    return size == 0 || (!accept[start] && first[start] == first[start + 1] && !hasEmptyMoves(start));
  }

  private boolean hasEmptyMoves(int s) {
    return emptyFirst != null && emptyFirst[s] < emptyFirst[s + 1];
  }

  /** The states reachable from a's initial state, by transitions or by the given empty moves. */
  static FlatAutomaton of(Automaton a, Map<State, List<State>> empty) {
    a.expandSingleton();
    Map<State, Integer> ids = new IdentityHashMap<>();
    ArrayDeque<State> todo = new ArrayDeque<>();
    ids.put(a.getInitialState(), 0);
    todo.add(a.getInitialState());
    Builder b = new Builder();
    // Breadth-first, numbered as found: a state is made when it leaves the queue, so in the order of its number.
    while (!todo.isEmpty()) {
      State s = todo.poll();
      int id = b.newState(s.isAccept());
      for (Transition t : s.getTransitions()) b.transition(t.getMin(), t.getMax(), number(t.getDest(), ids, todo));
      List<State> moves = empty.isEmpty() ? null : empty.get(s);
      if (moves != null) for (State e : moves) b.empty(id, number(e, ids, todo));
    }
    return b.build(0);
  }

  private static int number(State s, Map<State, Integer> ids, ArrayDeque<State> todo) {
    Integer known = ids.putIfAbsent(s, ids.size());
    if (known != null) return known;
    todo.add(s);
    return ids.size() - 1;
  }

  /** As a brics automaton (fresh states; deterministic when this is). */
  Automaton toBrics(boolean deterministic) {
    State[] states = new State[Math.max(size, 1)];
    for (int s = 0; s < states.length; s++) states[s] = new State();
    for (int s = 0; s < size; s++) {
      states[s].setAccept(accept[s]);
      for (int t = first[s]; t < first[s + 1]; t++) {
        states[s].addTransition(new Transition((char) min[t], (char) max[t], states[dest[t]]));
      }
    }
    Automaton a = new Automaton();
    a.setInitialState(states[size == 0 ? 0 : start]);
    a.setDeterministic(deterministic);
    return a;
  }

  /**
   * The deterministic automaton of the same language (subset construction, empty moves followed), checking the
   * compile's budget at every new state and refusing more than {@code maxStates} states. Transitions of a state come
   * out sorted, disjoint, and merged where adjacent ranges go to the same state.
   */
  FlatAutomaton determinized(int maxStates) {
    Builder out = new Builder();
    Map<Subset, Integer> made = new HashMap<>();
    int[] singleton = new int[size]; // the DFA state of the subset {s}, most subsets of a near-deterministic input
    Arrays.fill(singleton, -1);
    java.util.ArrayList<int[]> subsets = new java.util.ArrayList<>();
    int[] stamp = new int[size];
    int[] round = {0};
    int[] stack = new int[16];
    int[] initial = closure(new int[] {start}, 1, stamp, round, stack);
    lookup(initial, made, singleton, subsets, maxStates);
    int[] lo = new int[16], hi = new int[16], to = new int[16], bounds = new int[32], moved = new int[16];
    for (int d = 0; d < subsets.size(); d++) {
      int[] subset = subsets.get(d);
      boolean accepting = false;
      int n = 0;
      for (int q : subset) {
        accepting |= accept[q];
        for (int t = first[q]; t < first[q + 1]; t++) {
          if (n == lo.length) {
            lo = Arrays.copyOf(lo, 2 * n);
            hi = Arrays.copyOf(hi, 2 * n);
            to = Arrays.copyOf(to, 2 * n);
          }
          lo[n] = min[t];
          hi[n] = max[t];
          to[n] = dest[t];
          n++;
        }
      }
      out.newState(accepting);
      if (n == 0) continue;
      if (bounds.length < 2 * n) bounds = new int[4 * n];
      for (int i = 0; i < n; i++) {
        bounds[2 * i] = lo[i];
        bounds[2 * i + 1] = hi[i] + 1;
      }
      Arrays.sort(bounds, 0, 2 * n);
      int nb = 0;
      for (int i = 0; i < 2 * n; i++) if (nb == 0 || bounds[nb - 1] != bounds[i]) bounds[nb++] = bounds[i];
      // Only the subset's own range bounds split its moves: its work is its transitions, not the alphabet.
      for (int k = 0; k + 1 < nb; k++) {
        int low = bounds[k];
        int m = 0;
        for (int i = 0; i < n; i++) {
          if (lo[i] <= low && low <= hi[i]) {
            if (m == moved.length) moved = Arrays.copyOf(moved, 2 * m);
            moved[m++] = to[i];
          }
        }
        if (m == 0) continue;
        int target = lookup(closure(moved, m, stamp, round, stack), made, singleton, subsets, maxStates);
        out.transition(low, bounds[k + 1] - 1, target);
      }
    }
    return out.build(0);
  }

  /** The DFA state of a subset, made (and queued) when new. */
  private static int lookup(int[] subset, Map<Subset, Integer> made, int[] singleton,
      java.util.ArrayList<int[]> subsets, int maxStates) {
    if (subset.length == 1 && singleton[subset[0]] >= 0) return singleton[subset[0]];
    Subset key = subset.length == 1 ? null : new Subset(subset);
    if (key != null) {
      Integer known = made.get(key);
      if (known != null) return known;
    }
    if (subsets.size() >= maxStates) {
      throw new RefusedRequestException("size", "the constraint is too complex: its automaton needs more than "
          + maxStates + " states");
    }
    CompileBudget.check();
    int id = subsets.size();
    subsets.add(subset);
    if (key == null) {
      singleton[subset[0]] = id;
    } else {
      made.put(key, id);
    }
    return id;
  }

  /** The sorted set of states reachable from the seeds by empty moves (the seeds included). */
  private int[] closure(int[] seeds, int count, int[] stamp, int[] round, int[] stack) {
    int r = ++round[0];
    if (emptyFirst == null) {
      int[] set = new int[count];
      int n = 0;
      for (int i = 0; i < count; i++) {
        if (stamp[seeds[i]] != r) {
          stamp[seeds[i]] = r;
          set[n++] = seeds[i];
        }
      }
      set = n == count ? set : Arrays.copyOf(set, n);
      if (n > 1) Arrays.sort(set);
      return set;
    }
    int[] set = new int[Math.max(4, count)];
    int n = 0, top = 0;
    for (int i = 0; i < count; i++) {
      int s = seeds[i];
      if (stamp[s] == r) continue;
      stamp[s] = r;
      if (top == stack.length) stack = Arrays.copyOf(stack, 2 * top);
      stack[top++] = s;
    }
    while (top > 0) {
      int s = stack[--top];
      if (n == set.length) set = Arrays.copyOf(set, 2 * n);
      set[n++] = s;
      for (int e = emptyFirst[s]; e < emptyFirst[s + 1]; e++) {
        int next = emptyDest[e];
        if (stamp[next] == r) continue;
        stamp[next] = r;
        if (top == stack.length) stack = Arrays.copyOf(stack, 2 * top);
        stack[top++] = next;
      }
    }
    set = Arrays.copyOf(set, n);
    if (n > 1) Arrays.sort(set);
    return set;
  }

  /**
   * This deterministic automaton without its dead ends: states from which no accepting state can be reached, and
   * those the start cannot reach, are dropped (numbered again, the start first).
   */
  FlatAutomaton pruned() {
    int[] intoCount = new int[size + 1];
    for (int t = 0; t < first[size]; t++) intoCount[dest[t] + 1]++;
    for (int s = 0; s < size; s++) intoCount[s + 1] += intoCount[s];
    int[] into = new int[first[size]];
    int[] fill = Arrays.copyOf(intoCount, size);
    for (int s = 0; s < size; s++) {
      for (int t = first[s]; t < first[s + 1]; t++) into[fill[dest[t]]++] = s;
    }
    boolean[] live = new boolean[size];
    int[] queue = new int[size];
    int head = 0, tail = 0;
    for (int s = 0; s < size; s++) {
      if (accept[s]) {
        live[s] = true;
        queue[tail++] = s;
      }
    }
    while (head < tail) {
      int s = queue[head++];
      for (int i = intoCount[s]; i < intoCount[s + 1]; i++) {
        if (!live[into[i]]) {
          live[into[i]] = true;
          queue[tail++] = into[i];
        }
      }
    }
    Builder out = new Builder();
    if (!live[start]) {
      out.newState(false);
      return out.build(0);
    }
    int[] renumbered = new int[size];
    Arrays.fill(renumbered, -1);
    head = 0;
    tail = 0;
    queue[tail++] = start;
    renumbered[start] = 0;
    while (head < tail) {
      int s = queue[head++];
      out.newState(accept[s]);
      for (int t = first[s]; t < first[s + 1]; t++) {
        int d = dest[t];
        if (!live[d]) continue;
        if (renumbered[d] < 0) {
          renumbered[d] = tail;
          queue[tail++] = d;
        }
        out.transition(min[t], max[t], renumbered[d]);
      }
    }
    return out.build(0);
  }

  /** A set of states as a map key. */
  private static final class Subset {
    private final int[] states;
    private final int hash;

    Subset(int[] states) {
      this.states = states;
      this.hash = Arrays.hashCode(states);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Subset && Arrays.equals(states, ((Subset) o).states);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** Builds states in order; a state's transitions and empty moves are added right after it. */
  static final class Builder {
    private int size;
    private boolean[] accept = new boolean[16];
    private int[] first = new int[17];
    private int[] min = new int[16];
    private int[] max = new int[16];
    private int[] dest = new int[16];
    private int transitions;
    private int[] emptyFrom;
    private int[] emptyTo;
    private int empties;

    int newState(boolean accepting) {
      if (size == accept.length) {
        accept = Arrays.copyOf(accept, 2 * size);
        first = Arrays.copyOf(first, 2 * size + 1);
      }
      accept[size] = accepting;
      first[size] = transitions;
      size++;
      first[size] = transitions;
      return size - 1;
    }

    int size() {
      return size;
    }

    /** A transition of the last state made; one adjacent to the previous one, to the same state, extends it. */
    void transition(int lo, int hi, int to) {
      if (transitions > first[size - 1] && dest[transitions - 1] == to && max[transitions - 1] + 1 == lo) {
        max[transitions - 1] = hi;
        return;
      }
      if (transitions == min.length) {
        min = Arrays.copyOf(min, 2 * transitions);
        max = Arrays.copyOf(max, 2 * transitions);
        dest = Arrays.copyOf(dest, 2 * transitions);
      }
      min[transitions] = lo;
      max[transitions] = hi;
      dest[transitions] = to;
      transitions++;
      first[size] = transitions;
    }

    void empty(int from, int to) {
      if (emptyFrom == null) {
        emptyFrom = new int[16];
        emptyTo = new int[16];
      } else if (empties == emptyFrom.length) {
        emptyFrom = Arrays.copyOf(emptyFrom, 2 * empties);
        emptyTo = Arrays.copyOf(emptyTo, 2 * empties);
      }
      emptyFrom[empties] = from;
      emptyTo[empties] = to;
      empties++;
    }

    FlatAutomaton build(int start) {
      int[] emptyFirst = null, emptyDest = null;
      if (empties > 0) {
        emptyFirst = new int[size + 1];
        for (int i = 0; i < empties; i++) emptyFirst[emptyFrom[i] + 1]++;
        for (int s = 0; s < size; s++) emptyFirst[s + 1] += emptyFirst[s];
        emptyDest = new int[empties];
        int[] fill = Arrays.copyOf(emptyFirst, size);
        for (int i = 0; i < empties; i++) emptyDest[fill[emptyFrom[i]]++] = emptyTo[i];
      }
      return new FlatAutomaton(size, start, Arrays.copyOf(accept, size), Arrays.copyOf(first, size + 1),
          Arrays.copyOf(min, transitions), Arrays.copyOf(max, transitions), Arrays.copyOf(dest, transitions),
          emptyFirst, emptyDest);
    }
  }
}

package barista.engine.constraint;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Automaton operations that stay within a compile's budget: brics' own determinization cannot be stopped and has
 * no size limit, so an automaton whose subset construction explodes would run on after its request is gone.
 */
final class Automata {
  private Automata() {}

  /** Automata up to this size are minimized (brics' Hopcroft); larger ones are only made deterministic. */
  static final int MINIMIZED_STATES = 2_000;

  /**
   * Makes {@code a} a deterministic automaton without dead ends, in place: the subset construction here (checking
   * the budget at every new state, refusing beyond {@link ByteDfa#MAX_BUILD_STATES} states), then, for automata of
   * at most {@link #MINIMIZED_STATES} states, brics' minimization. brics' Hopcroft takes seconds on tens of thousands
   * of states (a 200-property object), where the subset construction of automata joined by distinct keys is already
   * near minimal.
   */
  static void minimize(Automaton a) {
    minimize(a, Map.of());
  }

  /** As {@link #minimize(Automaton)}, for an automaton with these empty moves (state to the states it may enter). */
  static void minimize(Automaton a, Map<State, List<State>> empty) {
    CompileBudget.check();
    a.expandSingleton();
    if (!a.isDeterministic() || !empty.isEmpty()) determinize(a, empty);
    pruneDeadEnds(a);
    if (a.getNumberOfStates() <= MINIMIZED_STATES) a.minimize();
  }

  private static void determinize(Automaton a, Map<State, List<State>> empty) {
    Set<State> initial = closure(Set.of(a.getInitialState()), empty);
    Map<Set<State>, State> made = new HashMap<>();
    ArrayDeque<Set<State>> work = new ArrayDeque<>();
    State start = new State();
    made.put(initial, start);
    work.add(initial);
    List<Transition> out = new ArrayList<>();
    TreeSet<Integer> bounds = new TreeSet<>();
    while (!work.isEmpty()) {
      Set<State> subset = work.poll();
      State from = made.get(subset);
      out.clear();
      bounds.clear();
      for (State q : subset) {
        if (q.isAccept()) from.setAccept(true);
        for (Transition t : q.getTransitions()) {
          out.add(t);
          bounds.add((int) t.getMin());
          bounds.add(t.getMax() + 1);
        }
      }
      // Only the subset's own range bounds split its moves: a state's work is its transitions, not the alphabet.
      Integer low = bounds.isEmpty() ? null : bounds.first();
      for (Integer high = low == null ? null : bounds.higher(low); high != null; low = high, high = bounds.higher(high)) {
        Set<State> moved = new HashSet<>();
        for (Transition t : out) {
          if (t.getMin() <= low && low <= t.getMax()) moved.add(t.getDest());
        }
        if (moved.isEmpty()) continue;
        Set<State> target = closure(moved, empty);
        State to = made.get(target);
        if (to == null) {
          if (made.size() >= ByteDfa.MAX_BUILD_STATES) {
            throw new UnsupportedConstraintException("size", "the constraint is too complex: its automaton needs "
                + "more than " + ByteDfa.MAX_BUILD_STATES + " states");
          }
          CompileBudget.check();
          to = new State();
          made.put(target, to);
          work.add(target);
        }
        from.addTransition(new Transition((char) (int) low, (char) (high - 1), to));
      }
    }
    a.setInitialState(start);
    a.setDeterministic(true);
  }

  private static Set<State> closure(Set<State> states, Map<State, List<State>> empty) {
    if (empty.isEmpty()) return states;
    Set<State> closed = new HashSet<>(states);
    ArrayDeque<State> todo = new ArrayDeque<>(states);
    while (!todo.isEmpty()) {
      for (State next : empty.getOrDefault(todo.poll(), List.of())) {
        if (closed.add(next)) todo.add(next);
      }
    }
    return closed;
  }

  /** Drops the moves into states from which no accepting state can be reached (brics' own is slow at this size). */
  private static void pruneDeadEnds(Automaton a) {
    Set<State> states = a.getStates();
    Map<State, List<State>> into = new java.util.IdentityHashMap<>();
    ArrayDeque<State> todo = new ArrayDeque<>();
    Set<State> live = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (State s : states) {
      if (s.isAccept() && live.add(s)) todo.add(s);
      for (Transition t : s.getTransitions()) into.computeIfAbsent(t.getDest(), k -> new ArrayList<>()).add(s);
    }
    while (!todo.isEmpty()) {
      for (State before : into.getOrDefault(todo.poll(), List.of())) {
        if (live.add(before)) todo.add(before);
      }
    }
    if (live.size() == states.size()) return;
    for (State s : states) s.getTransitions().removeIf(t -> !live.contains(t.getDest()));
  }

  /** The automaton of exactly these strings, built in one pass as a minimal DFA (a union of them is quadratic). */
  static Automaton strings(List<String> strings) {
    TreeSet<String> sorted = new TreeSet<>(strings); // brics wants them sorted (UTF-16 order) and distinct
    CompileBudget.check();
    return dk.brics.automaton.BasicAutomata.makeStringUnion(sorted.toArray(CharSequence[]::new));
  }
}

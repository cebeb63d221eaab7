package barista.engine.constraint;

import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import java.util.List;
import java.util.Map;
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
   * Makes {@code a} a deterministic automaton without dead ends, in place: see {@link #deterministic}. brics'
   * Hopcroft takes seconds on tens of thousands of states (a 200-property object), where the subset construction
   * of automata joined by distinct keys is already near minimal.
   */
  static void minimize(Automaton a) {
    minimize(a, Map.of());
  }

  /** As {@link #minimize(Automaton)}, for an automaton with these empty moves (state to the states it may enter). */
  static void minimize(Automaton a, Map<State, List<State>> empty) {
    FlatAutomaton flat = deterministic(a, empty);
    Automaton result = flat.toBrics(true);
    a.setInitialState(result.getInitialState());
    a.setDeterministic(true);
    a.setInfo(new Flat(flat, result.getInitialState())); // what ByteDfa.of would compute again from it
  }

  /**
   * The flat form an automaton was made from, kept in its info: valid while its initial state is the one it was
   * made with (brics' copies get new states; its operations in place keep the language), so a wide object's
   * automaton is not converted and determinized a second time when it is the whole constraint.
   */
  private record Flat(FlatAutomaton automaton, State initial) {}

  /**
   * The deterministic automaton of {@code a} (with these empty moves) without dead ends, as flat arrays: the subset
   * construction of {@link FlatAutomaton} (checking the budget at every new state, refusing beyond
   * {@link ByteDfa#MAX_BUILD_STATES} states), then, for automata of at most {@link #MINIMIZED_STATES} states,
   * brics' minimization.
   */
  static FlatAutomaton deterministic(Automaton a, Map<State, List<State>> empty) {
    CompileBudget.check();
    if (empty.isEmpty() && a.getInfo() instanceof Flat known && known.initial() == a.getInitialState()) {
      return known.automaton();
    }
    FlatAutomaton d = FlatAutomaton.of(a, empty).determinized(ByteDfa.MAX_BUILD_STATES).pruned();
    if (d.size > 1 && d.size <= MINIMIZED_STATES) {
      Automaton small = d.toBrics(true);
      small.minimize();
      d = FlatAutomaton.of(small, Map.of()).determinized(ByteDfa.MAX_BUILD_STATES).pruned();
    }
    return d;
  }

  /** The automaton of exactly these strings, built in one pass as a minimal DFA (a union of them is quadratic). */
  static Automaton strings(List<String> strings) {
    TreeSet<String> sorted = new TreeSet<>(strings); // brics wants them sorted (UTF-16 order) and distinct
    CompileBudget.check();
    return dk.brics.automaton.BasicAutomata.makeStringUnion(sorted.toArray(CharSequence[]::new));
  }
}

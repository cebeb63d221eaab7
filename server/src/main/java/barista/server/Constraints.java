package barista.server;

import barista.engine.constraint.Grammar;
import barista.engine.constraint.TokenVocabulary;
import barista.server.http.ApiException;
import barista.server.openai.StructuredOutput;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Compiled grammars by constraint, least recently used dropped beyond {@link #MAX_GRAMMARS}: agents send the same
 * schema again and again, and a grammar's masks are worth keeping. Thread-safe.
 */
public final class Constraints {
  static final int MAX_GRAMMARS = 32;

  private final Map<String, Grammar> grammars = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Grammar> eldest) {
      return size() > MAX_GRAMMARS;
    }
  };

  /** The grammar of a constraint over the model's vocabulary; ApiException 400 when it cannot be compiled. */
  public Grammar grammar(StructuredOutput spec, ServedModel model) {
    synchronized (grammars) {
      Grammar g = grammars.get(spec.key());
      if (g != null) return g;
    }
    dk.brics.automaton.Automaton automaton = spec.automaton(); // a bad schema is the client's error on any model
    TokenVocabulary vocabulary = model.constraintVocabulary();
    if (vocabulary == null) {
      throw ApiException.badRequest("structured output is not available for this model", spec.param());
    }
    Grammar g;
    try {
      g = Grammar.compile(automaton, vocabulary);
    } catch (ApiException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(spec.param() + ": " + e.getMessage(), spec.param());
    }
    synchronized (grammars) {
      grammars.put(spec.key(), g);
    }
    return g;
  }
}

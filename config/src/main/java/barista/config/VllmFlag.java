package barista.config;

import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One flag of {@code vllm serve} and how barista answers it: honoured (an option of barista's own with vLLM's
 * name), accepted with no effect (for any value, or for the values that are what barista does anyway), or refused
 * with a one-line reason.
 *
 * @param names the flag and its aliases, the long name first
 * @param arity picocli's arity: "0" for a switch, "0..1" for vLLM's optional-value booleans, "1", or "1..*"
 * @param testValue vLLM's default, or a typical value where vLLM's default is to leave the flag out; null for a switch
 * @param answer how barista answers it
 * @param noEffectValues for {@link Answer#NO_EFFECT_FOR}: the values accepted with no effect
 * @param reason for no effect: why nothing changes; for refused: why not (also the refusal of other values)
 * @param requires for a no-effect flag that makes sense only beside one of barista's options: that condition
 * @param requiresReason why the flag is refused without that condition
 * @param companions arguments a test must give beside the flag (a flag that needs another)
 */
public record VllmFlag(List<String> names, String arity, String testValue, Answer answer, Set<String> noEffectValues,
    String reason, Predicate<ServeOptions> requires, String requiresReason, List<String> companions) {

  public enum Answer {
    /** An option of barista's own, with vLLM's meaning (restrictions are checked by {@link ServeOptions}). */
    HONOURED,
    /** Accepted with any value; changes nothing here, logged once at startup. */
    NO_EFFECT,
    /** Accepted with no effect for {@link #noEffectValues}; other values are refused. */
    NO_EFFECT_FOR,
    /** Refused at startup with exit code 2. */
    REFUSED
  }

  /** The long name, "--x". */
  public String name() {
    return names.get(0);
  }

  public boolean takesValue() {
    return !arity.equals("0");
  }

  /** The refusal of {@code value} given to this flag, or null when it is accepted. */
  String refusal(String value, ServeOptions options) {
    return switch (answer) {
      case HONOURED -> null;
      case NO_EFFECT -> requires == null || requires.test(options) ? null : requiresReason;
      case NO_EFFECT_FOR -> noEffectValues.contains(value) ? null : reason;
      case REFUSED -> reason;
    };
  }

  /** What docs/vllm-differences.md says about it, one table cell. */
  public String documented() {
    return switch (answer) {
      case HONOURED -> "honoured" + (reason == null ? "" : ": " + reason);
      case NO_EFFECT -> "no effect: " + reason + (requires == null ? "" : "; refused otherwise: " + requiresReason);
      case NO_EFFECT_FOR -> "no effect for " + String.join(", ", noEffectValues.stream().sorted()
          .map(v -> "`" + v + "`").toList()) + "; other values refused: " + reason;
      case REFUSED -> "refused: " + reason;
    };
  }
}

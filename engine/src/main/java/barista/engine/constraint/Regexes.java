package barista.engine.constraint;

import barista.engine.sampling.RefusedRequestException;
import dk.brics.automaton.Automaton;
import java.util.ArrayList;
import java.util.List;

/**
 * Regular expressions in the syntax clients send (Python's re / JavaScript's, as vLLM's guided_regex takes them)
 * turned into brics automata. brics's own syntax differs (it reserves {@code " < > # @ & ~} and has no {@code \d}),
 * so this is a small parser of our own for the regular subset: literals, escapes ({@code \d \w \s} and their
 * negations, ASCII as with re.ASCII), classes, {@code .}, groups (capturing, {@code (?:)}, named), alternation and
 * the quantifiers {@code * + ? {n} {n,} {n,m}} (lazy ones read as greedy: the language is the same). Anchors are
 * accepted at the ends only (the whole output must match anyway). Back-references, look-around, word boundaries
 * and possessive quantifiers are not regular or not supported: RefusedRequestException names them.
 */
public final class Regexes {
  static final int MAX_REPEAT = 1000;
  private static final Automaton ANY = Automaton.makeCharRange('\u0000', '\uffff');

  private final String src;
  private int pos;

  private Regexes(String src) {
    this.src = src;
  }

  public static Automaton parse(String regex) {
    Regexes p = new Regexes(regex);
    if (p.peek('^')) p.pos++;
    Automaton a = p.alternation();
    if (p.pos < regex.length()) throw p.error("unbalanced ')' at offset " + p.pos);
    return a;
  }

  /** Exactly these strings. */
  public static Automaton literal(String text) {
    return Automaton.makeString(text);
  }

  /** Exactly one of these texts, built in time linear in their length. */
  public static Automaton oneOf(List<String> texts) {
    return Automata.strings(texts);
  }

  private Automaton alternation() {
    List<Automaton> options = new ArrayList<>();
    options.add(concatenation());
    while (peek('|')) {
      pos++;
      options.add(concatenation());
    }
    return options.size() == 1 ? options.get(0) : Automaton.union(options);
  }

  private Automaton concatenation() {
    List<Automaton> parts = new ArrayList<>();
    while (pos < src.length() && !peek('|') && !peek(')')) {
      if (peek('$') && (pos == src.length() - 1 || src.charAt(pos + 1) == ')' || src.charAt(pos + 1) == '|')) {
        pos++;
        continue;
      }
      parts.add(quantified(atom()));
    }
    return parts.isEmpty() ? Automaton.makeEmptyString() : Automaton.concatenate(parts);
  }

  private Automaton quantified(Automaton a) {
    while (pos < src.length()) {
      char c = src.charAt(pos);
      int min, max;
      if (c == '*') { min = 0; max = -1; pos++; }
      else if (c == '+') { min = 1; max = -1; pos++; }
      else if (c == '?') { min = 0; max = 1; pos++; }
      else if (c == '{' && isCount(pos)) {
        int close = src.indexOf('}', pos);
        String[] range = src.substring(pos + 1, close).split(",", -1);
        min = Integer.parseInt(range[0].isEmpty() ? "0" : range[0]);
        max = range.length == 1 ? min : range[1].isEmpty() ? -1 : Integer.parseInt(range[1]);
        if (min > MAX_REPEAT || max > MAX_REPEAT) {
          throw new RefusedRequestException("{n,m}", "regex repetition counts above " + MAX_REPEAT
              + " are not supported");
        }
        if (max >= 0 && max < min) throw error("repetition {" + min + "," + max + "} has max below min");
        pos = close + 1;
      } else {
        return a;
      }
      if (peek('?')) pos++; // lazy: same language
      else if (peek('+')) throw new RefusedRequestException("possessive quantifier",
          "possessive quantifiers are not supported in regex");
      checkRepeat(a, Math.max(min, max));
      a = max < 0 ? a.repeat(min) : a.repeat(min, max);
    }
    return a;
  }

  /** Refuses a repetition whose automaton would be too large to build, before brics builds it. */
  static void checkRepeat(Automaton a, int copies) {
    if ((long) a.getNumberOfStates() * Math.max(1, copies) > ByteDfa.MAX_BUILD_STATES) {
      throw new RefusedRequestException("size", "the constraint is too complex: a repetition needs more than "
          + ByteDfa.MAX_BUILD_STATES + " automaton states");
    }
  }

  private boolean isCount(int at) {
    int close = src.indexOf('}', at);
    return close > at + 1 && src.substring(at + 1, close).matches("\\d{0,6}(,\\d{0,6})?")
        && !src.substring(at + 1, close).equals(",");
  }

  private Automaton atom() {
    char c = src.charAt(pos++);
    switch (c) {
      case '(':
        if (peek('?')) {
          if (src.startsWith("?:", pos)) {
            pos += 2;
          } else if (src.startsWith("?P<", pos) || (src.startsWith("?<", pos) && pos + 2 < src.length()
              && src.charAt(pos + 2) != '=' && src.charAt(pos + 2) != '!')) {
            int close = src.indexOf('>', pos);
            if (close < 0) throw error("unterminated group name");
            pos = close + 1;
          } else {
            throw new RefusedRequestException("(?" + (pos + 1 < src.length() ? src.charAt(pos + 1) : "")
                + ")", "look-around, flags and conditionals are not supported in regex (at offset " + (pos - 1) + ")");
          }
        }
        Automaton inner = alternation();
        if (!peek(')')) throw error("missing ')'");
        pos++;
        return inner;
      case '[':
        return charClass();
      case '.':
        return ANY.minus(Automaton.makeChar('\n'));
      case '\\':
        return escape(false);
      case '^':
        throw new RefusedRequestException("^", "'^' is supported only at the start of a regex");
      case '$':
        throw new RefusedRequestException("$", "'$' is supported only at the end of a regex");
      case ')':
        throw error("unbalanced ')'");
      case '*': case '+': case '?':
        throw error("nothing to repeat at offset " + (pos - 1));
      default:
        return Automaton.makeChar(c);
    }
  }

  private Automaton charClass() {
    boolean negate = peek('^');
    if (negate) pos++;
    Automaton set = Automaton.makeEmpty();
    boolean first = true;
    while (true) {
      if (pos >= src.length()) throw error("unterminated character class");
      char c = src.charAt(pos);
      if (c == ']' && !first) {
        pos++;
        break;
      }
      first = false;
      pos++;
      Automaton item;
      int lo;
      if (c == '\\') {
        item = escape(true);
        lo = singleChar(item);
      } else {
        item = Automaton.makeChar(c);
        lo = c;
      }
      if (lo >= 0 && peek('-') && pos + 1 < src.length() && src.charAt(pos + 1) != ']') {
        pos++;
        char h = src.charAt(pos++);
        int hi = h;
        if (h == '\\') hi = singleChar(escape(true));
        if (hi < 0 || hi < lo) throw error("bad character range in class");
        item = Automaton.makeCharRange((char) lo, (char) hi);
      }
      set = set.union(item);
    }
    return negate ? ANY.minus(set) : set;
  }

  /** The char an escape stands for, or -1 when it is a class like \d. */
  private static int singleChar(Automaton a) {
    String s = a.getSingleton();
    return s != null && s.length() == 1 ? s.charAt(0) : -1;
  }

  private Automaton escape(boolean inClass) {
    if (pos >= src.length()) throw error("trailing backslash");
    char c = src.charAt(pos++);
    Automaton digit = Automaton.makeCharRange('0', '9');
    Automaton word = digit.union(Automaton.makeCharRange('a', 'z')).union(Automaton.makeCharRange('A', 'Z'))
        .union(Automaton.makeChar('_'));
    Automaton space = Automaton.makeCharSet(" \t\n\r\f\u000b");
    switch (c) {
      case 'd': return digit;
      case 'D': return ANY.minus(digit);
      case 'w': return word;
      case 'W': return ANY.minus(word);
      case 's': return space;
      case 'S': return ANY.minus(space);
      case 'n': return Automaton.makeChar('\n');
      case 't': return Automaton.makeChar('\t');
      case 'r': return Automaton.makeChar('\r');
      case 'f': return Automaton.makeChar('\f');
      case 'v': return Automaton.makeChar('\u000b');
      case '0': return Automaton.makeChar('\0');
      case 'x': return Automaton.makeChar((char) hex(2));
      case 'u': return Automaton.makeChar((char) hex(4));
      case 'b':
        if (inClass) return Automaton.makeChar('\b');
        throw new RefusedRequestException("\\b", "word boundaries (\\b) are not supported in regex");
      case 'B': case 'A': case 'Z': case 'z': case 'G':
        throw new RefusedRequestException("\\" + c, "\\" + c + " is not supported in regex");
      default:
        if (Character.isDigit(c)) {
          throw new RefusedRequestException("back-reference", "back-references (\\" + c
              + ") are not regular: not supported in regex");
        }
        if (Character.isLetterOrDigit(c)) throw error("unknown escape \\" + c);
        return Automaton.makeChar(c);
    }
  }

  private int hex(int digits) {
    if (pos + digits > src.length()) throw error("truncated hex escape");
    try {
      int v = Integer.parseInt(src.substring(pos, pos + digits), 16);
      pos += digits;
      return v;
    } catch (NumberFormatException e) {
      throw error("bad hex escape");
    }
  }

  private boolean peek(char c) {
    return pos < src.length() && src.charAt(pos) == c;
  }

  private IllegalArgumentException error(String message) {
    return new IllegalArgumentException("invalid regex: " + message);
  }
}

package barista.engine.tools;

import barista.engine.tokenizer.ByteLevel;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny byte-level BPE trainer: splits text the way Qwen2's pre-tokenizer does, then repeatedly merges the most
 * frequent adjacent pair of symbols. Deterministic (ties go to the alphabetically first pair), so the same text
 * always gives the same merges.
 */
final class BpeTrainer {

  /** Qwen2's pre-tokenizer split pattern (contractions, letter runs, single digits, punctuation, whitespace). */
  static final String QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
      + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  private BpeTrainer() {}

  /** Up to maxMerges merges (fewer if no pair occurs twice), as byte-level token string pairs in rank order. */
  static List<String[]> train(String text, int maxMerges) {
    List<List<String>> words = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    wordCounts(text).forEach((word, count) -> {
      List<String> symbols = new ArrayList<>();
      word.codePoints().forEach(c -> symbols.add(Character.toString(c)));
      words.add(symbols);
      counts.add(count);
    });
    List<String[]> merges = new ArrayList<>();
    while (merges.size() < maxMerges) {
      String[] best = mostFrequentPair(words, counts);
      if (best == null) {
        break;
      }
      merges.add(best);
      for (List<String> word : words) {
        merge(word, best[0], best[1]);
      }
    }
    return merges;
  }

  /** Pre-tokenized words of the NFC-normalized text, written byte-level, with their counts in first-seen order. */
  private static Map<String, Integer> wordCounts(String text) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    Matcher m = Pattern.compile(QWEN2_SPLIT).matcher(Normalizer.normalize(text, Normalizer.Form.NFC));
    while (m.find()) {
      counts.merge(ByteLevel.encode(m.group().getBytes(StandardCharsets.UTF_8)), 1, Integer::sum);
    }
    return counts;
  }

  private static String[] mostFrequentPair(List<List<String>> words, List<Integer> counts) {
    Map<String, Integer> pairCounts = new LinkedHashMap<>();
    Map<String, String[]> pairs = new LinkedHashMap<>();
    for (int w = 0; w < words.size(); w++) {
      List<String> word = words.get(w);
      for (int i = 0; i + 1 < word.size(); i++) {
        String key = word.get(i) + ' ' + word.get(i + 1); // byte-level symbols never contain a space
        pairCounts.merge(key, counts.get(w), Integer::sum);
        pairs.putIfAbsent(key, new String[] {word.get(i), word.get(i + 1)});
      }
    }
    String best = null;
    for (Map.Entry<String, Integer> e : pairCounts.entrySet()) {
      int count = e.getValue();
      if (count >= 2 && (best == null || count > pairCounts.get(best)
          || (count == pairCounts.get(best) && e.getKey().compareTo(best) < 0))) {
        best = e.getKey();
      }
    }
    return best == null ? null : pairs.get(best);
  }

  private static void merge(List<String> word, String left, String right) {
    for (int i = 0; i + 1 < word.size(); i++) {
      if (word.get(i).equals(left) && word.get(i + 1).equals(right)) {
        word.set(i, left + right);
        word.remove(i + 1);
      }
    }
  }
}

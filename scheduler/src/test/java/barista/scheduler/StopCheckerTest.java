package barista.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import barista.engine.sampling.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stop rules token by token, with tokens that detokenize to chosen pieces of text. */
class StopCheckerTest {
  private static final int EOS = 9;
  private static final String[] PIECES = {"He", "llo", " wo", "rld", "!", "E", "ND", "x", "", "<eos>", "🙂z"};

  /**
   * Detokenizes token t to PIECES[t]; token 8 holds "y" back as an incomplete character until flushed; token 10 is an
   * emoji (two UTF-16 chars) and a letter.
   */
  private static final class Pieces implements Detokenizer {
    private String pending = "";

    @Override
    public String add(int tokenId) {
      if (tokenId == 8) {
        pending = "y";
        return "";
      }
      return PIECES[tokenId];
    }

    @Override
    public String flush() {
      return pending;
    }
  }

  private static StopChecker checker(SamplingParams.Builder params) {
    return new StopChecker(params.build(), new int[] {EOS}, new Pieces());
  }

  /** Feeds tokens until a decision finishes; returns the pieces released (the last holds the finish). */
  private static Run feed(StopChecker c, int maxTokens, int... tokens) {
    StringBuilder streamed = new StringBuilder();
    for (int i = 0; i < tokens.length; i++) {
      StopChecker.Decision d = c.onToken(tokens[i], i + 1, i + 1 >= maxTokens);
      streamed.append(d.text());
      if (d.finish() != null) return new Run(streamed.toString(), d, i + 1);
    }
    return new Run(streamed.toString(), null, tokens.length);
  }

  private record Run(String streamed, StopChecker.Decision last, int consumed) {}

  @Test
  void stopStringAcrossTokensIsCutAndNeverStreamed() {
    StopChecker c = checker(SamplingParams.builder().stop(List.of("o wo")));
    Run run = feed(c, 100, 0, 1, 2, 3);
    assertEquals(FinishReason.STOP, run.last().finish());
    assertEquals("o wo", run.last().stopReason());
    assertEquals(3, run.consumed());
    assertEquals("Hell", run.streamed());
    assertEquals("Hell", c.text());
  }

  @Test
  void heldBackTextIsReleasedWhenTheStopStringDoesNotComplete() {
    StopChecker c = checker(SamplingParams.builder().stop(List.of("END")));
    assertEquals("", c.onToken(0, 1, false).text(), "the last 2 characters could start END");
    assertEquals("Hel", c.onToken(1, 2, false).text());
    assertEquals("l", c.onToken(5, 3, false).text());
    assertEquals("oEx", c.onToken(7, 4, true).text(), "E was not the start of END; everything goes at the end");
  }

  @Test
  void includeStopStrInOutputKeepsItAndHoldsNothingBack() {
    StopChecker c = checker(SamplingParams.builder().stop(List.of("END")).includeStopStrInOutput(true));
    assertEquals("He", c.onToken(0, 1, false).text());
    assertEquals("E", c.onToken(5, 2, false).text());
    StopChecker.Decision d = c.onToken(6, 3, false);
    assertEquals("ND", d.text());
    assertEquals(FinishReason.STOP, d.finish());
    assertEquals("HeEND", c.text());
  }

  @Test
  void earliestOfSeveralStopStringsWins() {
    StopChecker c = checker(SamplingParams.builder().stop(List.of("rld", "llo")));
    Run run = feed(c, 100, 0, 1, 2, 3);
    assertEquals("llo", run.last().stopReason());
    assertEquals("He", run.streamed());
  }

  @Test
  void eosStopsUnlessIgnored() {
    Run run = feed(checker(SamplingParams.builder()), 100, 0, EOS, 1);
    assertEquals(FinishReason.STOP, run.last().finish());
    assertNull(run.last().stopReason());
    assertEquals("He", run.streamed(), "EOS adds no text");

    Run ignored = feed(checker(SamplingParams.builder().ignoreEos(true)), 3, 0, EOS, 1);
    assertEquals(FinishReason.LENGTH, ignored.last().finish());
    assertEquals("He<eos>llo", ignored.streamed());
  }

  @Test
  void stopTokenIdReportsTheIdAndItsTextOnlyWhenIncluded() {
    Run run = feed(checker(SamplingParams.builder().stopTokenIds(List.of(4))), 100, 0, 4, 1);
    assertEquals(FinishReason.STOP, run.last().finish());
    assertEquals(4, run.last().stopReason());
    assertEquals("He", run.streamed());

    Run included = feed(checker(SamplingParams.builder().stopTokenIds(List.of(4)).includeStopStrInOutput(true)),
        100, 0, 4, 1);
    assertEquals("He!", included.streamed());
  }

  @Test
  void minTokensBansEosAndStopIdsAndDefersStops() {
    StopChecker c = checker(SamplingParams.builder().minTokens(2).stopTokenIds(List.of(4)).stop(List.of("llo")));
    assertArrayEquals(new int[] {EOS, 4}, c.banned(0));
    assertArrayEquals(new int[] {EOS, 4}, c.banned(1));
    assertArrayEquals(new int[0], c.banned(2), "the third token may stop");
    Run run = feed(c, 100, 0, 1, 2, EOS);
    assertEquals(4, run.consumed(), "llo completed at the second token, before min_tokens allowed a stop");
    assertEquals(FinishReason.STOP, run.last().finish());
    assertEquals("Hello wo", run.streamed());
  }

  @Test
  void ignoreEosDoesNotBanEos() {
    assertArrayEquals(new int[0], checker(SamplingParams.builder().ignoreEos(true).minTokens(3)).banned(0));
  }

  @Test
  void everyStopIdIsBannedUntilMinTokens() {
    StopChecker c = checker(SamplingParams.builder().minTokens(1).stopTokenIds(List.of(4, 7, 5)));
    assertArrayEquals(new int[] {EOS, 4, 7, 5}, c.banned(0));
  }

  @Test
  void aStopStringAtTheVeryStartStops() {
    Run run = feed(checker(SamplingParams.builder().stop(List.of("He"))), 100, 0, 1);
    assertEquals(1, run.consumed());
    assertEquals("He", run.last().stopReason());
    assertEquals("", run.streamed());
  }

  @Test
  void heldBackTextNeverSplitsASurrogatePair() {
    StopChecker c = checker(SamplingParams.builder().stop(List.of("abc"))); // holds back 2 chars
    assertEquals("", c.onToken(0, 1, false).text(), "\"He\" is all held back");
    assertEquals("H", c.onToken(7, 2, false).text());
    // "Hex🙂z": releasing all but 2 chars would end inside the emoji; its high surrogate waits with the rest.
    assertEquals("ex", c.onToken(10, 3, false).text());
    StopChecker.Decision last = c.onToken(7, 4, true);
    assertEquals("🙂zx", last.text());
    assertEquals(FinishReason.LENGTH, last.finish());
  }

  @Test
  void lengthCapFlushesHeldCharacters() {
    Run run = feed(checker(SamplingParams.builder()), 2, 0, 8);
    assertEquals(FinishReason.LENGTH, run.last().finish());
    assertNull(run.last().stopReason());
    assertEquals("Hey", run.streamed());
  }
}

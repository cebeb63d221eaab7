package barista.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** vLLM's defaults, the range of every field (its edges accepted, just past them refused, by name), the builder. */
class SamplingParamsTest {
  private static SamplingParams.Builder b() {
    return SamplingParams.builder();
  }

  @Test
  void defaultsAreVllms() {
    SamplingParams p = b().build();
    assertEquals(1.0, p.temperature());
    assertEquals(1.0, p.topP());
    assertEquals(-1, p.topK());
    assertEquals(0.0, p.minP());
    assertEquals(1.0, p.repetitionPenalty());
    assertEquals(0.0, p.presencePenalty());
    assertEquals(0.0, p.frequencyPenalty());
    assertEquals(null, p.seed());
    assertEquals(16, p.maxTokens());
    assertEquals(0, p.minTokens());
    assertFalse(p.ignoreEos());
    assertEquals(List.of(), p.stop());
    assertEquals(List.of(), p.stopTokenIds());
    assertFalse(p.includeStopStrInOutput());
    assertTrue(p.skipSpecialTokens());
    assertEquals(null, p.logprobs());
    assertFalse(p.hasPenalties());
    assertFalse(p.isGreedy());
    assertSame(p, p.validate());
  }

  @Test
  void everyFieldSurvivesToBuilder() {
    SamplingParams p = b().temperature(0.7).topP(0.9).topK(40).minP(0.05).repetitionPenalty(1.1)
        .presencePenalty(0.5).frequencyPenalty(-0.5).seed(42L).maxTokens(100).minTokens(3).ignoreEos(true)
        .stop(List.of("x", "y")).stopTokenIds(List.of(7, 8)).includeStopStrInOutput(true).skipSpecialTokens(false)
        .logprobs(5).build();
    assertEquals(p, p.toBuilder().build());
    assertEquals(new SamplingParams(0.7, 0.9, 40, 0.05, 1.1, 0.5, -0.5, 42L, 100, 3, true, List.of("x", "y"),
        List.of(7, 8), true, false, 5, null, null, null, null, null), p);
  }

  @Test
  void topKZeroMeansOffAndNullListsAreEmpty() {
    assertEquals(-1, b().topK(0).build().topK());
    SamplingParams p = new SamplingParams(1, 1, -1, 0, 1, 0, 0, null, null, 0, false, null, null, false, true, null,
        null, null, null, null, null);
    assertEquals(List.of(), p.stop());
    assertEquals(List.of(), p.stopTokenIds());
    List<String> stop = new ArrayList<>(List.of("a"));
    SamplingParams copied = b().stop(stop).build();
    stop.add("b");
    assertEquals(List.of("a"), copied.stop(), "the params keep their own copy");
    assertThrows(UnsupportedOperationException.class, () -> copied.stop().add("c"));
  }

  @Test
  void greedyBelowTemperatureOneHundredThousandth() {
    assertTrue(b().temperature(0).build().isGreedy());
    assertTrue(b().temperature(0.99e-5).build().isGreedy());
    assertFalse(b().temperature(1e-5).build().isGreedy());
    assertTrue(SamplingParams.greedy(3).isGreedy());
    assertEquals(3, SamplingParams.greedy(3).maxTokens());
  }

  @Test
  void eachPenaltyCounts() {
    assertTrue(b().repetitionPenalty(1.01).build().hasPenalties());
    assertTrue(b().repetitionPenalty(0.99).build().hasPenalties());
    assertTrue(b().presencePenalty(0.1).build().hasPenalties());
    assertTrue(b().presencePenalty(-0.1).build().hasPenalties());
    assertTrue(b().frequencyPenalty(0.1).build().hasPenalties());
    assertTrue(b().frequencyPenalty(-0.1).build().hasPenalties());
  }

  private static void accepted(UnaryOperator<SamplingParams.Builder> set) {
    assertDoesNotThrow(() -> set.apply(b()).build().validate());
  }

  private static void refused(String field, String message, UnaryOperator<SamplingParams.Builder> set) {
    RefusedRequestException e = assertThrows(RefusedRequestException.class,
        () -> set.apply(b()).build().validate());
    assertEquals(field, e.what());
    assertEquals(message, e.getMessage());
  }

  @Test
  void rangesIncludeTheirEdges() {
    accepted(x -> x.temperature(0));
    accepted(x -> x.temperature(100));
    accepted(x -> x.topP(1));
    accepted(x -> x.topP(1e-9));
    accepted(x -> x.topK(-1));
    accepted(x -> x.topK(1));
    accepted(x -> x.minP(0));
    accepted(x -> x.minP(1));
    accepted(x -> x.repetitionPenalty(100));
    accepted(x -> x.repetitionPenalty(1e-9));
    accepted(x -> x.presencePenalty(2).frequencyPenalty(2));
    accepted(x -> x.presencePenalty(-2).frequencyPenalty(-2));
    accepted(x -> x.maxTokens(1).minTokens(1));
    accepted(x -> x.maxTokens(null).minTokens(1000));
    accepted(x -> x.minTokens(0));
    accepted(x -> x.stop(Collections.nCopies(SamplingParams.MAX_STOP_STRINGS, "s")));
    accepted(x -> x.logprobs(0));
    accepted(x -> x.logprobs(SamplingParams.MAX_TOP_LOGPROBS));
  }

  @Test
  void justPastTheEdgesIsRefusedByName() {
    refused("temperature", "temperature must be between 0 and 100, got -0.001", x -> x.temperature(-0.001));
    refused("temperature", "temperature must be between 0 and 100, got 100.5", x -> x.temperature(100.5));
    refused("temperature", "temperature must be between 0 and 100, got NaN", x -> x.temperature(Double.NaN));
    refused("top_p", "top_p must be in (0, 1], got 0.0", x -> x.topP(0));
    refused("top_p", "top_p must be in (0, 1], got 1.0001", x -> x.topP(1.0001));
    refused("top_p", "top_p must be in (0, 1], got NaN", x -> x.topP(Double.NaN));
    refused("top_k", "top_k must be -1 or 0 (disable), or at least 1, got -2", x -> x.topK(-2));
    refused("min_p", "min_p must be in [0, 1], got -0.1", x -> x.minP(-0.1));
    refused("min_p", "min_p must be in [0, 1], got 1.1", x -> x.minP(1.1));
    refused("min_p", "min_p must be in [0, 1], got NaN", x -> x.minP(Double.NaN));
    refused("repetition_penalty", "repetition_penalty must be in (0, 100], got 0.0", x -> x.repetitionPenalty(0));
    refused("repetition_penalty", "repetition_penalty must be in (0, 100], got 100.1",
        x -> x.repetitionPenalty(100.1));
    refused("repetition_penalty", "repetition_penalty must be in (0, 100], got Infinity",
        x -> x.repetitionPenalty(Double.POSITIVE_INFINITY));
    refused("presence_penalty", "presence_penalty must be in [-2, 2], got 2.01", x -> x.presencePenalty(2.01));
    refused("presence_penalty", "presence_penalty must be in [-2, 2], got -2.01", x -> x.presencePenalty(-2.01));
    refused("presence_penalty", "presence_penalty must be in [-2, 2], got NaN",
        x -> x.presencePenalty(Double.NaN));
    refused("frequency_penalty", "frequency_penalty must be in [-2, 2], got 2.01", x -> x.frequencyPenalty(2.01));
    refused("frequency_penalty", "frequency_penalty must be in [-2, 2], got -2.01", x -> x.frequencyPenalty(-2.01));
    refused("frequency_penalty", "frequency_penalty must be in [-2, 2], got NaN",
        x -> x.frequencyPenalty(Double.NaN));
    refused("max_tokens", "max_tokens must be at least 1, got 0", x -> x.maxTokens(0));
    refused("min_tokens", "min_tokens must be at least 0, got -1", x -> x.minTokens(-1));
    refused("min_tokens", "min_tokens must be at most max_tokens (4), got 5", x -> x.maxTokens(4).minTokens(5));
    refused("stop", "stop at most 16 stop strings, got 17",
        x -> x.stop(Collections.nCopies(SamplingParams.MAX_STOP_STRINGS + 1, "s")));
    refused("stop", "stop stop strings must not be empty", x -> x.stop(List.of("ok", "")));
    refused("logprobs", "logprobs must be between 0 and 20, got -1", x -> x.logprobs(-1));
    refused("logprobs", "logprobs must be between 0 and 20, got 21", x -> x.logprobs(21));
  }
}

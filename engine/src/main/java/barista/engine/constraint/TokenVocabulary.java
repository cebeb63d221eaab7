package barista.engine.constraint;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The tokens a constraint may choose from, as a byte trie: every regular (non-added) token's bytes, so a mask is
 * one walk of the trie beside the automaton, pruned where the automaton has no step. Added tokens (EOS, the chat
 * markers) are never produced by walking; EOS is allowed exactly in accepting states.
 *
 * <p>Immutable, built once per served model, shared by every constraint.
 */
public final class TokenVocabulary {
  private final int maskSize;
  private final int[] eosIds;
  // The trie in compressed-row form: node i's children are childByte/childNode[childStart[i] .. childStart[i+1]).
  private final int[] childStart;
  private final byte[] childByte;
  private final int[] childNode;
  // Tokens ending at node i: tokenIds[tokenStart[i] .. tokenStart[i+1]).
  private final int[] tokenStart;
  private final int[] tokenIds;
  private final boolean everyByteIsAToken;
  private final byte[][] tokenBytes;

  /**
   * @param tokenBytes per id the bytes it stands for, or null for ids that constrained output never uses (added and
   *     special tokens, ids past the tokenizer)
   * @param maskSize the model's vocabulary size (the logits' width), at least tokenBytes.length
   */
  public TokenVocabulary(byte[][] tokenBytes, int maskSize, int[] eosIds) {
    if (maskSize < tokenBytes.length) throw new IllegalArgumentException("mask narrower than the vocabulary");
    this.maskSize = maskSize;
    this.eosIds = eosIds.clone();
    this.tokenBytes = tokenBytes.clone();
    Map<Long, Integer> edges = new HashMap<>();
    int nodes = 1;
    int[] endNode = new int[tokenBytes.length];
    boolean[] singleBytes = new boolean[256];
    for (int id = 0; id < tokenBytes.length; id++) {
      byte[] bytes = tokenBytes[id];
      endNode[id] = -1;
      if (bytes == null || bytes.length == 0) continue;
      if (bytes.length == 1) singleBytes[bytes[0] & 0xff] = true;
      int node = 0;
      for (byte b : bytes) {
        long key = (long) node * 256 + (b & 0xff);
        Integer child = edges.get(key);
        if (child == null) {
          child = nodes++;
          edges.put(key, child);
        }
        node = child;
      }
      endNode[id] = node;
    }
    boolean all = true;
    for (boolean b : singleBytes) all &= b;
    this.everyByteIsAToken = all;
    childStart = new int[nodes + 1];
    for (long key : edges.keySet()) childStart[(int) (key / 256) + 1]++;
    for (int i = 0; i < nodes; i++) childStart[i + 1] += childStart[i];
    childByte = new byte[edges.size()];
    childNode = new int[edges.size()];
    int[] fill = Arrays.copyOf(childStart, nodes);
    for (Map.Entry<Long, Integer> e : edges.entrySet()) {
      int parent = (int) (e.getKey() / 256);
      int at = fill[parent]++;
      childByte[at] = (byte) (e.getKey() % 256);
      childNode[at] = e.getValue();
    }
    tokenStart = new int[nodes + 1];
    for (int node : endNode) if (node >= 0) tokenStart[node + 1]++;
    for (int i = 0; i < nodes; i++) tokenStart[i + 1] += tokenStart[i];
    int[] tokenFill = Arrays.copyOf(tokenStart, nodes);
    int count = 0;
    for (int node : endNode) if (node >= 0) count++;
    tokenIds = new int[count];
    for (int id = 0; id < endNode.length; id++) if (endNode[id] >= 0) tokenIds[tokenFill[endNode[id]]++] = id;
  }

  public int maskSize() {
    return maskSize;
  }

  boolean isEos(int id) {
    for (int eos : eosIds) if (eos == id) return true;
    return false;
  }

  /** The bytes of a token a constraint may produce, or null for one it never produces. */
  byte[] bytes(int id) {
    return id >= 0 && id < tokenBytes.length ? tokenBytes[id] : null;
  }

  /**
   * Whether all 256 single bytes are tokens (true for byte-level BPE): then a state {@code d} bytes from acceptance
   * is at most {@code d} tokens from it, which is what lets a constrained request always finish within max_tokens.
   */
  public boolean everyByteIsAToken() {
    return everyByteIsAToken;
  }

  /** What one walk found: the allowed tokens, and how far from acceptance they lead. */
  static final class Walk {
    final long[] words;
    int maxDistance; // over the allowed tokens' end states
    int minDistance = Integer.MAX_VALUE; // the same, 0 with EOS (an accepting state)
    int allowed;

    Walk(int maskSize) {
      words = new long[(maskSize + 63) / 64];
    }
  }

  /**
   * The tokens allowed in {@code state}: those whose bytes the automaton can read from it and that end at most
   * {@code maxDistance} bytes from acceptance; EOS when the state accepts.
   */
  Walk walk(ByteDfa dfa, int state, int maxDistance) {
    Walk w = new Walk(maskSize);
    if (dfa.isAccepting(state)) {
      for (int eos : eosIds) w.words[eos >>> 6] |= 1L << eos;
      w.allowed += eosIds.length;
      w.minDistance = 0;
    }
    int[] nodeStack = new int[64];
    int[] stateStack = new int[64];
    int top = 0;
    nodeStack[0] = 0;
    stateStack[0] = state;
    top = 1;
    while (top > 0) {
      top--;
      int node = nodeStack[top], s = stateStack[top];
      for (int c = childStart[node]; c < childStart[node + 1]; c++) {
        int ns = dfa.step(s, childByte[c] & 0xff);
        if (ns < 0) continue;
        int child = childNode[c];
        int d = dfa.distance(ns);
        if (tokenStart[child] < tokenStart[child + 1] && d <= maxDistance) {
          for (int t = tokenStart[child]; t < tokenStart[child + 1]; t++) {
            int id = tokenIds[t];
            w.words[id >>> 6] |= 1L << id;
          }
          w.allowed += tokenStart[child + 1] - tokenStart[child];
          if (d > w.maxDistance) w.maxDistance = d;
          if (d < w.minDistance) w.minDistance = d;
        }
        if (childStart[child] < childStart[child + 1]) {
          if (top == nodeStack.length) {
            nodeStack = Arrays.copyOf(nodeStack, top * 2);
            stateStack = Arrays.copyOf(stateStack, top * 2);
          }
          nodeStack[top] = child;
          stateStack[top] = ns;
          top++;
        }
      }
    }
    return w;
  }
}

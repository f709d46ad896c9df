package dev.performer.data;

import java.util.Arrays;

/**
 * Amino-acid tokens: the 20 standard residues plus B, Z, X, U, O (the paper's 25 letters),
 * upper or lower case, and special tokens. Ids: PAD 0, MASK 1, BOS 2, EOS 3, SEP 4, then the
 * letters in the order {@link #LETTERS}. Characters outside the alphabet are mapped to X or make
 * the record invalid, as the {@link Unknown} policy says.
 */
public final class Tokenizer {

    public static final int PAD = 0, MASK = 1, BOS = 2, EOS = 3, SEP = 4, FIRST_LETTER = 5;
    public static final String LETTERS = "ACDEFGHIKLMNPQRSTVWYBZXUO";
    public static final String[] SPECIALS = {"<pad>", "<mask>", "<bos>", "<eos>", "<sep>"};

    /** What to do with a character outside the alphabet. */
    public enum Unknown { MAP_TO_X, SKIP_RECORD }

    private static final int[] CODE = new int[128];

    static {
        Arrays.fill(CODE, -1);
        for (int i = 0; i < LETTERS.length(); i++) {
            CODE[LETTERS.charAt(i)] = FIRST_LETTER + i;
            CODE[Character.toLowerCase(LETTERS.charAt(i))] = FIRST_LETTER + i;
        }
    }

    private Tokenizer() {}

    public static int vocabSize() { return FIRST_LETTER + LETTERS.length(); }

    /** The letter ids (no specials): what MLM replaces a token with in the 10% random case. */
    public static int randomLetter(java.util.random.RandomGenerator r) {
        return FIRST_LETTER + r.nextInt(LETTERS.length());
    }

    /** Id of one character, or -1 if it is not in the alphabet. */
    public static int id(char c) { return c < 128 ? CODE[c] : -1; }

    /** The residues of a sequence as ids; unknown characters become X, or the result is null (SKIP_RECORD). */
    public static int[] encode(CharSequence seq, Unknown policy) {
        int[] out = new int[seq.length()];
        for (int i = 0; i < out.length; i++) {
            int id = id(seq.charAt(i));
            if (id < 0) {
                if (policy == Unknown.SKIP_RECORD) return null;
                id = id('X');
            }
            out[i] = id;
        }
        return out;
    }

    /** The first character outside the alphabet, or -1. */
    public static int firstUnknown(CharSequence seq) {
        for (int i = 0; i < seq.length(); i++) if (id(seq.charAt(i)) < 0) return i;
        return -1;
    }

    public static String decode(int id) {
        if (id >= 0 && id < FIRST_LETTER) return SPECIALS[id];
        if (id >= FIRST_LETTER && id < vocabSize()) return String.valueOf(LETTERS.charAt(id - FIRST_LETTER));
        throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + vocabSize());
    }

    /** A sequence of ids as text: letters as themselves, specials in angle brackets. */
    public static String decode(int[] ids, int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) sb.append(decode(ids[i]));
        return sb.toString();
    }

    /** A short description stored with checkpoints. */
    public static String describe() {
        return "amino-acid tokenizer: " + String.join(",", SPECIALS) + " then " + LETTERS;
    }
}

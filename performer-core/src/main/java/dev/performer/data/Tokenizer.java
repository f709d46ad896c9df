package dev.performer.data;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * The kinds of data a model is trained on, each with its vocabulary: the special tokens PAD 0,
 * MASK 1, BOS 2, EOS 3, SEP 4, then the kind's symbols from id {@link #FIRST_SYMBOL}.
 * <ul>
 *   <li>{@link #PROTEIN}: the 20 standard amino acids plus B, Z, X, U, O (the paper's 25 letters),
 *       upper or lower case, in the order {@link #LETTERS}; other characters become X or make the
 *       record invalid, as the {@link Unknown} policy says.</li>
 *   <li>{@link #IMAGE}: 256 grey levels (or sub-pixel intensities, R, G, B interleaved) in raster
 *       order; an image has a fixed size, so its rows carry no EOS.</li>
 *   <li>{@link #BYTES}: the 256 byte values of any file; text is encoded as UTF-8.</li>
 * </ul>
 * The model's vocabulary V is {@link #vocabSize()}; a checkpoint stores the kind with the model
 * configuration, so every command reads and writes the data of the kind the model was trained on.
 */
public enum Tokenizer {
    PROTEIN(25), IMAGE(256), BYTES(256);

    public static final int PAD = 0, MASK = 1, BOS = 2, EOS = 3, SEP = 4, FIRST_SYMBOL = 5;
    public static final String LETTERS = "ACDEFGHIKLMNPQRSTVWYBZXUO";
    public static final String[] SPECIALS = {"<pad>", "<mask>", "<bos>", "<eos>", "<sep>"};

    /** What to do with a character outside the protein alphabet. */
    public enum Unknown { MAP_TO_X, SKIP_RECORD }

    private static final int[] CODE = new int[128];

    static {
        Arrays.fill(CODE, -1);
        for (int i = 0; i < LETTERS.length(); i++) {
            CODE[LETTERS.charAt(i)] = FIRST_SYMBOL + i;
            CODE[Character.toLowerCase(LETTERS.charAt(i))] = FIRST_SYMBOL + i;
        }
    }

    private final int symbols;

    Tokenizer(int symbols) { this.symbols = symbols; }

    /** The number of symbols (no specials): 25 letters, 256 levels, 256 bytes. */
    public int symbols() { return symbols; }

    /** V: the specials and the symbols. */
    public int vocabSize() { return FIRST_SYMBOL + symbols; }

    /** The name on the command line and in logs: protein, image, bytes. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    /** The kind named by {@link #id()} (case-insensitive). */
    public static Tokenizer of(String id) {
        for (Tokenizer t : values()) if (t.id().equalsIgnoreCase(id)) return t;
        throw new IllegalArgumentException("unknown data kind '" + id + "' (protein, image, bytes)");
    }

    /** "a protein model", "an image model", "a byte model": for messages. */
    public String aModel() {
        return switch (this) {
            case PROTEIN -> "a protein model";
            case IMAGE -> "an image model";
            case BYTES -> "a byte model";
        };
    }

    /** Whether a record's row ends with EOS: not for images, whose size is fixed. */
    public boolean endMarker() { return this != IMAGE; }

    /** What one symbol is, for metrics: a residue, a dimension (sub-pixel), a byte. */
    public String unit() {
        return switch (this) {
            case PROTEIN -> "residue";
            case IMAGE -> "dim";
            case BYTES -> "byte";
        };
    }

    /** A random symbol id: what masked LM puts in place of a selected token in its 10% random case. */
    public int randomSymbol(RandomGenerator r) { return FIRST_SYMBOL + r.nextInt(symbols); }

    /** The id of a symbol value (a grey level or a byte, 0..255; a letter index for proteins). */
    public int symbol(int value) {
        if (value < 0 || value >= symbols)
            throw new IllegalArgumentException(id() + " symbol value " + value + " outside [0, " + symbols + ")");
        return FIRST_SYMBOL + value;
    }

    /** The value of a symbol id (the inverse of {@link #symbol}), or -1 for a special token. */
    public int value(int id) {
        if (id < 0 || id >= vocabSize())
            throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + vocabSize());
        return id < FIRST_SYMBOL ? -1 : id - FIRST_SYMBOL;
    }

    /** Whether text can be encoded: proteins (letters) and bytes (UTF-8), not images. */
    public boolean takesText() { return this != IMAGE; }

    /** Id of one amino-acid letter, or -1 if it is not in the alphabet. */
    public static int letter(char c) { return c < 128 ? CODE[c] : -1; }

    /**
     * Text as symbol ids: residues for proteins (unknown characters become X, or the result is
     * null with SKIP_RECORD), the UTF-8 bytes for bytes. Images take no text.
     */
    public int[] encode(CharSequence text, Unknown policy) {
        return switch (this) {
            case PROTEIN -> {
                int[] out = new int[text.length()];
                for (int i = 0; i < out.length; i++) {
                    int id = letter(text.charAt(i));
                    if (id < 0) {
                        if (policy == Unknown.SKIP_RECORD) yield null;
                        id = letter('X');
                    }
                    out[i] = id;
                }
                yield out;
            }
            case BYTES -> encode(text.toString().getBytes(StandardCharsets.UTF_8));
            case IMAGE -> throw new IllegalArgumentException("an image model takes pixels, not text");
        };
    }

    /** Bytes (or 8-bit pixels) as symbol ids; not for proteins. */
    public int[] encode(byte[] bytes) {
        if (this == PROTEIN) throw new IllegalArgumentException("a protein model takes letters, not bytes");
        int[] out = new int[bytes.length];
        for (int i = 0; i < out.length; i++) out[i] = FIRST_SYMBOL + (bytes[i] & 0xff);
        return out;
    }

    /** The first character of text this kind cannot encode, or -1 (proteins: a non-letter; bytes: none). */
    public int firstUnknown(CharSequence text) {
        return switch (this) {
            case PROTEIN -> {
                for (int i = 0; i < text.length(); i++) if (letter(text.charAt(i)) < 0) yield i;
                yield -1;
            }
            case BYTES -> -1;
            case IMAGE -> text.isEmpty() ? -1 : 0;
        };
    }

    /** What text must be, for messages: "an amino-acid letter". */
    public String expects() {
        return switch (this) {
            case PROTEIN -> "an amino-acid letter";
            case BYTES -> "text";
            case IMAGE -> "a pixel (image models take no text)";
        };
    }

    /** One token for display: specials in angle brackets, a letter, a grey level as its number, a byte as hex. */
    public String decode(int id) {
        int v = value(id);
        if (v < 0) return SPECIALS[id];
        return switch (this) {
            case PROTEIN -> String.valueOf(LETTERS.charAt(v));
            case IMAGE -> Integer.toString(v);
            case BYTES -> String.format(Locale.ROOT, "<0x%02x>", v);
        };
    }

    /**
     * Ids as text: residue letters (specials in angle brackets) for proteins, the bytes decoded as
     * UTF-8 for bytes (specials left out); grey levels separated by spaces for images.
     */
    public String decode(int[] ids, int from, int to) {
        if (this == BYTES) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int i = from; i < to; i++) if (ids[i] >= FIRST_SYMBOL) b.write(value(ids[i]));
            return b.toString(StandardCharsets.UTF_8);
        }
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            if (this == IMAGE && i > from) sb.append(' ');
            sb.append(decode(ids[i]));
        }
        return sb.toString();
    }

    /** A short description for logs. */
    public String describe() {
        return switch (this) {
            case PROTEIN -> "amino-acid tokenizer: " + String.join(",", SPECIALS) + " then " + LETTERS;
            case IMAGE -> "pixel tokenizer: " + String.join(",", SPECIALS) + " then grey levels 0-255 in raster order";
            case BYTES -> "byte tokenizer: " + String.join(",", SPECIALS) + " then bytes 0x00-0xff";
        };
    }
}

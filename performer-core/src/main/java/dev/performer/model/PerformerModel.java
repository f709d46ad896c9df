package dev.performer.model;

import dev.performer.attention.Attention;
import dev.performer.attention.AttentionSpec;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.RecurrentFavor;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.Kernels;
import dev.performer.random.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * A pre-LayerNorm Performer Transformer with a hand-written backward, as a composition of layers
 * whose forward and backward sit side by side ({@link Embedding}, {@link AttentionBlock},
 * {@link FeedForward}, {@link OutputLoss}; inside them {@link LayerNorm}, {@link Linear},
 * {@link Rotary}, {@link Dropout}). The step is two mirrored call lists (N = B·T rows):
 * <pre>
 * forward:                                     backward (reverse order, gradients accumulate +=):
 *   x = embedding(tokens)       (N, C)             dx = outputLoss.backward()
 *   for each layer l = 0 .. L−1:                     dlogits = (p − onehot)/count → dwte, LNf'
 *     x = attention[l](x)                          for each layer l = L−1 .. 0:
 *       LN1 → qkv → split → rotary → attention       dx = feedForward[l].backward(dx)
 *       → merge → proj → drop → + x                    drop' → fcproj' → gelu' → fc' → LN2' (+ dx)
 *     x = feedForward[l](x)                          dx = attention[l].backward(dx)
 *       LN2 → fc → gelu → fcproj → drop → + x          drop' → proj' → split → attention' → rotary⁻¹
 *   loss = outputLoss(x, targets)                        → join → qkv' → LN1' (+ dx)
 *     LNf → logits = y·wteᵀ → softmax → mean CE    embedding.backward(dx): dwte[tok], dwpe[t] += dx
 * </pre>
 * Activations kept for backward live in one {@link Activations} and the gradient scratch in one
 * {@link GradScratch}, both sized from the configuration and the current (B, T), allocated on the
 * first step and reused while (B, T) stays the same: a training step (forward, backward) allocates
 * no buffers; only O(layers) small task handles for the worker threads. Dropout masks are not
 * stored: they are a hash of (seed, layer, site, element) and are recomputed in backward. With
 * rotary positions, q and k of every head are rotated by position after the split (RoFormer,
 * interleaved pairs) and dq, dk rotated back in backward. The {@link BatchDecoder} runs the same layer
 * objects on one row per sequence. Not thread-safe: one model, one caller.
 */
public final class PerformerModel {

    private final ModelConfig cfg;
    private final Kernels kern;
    private final ParameterLayout layout;
    /** All parameters, laid out by {@link #layout()}. */
    private final float[] params;
    /** Gradients, same layout; backward adds into them. */
    private final float[] grads;
    private final Attention[] attention;
    private final Rotary rotary; // null unless rotary positions
    // ---- the layers, over params and grads
    private final Embedding embedding;
    private final AttentionBlock[] attn;
    private final FeedForward[] ffn;
    private final OutputLoss output;

    // ---- the last forward, for backward
    private Activations acts;            // sized for the current (B, T), or null before the first forward
    private GradScratch scratch;         // same shape
    private long dropSeed;               // dropout seed of the last forward
    private boolean dropOn;              // whether the last forward applied dropout
    private int[] tokens, targets;

    /**
     * A freshly initialized model: weights N(0, 0.02) (residual projections N(0, 0.02/√(2·layers))),
     * biases 0, LayerNorm gains 1, FAVOR+ projections drawn per layer, all from the seed.
     */
    public PerformerModel(ModelConfig cfg, Kernels kern, long seed) {
        this.cfg = cfg;
        this.kern = kern;
        this.layout = new ParameterLayout(cfg);
        this.params = new float[layout.total()];
        this.grads = new float[layout.total()];
        SplittableRandom r = new SplittableRandom(seed);
        double resStd = 0.02 / Math.sqrt(2.0 * cfg.layers());
        for (ParameterLayout.View view : layout.views()) {
            String n = view.name();
            if (n.endsWith(".g")) Arrays.fill(params, view.offset(), view.offset() + view.size(), 1f);
            else if (n.endsWith(".b") || n.contains(".att.")) continue;   // attention tensors: the spec draws them
            else {
                double std = n.endsWith("proj.w") ? resStd : n.equals("wpe") ? 0.01 : 0.02;
                for (int i = 0; i < view.size(); i++) params[view.offset() + i] = (float) (std * r.nextGaussian());
            }
        }
        int nl = cfg.layers();
        this.attention = new Attention[nl];
        for (int l = 0; l < nl; l++) {
            List<AttentionSpec.Tensor> ts = cfg.attention().parameters(cfg.maxLen(), cfg.heads());
            int[] offsets = new int[ts.size()];
            for (int i = 0; i < offsets.length; i++) offsets[i] = layout.offset("h" + l + ".att." + ts.get(i).name());
            AttentionSpec.Weights w = new AttentionSpec.Weights(params, grads, offsets);
            cfg.attention().initialize(w, cfg.maxLen(), cfg.heads(), Seeds.projection(seed, l));
            attention[l] = cfg.attention().build(kern, cfg.headDim(), cfg.heads(), cfg.maxLen(), cfg.causal(),
                    Seeds.projection(seed, l), w);
        }
        this.rotary = cfg.positions() == Positions.ROTARY ? new Rotary(kern, cfg.maxLen(), cfg.headDim()) : null;
        this.embedding = new Embedding(kern, cfg, layout, params, grads);
        this.attn = new AttentionBlock[nl];
        this.ffn = new FeedForward[nl];
        boolean exact = cfg.attention() instanceof AttentionSpec.Exact;
        for (int l = 0; l < nl; l++) {
            attn[l] = new AttentionBlock(kern, cfg, layout, params, grads, l, attention[l], rotary, exact);
            ffn[l] = new FeedForward(kern, cfg, layout, params, grads, l);
        }
        this.output = new OutputLoss(kern, cfg, layout, params, grads);
    }

    /** Rotary angle of pair i at position t for head dimension D: t·10000^(−2i/D). */
    static double ropeAngle(int t, int i, int d) { return Rotary.angle(t, i, d); }

    /** Fixed sinusoidal positions (L, C): sin(t/10000^(2i/C)) in even columns, cos in odd ones. */
    static float[] sinusoid(int l, int c) { return Embedding.sinusoid(l, c); }

    /** Whether dropout keeps element i of (layer, site) under seed: the mask the model applies (for references). */
    static boolean dropoutKeeps(long seed, float p, int layer, int site, int i) {
        return Dropout.keeps(seed, p, layer, site, i);
    }

    public ModelConfig config() { return cfg; }
    public ParameterLayout layout() { return layout; }
    /** The flat parameter buffer (live, not a copy). */
    public float[] params() { return params; }
    /** The flat gradient buffer (live, not a copy). */
    public float[] grads() { return grads; }
    public Kernels kernels() { return kern; }

    /** The FAVOR+ projection (M, D) of a layer, or null for other attention kinds. */
    public float[] projection(int layer) {
        return attention[layer] instanceof FavorAttention f ? f.projection() : null;
    }

    /** Replaces a layer's FAVOR+ projection (checkpoint loading). */
    public void setProjection(int layer, float[] w) {
        if (!(attention[layer] instanceof FavorAttention f))
            throw new IllegalArgumentException("layer " + layer + " has no projection");
        f.setProjection(w);
    }

    /**
     * Copies another model's weights into this one: the paper's backward compatibility (a trained
     * Transformer's weights under FAVOR+, then fine-tuned). Every tensor both layouts share must have
     * the same shape; the attention's own tensors ({@code h{i}.att.*}, Linformer's E and F) that
     * only one side has are left as initialized here or dropped. The source's FAVOR+ projections
     * are not copied: this model keeps its own draw. Returns the names of the tensors kept as
     * initialized.
     *
     * @throws IllegalArgumentException naming the first tensor that is missing or of another shape
     */
    public List<String> copyWeightsFrom(PerformerModel from) {
        ParameterLayout src = from.layout();
        for (ParameterLayout.View s : src.views())
            if (!layout.has(s.name()) && !s.name().contains(".att."))
                throw new IllegalArgumentException("the source model has " + s.name() + " " + shape(s.shape())
                        + ", which this model (" + cfg.describe() + ") lacks");
        List<String> kept = new ArrayList<>();
        for (ParameterLayout.View v : layout.views()) {
            if (!src.has(v.name())) {
                if (!v.name().contains(".att."))
                    throw new IllegalArgumentException("the source model (" + from.config().describe() + ") has no "
                            + v.name());
                kept.add(v.name());
                continue;
            }
            ParameterLayout.View s = src.get(v.name());
            if (!Arrays.equals(s.shape(), v.shape()))
                throw new IllegalArgumentException(v.name() + " is " + shape(s.shape()) + " in the source model, "
                        + shape(v.shape()) + " here");
            System.arraycopy(from.params(), s.offset(), params, v.offset(), v.size());
        }
        return List.copyOf(kept);
    }

    private static String shape(int[] s) {
        return Arrays.stream(s).mapToObj(Integer::toString).collect(Collectors.joining(" x ", "(",
                ")"));
    }

    /** Draws new FAVOR+ projections for every layer (the paper's periodic feature redraw). */
    public void redrawFeatures(long seed) {
        if (!(cfg.attention() instanceof AttentionSpec.Favor spec)) return;
        for (int l = 0; l < attention.length; l++)
            if (attention[l] instanceof FavorAttention f)
                f.redraw(spec.projection(), spec.scaling(), Seeds.projection(seed, l));
    }

    public void zeroGrad() { Arrays.fill(grads, 0f); }

    /** Activations and gradient scratch for (B, T): reused while the shape stays the same. */
    private void ensure(int b, int t) {
        if (acts != null && acts.fits(b, t)) return;
        acts = new Activations(cfg, b, t);
        scratch = new GradScratch(cfg, b, t);
    }

    /**
     * Forward pass over tokens (B, T). targets (B, T) hold the token to predict at each position,
     * or -1 where nothing is predicted; keyMask (B, T) (1 keep, 0 padding) may be null. With
     * {@code train}, dropout masks are drawn from dropoutSeed. Returns the mean cross-entropy over
     * the counted targets (0 if none).
     */
    public float forward(int[] tokens, int[] targets, int b, int t, float[] keyMask, boolean train, long dropoutSeed) {
        return forward(tokens, targets, b, t, keyMask, train, dropoutSeed, 0);
    }

    /**
     * As {@link #forward(int[], int[], int, int, float[], boolean, long)} for rows that are rows
     * [firstRow, firstRow + B) of a larger batch (a data-parallel shard): the dropout masks are
     * those the larger batch has on these rows, so shards computed apart give the gradients of the
     * whole batch.
     */
    public float forward(int[] tokens, int[] targets, int b, int t, float[] keyMask, boolean train, long dropoutSeed,
                         int firstRow) {
        if (firstRow < 0) throw new IllegalArgumentException("firstRow must be >= 0, got " + firstRow);
        if (t > cfg.maxLen())
            throw new IllegalArgumentException("sequence length " + t + " exceeds the model's maxLen " + cfg.maxLen());
        if (tokens.length != b * t || (targets != null && targets.length != b * t))
            throw new IllegalArgumentException("tokens/targets must hold B·T = " + b * t + " entries");
        ensure(b, t);
        this.tokens = tokens;
        this.targets = targets;
        Activations a = acts;
        a.firstRow = firstRow;
        embedding.forward(tokens, a.resIn[0], a.n, t);
        dropOn = train && cfg.dropout() > 0;
        dropSeed = dropoutSeed;
        for (int l = 0; l < cfg.layers(); l++) {
            attn[l].forward(a, keyMask, dropOn, dropSeed);                  // resIn[l] -> res2[l]
            ffn[l].forward(a, dropOn, dropSeed);                            // res2[l] -> resIn[l+1]
        }
        return output.forward(a, a.resIn[cfg.layers()], targets);
    }

    /** Backward of the last forward: adds d(loss)/d(params) into {@link #grads()}. */
    public void backward() {
        if (tokens == null) throw new IllegalStateException("backward before forward");
        Activations a = acts;
        GradScratch g = scratch;
        output.backward(a, a.resIn[cfg.layers()], targets, g);              // g.dx = d(final residual)
        for (int l = cfg.layers() - 1; l >= 0; l--) {
            ffn[l].backward(a, g, dropOn, dropSeed);                        // d resIn[l+1] -> d res2[l]
            attn[l].backward(a, g, dropOn, dropSeed);                       // d res2[l] -> d resIn[l]
        }
        embedding.backward(g.dx, tokens, a.n, a.t);
    }

    /** Targets counted in the last forward's loss. */
    public int counted() { return acts == null ? 0 : acts.counted; }

    /**
     * How many counted targets the last forward ranked first (call before backward, which reuses
     * the probabilities).
     */
    public int correct() {
        if (acts == null) return 0;
        int vocab = cfg.vocab(), n = acts.n, ok = 0;
        float[] probs = acts.probs;
        for (int i = 0; i < n; i++) {
            if (targets == null || targets[i] < 0) continue;
            int row = i * vocab, best = 0;
            for (int j = 1; j < vocab; j++) if (probs[row + j] > probs[row + best]) best = j;
            if (best == targets[i]) ok++;
        }
        return ok;
    }

    /** The final LayerNorm output (B·T, C) of the last forward: per-token representations. */
    public float[] hidden() { return acts == null ? null : acts.lnf; }

    /** Softmax probabilities (B·T, V) of the last forward (valid until backward, which reuses them). */
    public float[] probabilities() { return acts == null ? null : acts.probs; }

    /**
     * Mean-pooled representations: for each of the B rows of tokens (B, T), the mean of the final
     * LayerNorm outputs over the positions where mask (B, T) is 1 (all positions when mask is null;
     * a row with no position gets zeros). The mask is also the attention key mask of bidirectional
     * models. Returns (B, C).
     */
    public float[] embed(int[] tokens, float[] mask, int b, int t) {
        forward(tokens, null, b, t, cfg.causal() ? null : mask, false, 0);
        int c = cfg.width();
        float[] out = new float[b * c], lnf = acts.lnf;
        for (int i = 0; i < b; i++) {
            int count = 0;
            for (int j = 0; j < t; j++) {
                if (mask != null && mask[i * t + j] == 0f) continue;
                kern.axpy(1f, lnf, (i * t + j) * c, out, i * c, c);
                count++;
            }
            if (count > 0) kern.scale(out, i * c, c, 1f / count);
        }
        return out;
    }

    /**
     * Samples a continuation of a text prompt (residue letters for protein models, text for byte
     * models; BOS is added here) with the recurrent decoder: at most maxNew symbols, stopping at
     * EOS. Every new token costs the same however long the prompt for FAVOR+ (O(M·D) state per
     * head). Returns the new symbols as text.
     */
    public String generate(String prompt, int maxNew, Sampler sampler, SplittableRandom random) {
        int[] out = generate(encodePrompt(prompt), maxNew, sampler, random);
        return cfg.tokenizer().decode(out, 0, out.length);
    }

    /** The prompt's symbol ids; an error names the first character the model's tokenizer cannot take. */
    private int[] encodePrompt(String prompt) {
        Tokenizer tk = cfg.tokenizer();
        int bad = tk.firstUnknown(prompt);
        if (bad >= 0)
            throw new IllegalArgumentException("prompt has '" + prompt.charAt(bad) + "' at " + (bad + 1) + ", not "
                    + tk.expects());
        return tk.takesText() ? tk.encode(prompt, Tokenizer.Unknown.MAP_TO_X) : new int[0];
    }

    /**
     * As {@link #generate(String, int, Sampler, SplittableRandom)} on token ids (without BOS, which
     * is added here): returns at most maxNew new tokens, EOS not included.
     */
    public int[] generate(int[] tokens, int maxNew, Sampler sampler, SplittableRandom random) {
        if (maxNew < 0) throw new IllegalArgumentException("maxNew must be >= 0, got " + maxNew);
        checkRoom(tokens.length, maxNew);
        Decoder dec = decoder();
        float[] p = dec.step(Tokenizer.BOS);
        for (int tok : tokens) p = dec.step(tok);
        int[] out = new int[maxNew];
        float[] row = new float[cfg.vocab()];
        int n = 0;
        while (n < maxNew) {
            int next = sampler.sample(generable(p, 0, row, cfg.tokenizer()), random);
            if (next == Tokenizer.EOS) break;
            out[n++] = next;
            if (n < maxNew) p = dec.step(next);
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * The probabilities at p[from, from + V) with the tokens a sequence cannot continue with (padding,
     * mask, BOS, separator; EOS too for images, whose size is fixed) set to 0, into row: generation
     * yields symbols until EOS (images: until maxNew).
     */
    private static float[] generable(float[] p, int from, float[] row, Tokenizer tk) {
        System.arraycopy(p, from, row, 0, row.length);
        row[Tokenizer.PAD] = 0; row[Tokenizer.MASK] = 0; row[Tokenizer.BOS] = 0; row[Tokenizer.SEP] = 0;
        if (!tk.endMarker()) row[Tokenizer.EOS] = 0;
        return row;
    }

    /** With learned positions BOS, the prompt and the new tokens must fit in maxLen (the last one is not fed). */
    private void checkRoom(int prompt, int maxNew) {
        if (cfg.positions() == Positions.LEARNED && 1 + prompt + Math.max(0, maxNew - 1) > cfg.maxLen())
            throw new IllegalArgumentException("a prompt of " + prompt + " symbols and " + maxNew + " new tokens do "
                    + "not fit in the model's " + cfg.maxLen() + " learned positions (with <bos>): ask for at most "
                    + Math.max(0, cfg.maxLen() - prompt) + " new tokens");
    }

    /**
     * Samples {@code samples} continuations of a prompt together with one
     * {@link BatchDecoder}: sample i draws from its own stream
     * {@code new SplittableRandom(Seeds.nth(base, i))}, base = {@code random.nextLong()}, so sample
     * i does not depend on how many samples are drawn, and equals
     * {@link #generate(String, int, Sampler, SplittableRandom)} with that stream (up to the float
     * rounding of N-row against one-row products). Returns the new symbols of each sample.
     */
    public List<String> generate(String prompt, int maxNew, int samples, Sampler sampler, SplittableRandom random) {
        if (samples < 1) throw new IllegalArgumentException("samples must be >= 1, got " + samples);
        long base = random.nextLong();
        SplittableRandom[] streams = new SplittableRandom[samples];
        for (int i = 0; i < samples; i++) streams[i] = new SplittableRandom(Seeds.nth(base, i));
        return generate(prompt, maxNew, sampler, streams);
    }

    /**
     * Samples one continuation per stream (sample i draws from streams[i]) of a prompt, all
     * advanced together by one {@link BatchDecoder}: at most maxNew symbols each, each stopping at
     * its EOS. A finished sequence stays in the batch (fed EOS, its rows still computed, its
     * stream not drawn from any more) so that all sequences stay at one position; decoding stops
     * when every sequence has finished or has maxNew symbols.
     */
    public List<String> generate(String prompt, int maxNew, Sampler sampler, SplittableRandom[] streams) {
        int[][] out = generate(encodePrompt(prompt), maxNew, sampler, streams);
        List<String> res = new ArrayList<>(out.length);
        for (int[] o : out) res.add(cfg.tokenizer().decode(o, 0, o.length));
        return res;
    }

    /**
     * As {@link #generate(String, int, Sampler, SplittableRandom[])} on symbol ids (without BOS,
     * which is added here): one continuation per stream, at most maxNew new symbols each, EOS not
     * included (image models never stop early: they make exactly maxNew).
     */
    public int[][] generate(int[] prompt, int maxNew, Sampler sampler, SplittableRandom[] streams) {
        int[][] prompts = new int[streams.length][];
        Arrays.fill(prompts, prompt);
        return generate(prompts, maxNew, sampler, streams);
    }

    /**
     * As {@link #generate(int[], int, Sampler, SplittableRandom[])} with a prompt per stream, all of
     * one length (completions of the top halves of images, say): sequence i continues prompts[i].
     */
    public int[][] generate(int[][] prompts, int maxNew, Sampler sampler, SplittableRandom[] streams) {
        if (maxNew < 0) throw new IllegalArgumentException("maxNew must be >= 0, got " + maxNew);
        if (prompts.length != streams.length)
            throw new IllegalArgumentException(prompts.length + " prompts for " + streams.length + " streams");
        int plen = prompts.length == 0 ? 0 : prompts[0].length;
        for (int[] q : prompts)
            if (q.length != plen) throw new IllegalArgumentException("prompts of different lengths " + plen + " and "
                    + q.length + ": decoded together, they must have one length");
        checkRoom(plen, maxNew);
        int ns = streams.length, vocab = cfg.vocab();
        BatchDecoder dec = decoder(ns);
        int[] in = new int[ns];
        Arrays.fill(in, Tokenizer.BOS);
        float[] p = dec.step(in);
        for (int t = 0; t < plen; t++) {
            for (int i = 0; i < ns; i++) in[i] = prompts[i][t];
            p = dec.step(in);
        }
        int[][] out = new int[ns][maxNew];
        int[] len = new int[ns];
        boolean[] done = new boolean[ns];
        float[] row = new float[vocab];
        int active = ns;
        for (int made = 0; made < maxNew && active > 0; made++) {
            for (int i = 0; i < ns; i++) {
                if (done[i]) { in[i] = Tokenizer.EOS; continue; }
                int next = sampler.sample(generable(p, i * vocab, row, cfg.tokenizer()), streams[i]);
                if (next == Tokenizer.EOS) { done[i] = true; active--; }
                else out[i][len[i]++] = next;
                in[i] = next;
            }
            if (made + 1 < maxNew && active > 0) p = dec.step(in);
        }
        int[][] res = new int[ns][];
        for (int i = 0; i < ns; i++) res[i] = Arrays.copyOf(out[i], len[i]);
        return res;
    }

    /**
     * The mean-pooled representation (C) of one text (protein residues, or text for byte models):
     * BOS, the symbols and EOS, as {@code performer embed} feeds them (at most maxLen tokens with
     * learned positions).
     */
    public float[] embed(String text) {
        return embed(encodePrompt(text));
    }

    /**
     * Mean-pooled embeddings (n, C) of n records (symbol ids), as {@code performer embed} computes
     * them: each record as one row of L tokens, BOS, its first L − 2 symbols (L − 1 for kinds
     * without an end marker) and EOS, padding masked out of the mean (and out of the attention of
     * bidirectional models); B rows per forward, the last batch completed with padding rows.
     */
    public float[] embedRecords(List<int[]> records, int b, int l) {
        if (b < 1 || l < 3) throw new IllegalArgumentException("B must be >= 1 and L >= 3, got " + b + ", " + l);
        int c = cfg.width(), n = records.size();
        boolean end = cfg.tokenizer().endMarker();
        float[] out = new float[n * c];
        int[] tok = new int[b * l];
        float[] mask = new float[b * l];
        for (int s0 = 0; s0 < n; s0 += b) {
            int rows = Math.min(b, n - s0);
            Arrays.fill(tok, Tokenizer.PAD);
            Arrays.fill(mask, 0f);
            for (int i = 0; i < rows; i++) {
                int len = row(records.get(s0 + i), tok, i * l, l - (end ? 2 : 1), end);
                Arrays.fill(mask, i * l, i * l + len, 1f);
            }
            float[] e = embed(tok, mask, b, l);   // always B rows: the buffers of shape (B, L) are kept
            System.arraycopy(e, 0, out, s0 * c, rows * c);
        }
        return out;
    }

    /** BOS, at most room symbols, EOS when end, into tok from off; returns the tokens written. */
    private static int row(int[] seq, int[] tok, int off, int room, boolean end) {
        int len = Math.min(seq.length, room);
        tok[off] = Tokenizer.BOS;
        System.arraycopy(seq, 0, tok, off + 1, len);
        if (end) tok[off + 1 + len] = Tokenizer.EOS;
        return len + (end ? 2 : 1);
    }

    /**
     * The {@link Score} of each record (symbol ids), B rows per forward. Causal models: one row of
     * L + 1 tokens per record as training lays it out (BOS, its first L − 1 symbols, EOS), scoring
     * the symbols and EOS. Bidirectional models: BOS, the first L − 2 symbols, EOS, one copy per
     * symbol with that symbol replaced by MASK (padding is key-masked). Log-probabilities come
     * from the float32 softmax, floored at the smallest positive float (−103.3 nats).
     */
    public Score[] score(List<int[]> records, int b, int l) {
        if (b < 1 || l < 3) throw new IllegalArgumentException("B must be >= 1 and L >= 3, got " + b + ", " + l);
        Score[] out = new Score[records.size()];
        if (cfg.causal()) scoreCausal(records, b, l, out);
        else scoreMasked(records, b, l, out);
        return out;
    }

    private void scoreCausal(List<int[]> records, int b, int l, Score[] out) {
        boolean end = cfg.tokenizer().endMarker();
        int[] row = new int[l + 1], tok = new int[b * l], tgt = new int[b * l];
        for (int s0 = 0; s0 < records.size(); s0 += b) {
            int rows = Math.min(b, records.size() - s0);
            Arrays.fill(tok, Tokenizer.PAD);
            Arrays.fill(tgt, -1);
            for (int i = 0; i < rows; i++) {
                Arrays.fill(row, Tokenizer.PAD);
                int len = row(records.get(s0 + i), row, 0, l + 1 - (end ? 2 : 1), end);
                System.arraycopy(row, 0, tok, i * l, l);
                for (int j = 0; j + 1 < len; j++) tgt[i * l + j] = row[j + 1];
            }
            forward(tok, tgt, b, l, null, false, 0);
            for (int i = 0; i < rows; i++) out[s0 + i] = sum(tgt, i * l, l, false);
        }
    }

    private void scoreMasked(List<int[]> records, int b, int l, Score[] out) {
        boolean end = cfg.tokenizer().endMarker();
        int room = l - (end ? 2 : 1);
        int[] base = new int[l], tok = new int[b * l], tgt = new int[b * l];
        float[] mask = new float[b * l];
        for (int r = 0; r < records.size(); r++) {
            int[] seq = records.get(r);
            Arrays.fill(base, Tokenizer.PAD);
            int len = row(seq, base, 0, room, end), symbols = Math.min(seq.length, room);
            double ll = 0;
            for (int p0 = 0; p0 < symbols; p0 += b) {   // copies p0.. mask symbols p0..: B forwards' worth per batch
                int rows = Math.min(b, symbols - p0);
                Arrays.fill(tok, Tokenizer.PAD);
                Arrays.fill(tgt, -1);
                Arrays.fill(mask, 0f);
                for (int i = 0; i < rows; i++) {
                    int at = i * l + 1 + p0 + i;   // the symbol's position: after BOS
                    System.arraycopy(base, 0, tok, i * l, l);
                    Arrays.fill(mask, i * l, i * l + len, 1f);
                    tgt[at] = tok[at];
                    tok[at] = Tokenizer.MASK;
                }
                forward(tok, tgt, b, l, mask, false, 0);
                for (int i = 0; i < rows; i++) ll += sum(tgt, i * l, l, true).logLikelihood();
            }
            out[r] = new Score(ll, symbols, true);
        }
    }

    /** Σ log p(target) over the targets of one row of the last forward. */
    private Score sum(int[] tgt, int off, int l, boolean pseudo) {
        float[] probs = acts.probs;
        int vocab = cfg.vocab(), count = 0;
        double ll = 0;
        for (int j = off; j < off + l; j++) {
            if (tgt[j] < 0) continue;
            ll += Math.log(Math.max(probs[j * vocab + tgt[j]], Float.MIN_VALUE));
            count++;
        }
        return new Score(ll, count, pseudo);
    }

    /** As {@link #embed(String)} on symbol ids: BOS, the symbols, then EOS unless the kind has none (images). */
    public float[] embed(int[] symbols) {
        boolean end = cfg.tokenizer().endMarker();
        int[] tok = new int[symbols.length + (end ? 2 : 1)];
        tok[0] = Tokenizer.BOS;
        System.arraycopy(symbols, 0, tok, 1, symbols.length);
        if (end) tok[symbols.length + 1] = Tokenizer.EOS;
        return embed(tok, null, 1, tok.length);
    }

    /** A decoder for one causal sequence, one token at a time (see {@link Decoder}). */
    public Decoder decoder() { return new Decoder(); }

    /** A decoder for n causal sequences advanced together, one token each per step (see {@link BatchDecoder}). */
    public BatchDecoder decoder(int n) { return new BatchDecoder(n, DecodeSplit.AUTO); }

    /** As {@link #decoder(int)}, with the step spread over the backend's threads as split says. */
    public BatchDecoder decoder(int n, DecodeSplit split) { return new BatchDecoder(n, split); }

    /**
     * One-token-at-a-time causal decoding. FAVOR+ layers keep O(M·D) state per head
     * ({@link RecurrentFavor}), so every token costs the same however long the prefix; exact
     * attention keeps a key/value cache (O(t) per token); identity attention keeps nothing.
     * The FAVOR+ key stabilizer is the running max over the keys so far (the parallel form uses
     * the max over all keys), which changes outputs only through the eps inside the features.
     * This is the {@link BatchDecoder} of one sequence (N = 1): each step runs the model's own
     * layers on one row.
     */
    public final class Decoder {
        private final BatchDecoder batch = new BatchDecoder(1, DecodeSplit.AUTO);
        private final int[] one = new int[1];

        private Decoder() {}

        /** Tokens consumed so far. */
        public int position() { return batch.position(); }

        /** Floats of attention state kept now, over all layers (constant for FAVOR+, growing for exact). */
        public long stateFloats() { return batch.stateFloats(); }

        /**
         * Consumes a token; returns the probabilities (V) of the next one (a live buffer, overwritten
         * by the next call).
         */
        public float[] step(int token) {
            one[0] = token;
            return batch.step(one);
        }
    }

    /**
     * Causal decoding of N sequences side by side, all at the same position: each step consumes one
     * token per sequence. The N rows go through each layer's LayerNorm, linear maps (one gemm of N
     * rows each, instead of N one-row products), GELU and output layer as (N, C) matrices; the
     * attention state is one per sequence ({@link RecurrentFavor} for FAVOR+, a key/value cache for
     * exact attention, nothing for identity). The step is spread over the backend's T threads as
     * {@link DecodeSplit} says: {@link DecodeSplit#ROWS} takes min(T, N) groups of consecutive rows
     * through the whole step, one group per thread (one fork and join per step);
     * {@link DecodeSplit#HEADS} gives every thread all rows and a part of each layer (its heads, its
     * output columns), with {@link Kernels#phases} (4 barriers per layer), so that each core keeps
     * its part of the states and weights in its cache. Row i equals a {@link Decoder} fed sequence
     * i's tokens up to float rounding: a few-row product sums as a one-row one and a column of a
     * split product as in the whole one, bit for bit (with D and the parts' column bounds multiples
     * of the vector width), but the output layer's packed product of a group of rows does not.
     * Embedding: {@link Embedding#forwardRow}, then per layer {@link AttentionBlock#decodeRows} and
     * {@link FeedForward#forwardRows} (rows) or {@link AttentionBlock#decodeHeads},
     * {@link AttentionBlock#projectColumns}, {@link FeedForward#hiddenColumns} and
     * {@link FeedForward#projectColumns} (heads), then {@link OutputLoss#forwardRows}.
     */
    public final class BatchDecoder {
        /** Column bounds of a split step are multiples of this (the widest vector): columns sum as in one product. */
        private static final int ALIGN = 16;

        private final int n;
        private final DecodeSplit split;
        private final int[] from;                        // rows: group g holds rows [from[g], from[g + 1])
        private final RowBuffers[] rows;                 // rows: [group]; heads: [0], all rows
        private final AttentionBlock.States[][] state;   // rows: [group][layer]; heads: [part][layer]
        private final float[] logits;                    // (N, V)
        // heads: part p has heads [hFrom[p], hFrom[p + 1]), columns [cFrom[p], cFrom[p + 1]) of C, [fFrom[p], …) of F
        private final int[] hFrom, cFrom, fFrom;
        private final float[][] partLn, partMean, partRstd; // [part] (N, C), (N), (N): a part's own LayerNorm rows
        private final Kernels.PhaseBody phase = this::phase;
        private int pos;

        private BatchDecoder(int n, DecodeSplit split) {
            if (!cfg.causal())
                throw new IllegalStateException("only causal models generate text; this one is bidirectional");
            if (n < 1) throw new IllegalArgumentException("a decoding batch needs at least 1 sequence, got " + n);
            if (split == null) throw new IllegalArgumentException("a decoding split is required (AUTO, ROWS or HEADS)");
            this.n = n;
            int threads = Math.max(1, kern.threads());
            this.split = split == DecodeSplit.AUTO ? (n < threads ? DecodeSplit.HEADS : DecodeSplit.ROWS) : split;
            int c = cfg.width();
            if (this.split == DecodeSplit.HEADS) {
                int parts = threads;
                this.from = new int[] {0, n};
                this.rows = new RowBuffers[] {new RowBuffers(cfg, n)};
                this.hFrom = bounds(cfg.heads(), parts, 1);
                this.cFrom = bounds(c, parts, ALIGN);
                this.fFrom = bounds(cfg.ffn(), parts, ALIGN);
                this.partLn = new float[parts][n * c];
                this.partMean = new float[parts][n];
                this.partRstd = new float[parts][n];
                this.state = new AttentionBlock.States[parts][cfg.layers()];
                for (int p = 0; p < parts; p++)
                    for (int l = 0; l < cfg.layers(); l++) state[p][l] = attn[l].newStates(n, hFrom[p + 1] - hFrom[p]);
                this.logits = rows[0].logits;
                return;
            }
            this.hFrom = this.cFrom = this.fFrom = null;
            this.partLn = this.partMean = this.partRstd = null;
            int groups = Math.min(n, threads);
            this.from = new int[groups + 1];
            this.rows = new RowBuffers[groups];
            this.state = new AttentionBlock.States[groups][cfg.layers()];
            for (int g = 0; g < groups; g++) {
                from[g + 1] = (int) ((long) n * (g + 1) / groups);
                int size = from[g + 1] - from[g];
                rows[g] = new RowBuffers(cfg, size);
                for (int l = 0; l < cfg.layers(); l++) state[g][l] = attn[l].newStates(size, cfg.heads());
            }
            this.logits = groups == 1 ? rows[0].logits : new float[n * cfg.vocab()];
        }

        /** [0, total) in parts pieces: bounds (parts + 1), even shares rounded to multiples of unit. */
        private static int[] bounds(int total, int parts, int unit) {
            int[] b = new int[parts + 1];
            for (int p = 1; p < parts; p++)
                b[p] = Math.min(total, Math.max(b[p - 1], (int) Math.round((double) total * p / parts / unit) * unit));
            b[parts] = total;
            return b;
        }

        /** N, the sequences decoded together. */
        public int size() { return n; }

        /** How the steps are spread over the threads (never AUTO: what AUTO chose). */
        public DecodeSplit split() { return split; }

        /** Tokens consumed so far by each sequence. */
        public int position() { return pos; }

        /** Floats of attention state kept now, over all layers and sequences. */
        public long stateFloats() {
            long f = 0;
            for (AttentionBlock.States[] group : state)
                for (AttentionBlock.States layer : group) f += layer.floats(pos);
            return f;
        }

        /**
         * Consumes one token per sequence (N); returns the probabilities (N, V) of the next ones, row i
         * for sequence i (a live buffer, overwritten by the next call).
         */
        public float[] step(int[] tokens) {
            if (tokens.length != n)
                throw new IllegalArgumentException("a step of " + n + " sequences takes " + n + " tokens, got "
                        + tokens.length);
            if (cfg.positions() == Positions.LEARNED && pos >= cfg.maxLen())
                throw new IllegalArgumentException("position " + pos + " is past the model's " + cfg.maxLen()
                        + " learned positions");
            if (split == DecodeSplit.HEADS) {
                RowBuffers row = rows[0];
                embedRows(row, tokens, 0);
                kern.phases(hFrom.length - 1, 4 * cfg.layers(), phase);
                output.forwardRows(row);
            } else if (rows.length == 1) {
                stepGroup(0, tokens);
            } else {
                kern.parallelFor(rows.length, g -> stepGroup(g, tokens));
                int v = cfg.vocab();
                for (int g = 0; g < rows.length; g++)
                    System.arraycopy(rows[g].logits, 0, logits, from[g] * v, rows[g].n * v);
            }
            pos++;
            return logits;
        }

        /** The embeddings of rows [from[g], from[g + 1]) into row.x, and the rotary angles of pos. */
        private void embedRows(RowBuffers row, int[] tokens, int g) {
            int c = cfg.width();
            for (int i = 0; i < row.n; i++) embedding.forwardRow(tokens[from[g] + i], pos, row.x, i * c);
            if (rotary != null) rotary.angles(pos, row.cos, row.sin); // any position, not only < maxLen
        }

        /** Rows [from[g], from[g + 1]) through the whole model (on one thread: nested kernels run serially). */
        private void stepGroup(int g, int[] tokens) {
            RowBuffers row = rows[g];
            embedRows(row, tokens, g);
            for (int l = 0; l < cfg.layers(); l++) {
                attn[l].decodeRows(row, state[g][l], pos);
                ffn[l].forwardRows(row);
            }
            output.forwardRows(row);
        }

        /** Part p of phase ph of a step split by heads: layer ph / 4, quarter ph % 4 ({@link DecodeSplit#HEADS}). */
        private void phase(int ph, int p) {
            RowBuffers r = rows[0];
            int l = ph / 4;
            switch (ph % 4) {
                case 0 -> attn[l].decodeHeads(r, partLn[p], partMean[p], partRstd[p], state[p][l], pos, hFrom[p],
                        hFrom[p + 1]);
                case 1 -> attn[l].projectColumns(r, cFrom[p], cFrom[p + 1]);
                case 2 -> ffn[l].hiddenColumns(r, partLn[p], partMean[p], partRstd[p], fFrom[p], fFrom[p + 1]);
                default -> ffn[l].projectColumns(r, cFrom[p], cFrom[p + 1]);
            }
        }
    }
}

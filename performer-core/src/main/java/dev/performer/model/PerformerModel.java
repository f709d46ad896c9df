package dev.performer.model;

import dev.performer.attention.Attention;
import dev.performer.attention.AttentionSpec;
import dev.performer.attention.Dims;
import dev.performer.attention.FavorAttention;
import dev.performer.attention.RecurrentFavor;
import dev.performer.data.Tokenizer;
import dev.performer.kernel.ElementwiseOp;
import dev.performer.kernel.Kernels;
import dev.performer.random.Seeds;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A pre-LayerNorm Performer Transformer with a hand-written backward.
 *
 * <pre>
 * forward (N = B·T rows):                          backward (mirrored, gradients accumulate +=):
 *   x = wte[tok] + pos                               dwte[tok] += dx, dwpe[t] += dx
 *   for each layer:                                  for each layer, last first:
 *     a = LN1(x); qkv = a·Wqkv + b                     dx += dropout'(d fcproj) ... (see below)
 *     o = Attention(q, k, v)   (B,H,T,D)
 *     x = x + drop(o·Wproj + b)
 *     f = LN2(x); h = gelu(f·Wfc + b)
 *     x = x + drop(h·Wfcproj + b)
 *   y = LNf(x); logits = y·wteᵀ; loss = mean CE       dlogits = (p − onehot)/count
 * </pre>
 * Activations kept for backward live in buffers sized from the configuration and the current
 * (B, T), allocated on the first step and reused while (B, T) stays the same: a training step
 * (forward, backward) allocates no buffers; only O(layers) small task handles for the worker threads.
 * Dropout masks are not stored: they are a hash of (seed, layer, site, element) and are recomputed
 * in backward. With rotary positions, q and k of every head are rotated by position after the
 * split (RoFormer, interleaved pairs) and dq, dk rotated back in backward.
 * Not thread-safe: one model, one caller.
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
    private final float[] sinusoid; // (L, C) fixed positions, or null with learned or rotary positions
    /** Parameter offsets of each layer (resolved once; no name lookups in the step). */
    private final Layer[] lp;
    private final int wteOff, wpeOff;
    private final LayerNorm lnfNorm;
    private final Rotary rotary; // null unless rotary positions

    /** The layers of one block, over the flat buffers (resolved once; no name lookups in the step). */
    private record Layer(LayerNorm ln1, Linear qkv, Linear proj, LayerNorm ln2, Linear fc, Linear fcproj,
                         Dropout attDrop, Dropout ffnDrop) {
        static Layer of(Kernels kern, ModelConfig cfg, ParameterLayout lay, float[] params, float[] grads, int l) {
            String p = "h" + l + ".";
            int c = cfg.width(), f = cfg.ffn();
            return new Layer(
                    new LayerNorm(kern, params, grads, lay.offset(p + "ln1.g"), lay.offset(p + "ln1.b"), c),
                    new Linear(kern, params, grads, lay.offset(p + "qkv.w"), lay.offset(p + "qkv.b"), c, 3 * c),
                    new Linear(kern, params, grads, lay.offset(p + "proj.w"), lay.offset(p + "proj.b"), c, c),
                    new LayerNorm(kern, params, grads, lay.offset(p + "ln2.g"), lay.offset(p + "ln2.b"), c),
                    new Linear(kern, params, grads, lay.offset(p + "fc.w"), lay.offset(p + "fc.b"), c, f),
                    new Linear(kern, params, grads, lay.offset(p + "fcproj.w"), lay.offset(p + "fcproj.b"), f, c),
                    new Dropout(kern, cfg.dropout(), l, 0), new Dropout(kern, cfg.dropout(), l, 1));
        }
    }

    // ---- activations for the current (B, T); N = B·T
    private int bsz = -1, len = -1;
    private float[] enc;                 // (N, C) input of layer 0
    private float[][] resIn;             // [layers+1] (N, C): input of each layer, and the final residual
    private float[][] ln1, ln2;          // [layers] (N, C)
    private float[][] ln1Mean, ln1Rstd, ln2Mean, ln2Rstd; // [layers] (N)
    private float[][] qkv;               // [layers] (N, 3C)
    private float[][] q, k, v, att;      // [layers] (B, H, T, D)
    private float[][] attMerged;         // [layers] (N, C)
    private Attention.Saved[] saved;     // [layers]
    private float[][] res2;              // [layers] (N, C) residual after attention
    private float[][] fcPre, fcAct;      // [layers] (N, F) before and after gelu
    private Dims dims;                   // (B, H, T, D) of the current shape
    private long dropSeed;               // dropout seed of the last forward
    private boolean dropOn;              // whether the last forward applied dropout
    private float[] lnf, lnfMean, lnfRstd; // (N, C), (N), (N)
    private float[] probs;               // (N, V) softmax of the logits
    private int[] tokens, targets;
    private float[] keyMask;             // (B, T) or null
    private int counted;                 // targets that count in the loss
    // ---- gradient scratch for the current (B, T)
    private float[] dx, dtmp, dln, dqkv, dq, dk, dv, datt, dfc;

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
            else if (n.endsWith(".b")) continue;
            else {
                double std = n.endsWith("proj.w") ? resStd : n.equals("wpe") ? 0.01 : 0.02;
                for (int i = 0; i < view.size(); i++) params[view.offset() + i] = (float) (std * r.nextGaussian());
            }
        }
        this.attention = new Attention[cfg.layers()];
        for (int l = 0; l < cfg.layers(); l++)
            attention[l] = cfg.attention().build(kern, cfg.headDim(), cfg.causal(), Seeds.projection(seed, l));
        this.sinusoid = cfg.positions() == Positions.SINUSOIDAL ? sinusoid(cfg.maxLen(), cfg.width()) : null;
        this.rotary = cfg.positions() == Positions.ROTARY ? new Rotary(kern, cfg.maxLen(), cfg.headDim()) : null;
        this.lp = new Layer[cfg.layers()];
        for (int l = 0; l < cfg.layers(); l++) lp[l] = Layer.of(kern, cfg, layout, params, grads, l);
        this.wteOff = layout.offset("wte");
        this.wpeOff = layout.has("wpe") ? layout.offset("wpe") : -1;
        this.lnfNorm = new LayerNorm(kern, params, grads, layout.offset("lnf.g"), layout.offset("lnf.b"), cfg.width());
    }

    /** Rotary angle of pair i at position t for head dimension D: t·10000^(−2i/D). */
    static double ropeAngle(int t, int i, int d) { return Rotary.angle(t, i, d); }

    /** Fixed sinusoidal positions (L, C): sin(t/10000^(2i/C)) in even columns, cos in odd ones. */
    static float[] sinusoid(int l, int c) {
        float[] pe = new float[l * c];
        for (int t = 0; t < l; t++)
            for (int i = 0; i < c; i += 2) {
                double ang = t / Math.pow(10000, (double) i / c);
                pe[t * c + i] = (float) Math.sin(ang);
                if (i + 1 < c) pe[t * c + i + 1] = (float) Math.cos(ang);
            }
        return pe;
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
        if (!(attention[layer] instanceof FavorAttention f)) throw new IllegalArgumentException("layer " + layer + " has no projection");
        f.setProjection(w);
    }

    /** Draws new FAVOR+ projections for every layer (the paper's periodic feature redraw). */
    public void redrawFeatures(long seed) {
        if (!(cfg.attention() instanceof AttentionSpec.Favor spec)) return;
        for (int l = 0; l < attention.length; l++)
            if (attention[l] instanceof FavorAttention f) f.redraw(spec.projection(), spec.scaling(), Seeds.projection(seed, l));
    }

    public void zeroGrad() { Arrays.fill(grads, 0f); }

    private void ensure(int b, int t) {
        if (b == bsz && t == len) return;
        int n = b * t, c = cfg.width(), f = cfg.ffn(), nl = cfg.layers();
        enc = new float[n * c];
        resIn = new float[nl + 1][n * c];
        ln1 = new float[nl][n * c]; ln2 = new float[nl][n * c];
        ln1Mean = new float[nl][n]; ln1Rstd = new float[nl][n]; ln2Mean = new float[nl][n]; ln2Rstd = new float[nl][n];
        qkv = new float[nl][n * 3 * c];
        q = new float[nl][n * c]; k = new float[nl][n * c]; v = new float[nl][n * c]; att = new float[nl][n * c];
        attMerged = new float[nl][n * c];
        saved = new Attention.Saved[nl];
        dims = Dims.self(b, cfg.heads(), t, cfg.headDim());
        res2 = new float[nl][n * c];
        fcPre = new float[nl][n * f]; fcAct = new float[nl][n * f];
        lnf = new float[n * c]; lnfMean = new float[n]; lnfRstd = new float[n];
        probs = new float[n * cfg.vocab()];
        dx = new float[n * c]; dtmp = new float[n * c]; dln = new float[n * c];
        dqkv = new float[n * 3 * c]; dq = new float[n * c]; dk = new float[n * c]; dv = new float[n * c]; datt = new float[n * c];
        dfc = new float[n * f];
        bsz = b;
        len = t;
    }

    /**
     * Forward pass over tokens (B, T). targets (B, T) hold the token to predict at each position,
     * or -1 where nothing is predicted; keyMask (B, T) (1 keep, 0 padding) may be null. With
     * {@code train}, dropout masks are drawn from dropoutSeed. Returns the mean cross-entropy over
     * the counted targets (0 if none).
     */
    public float forward(int[] tokens, int[] targets, int b, int t, float[] keyMask, boolean train, long dropoutSeed) {
        if (t > cfg.maxLen()) throw new IllegalArgumentException("sequence length " + t + " exceeds the model's maxLen " + cfg.maxLen());
        if (tokens.length != b * t || (targets != null && targets.length != b * t))
            throw new IllegalArgumentException("tokens/targets must hold B·T = " + b * t + " entries");
        ensure(b, t);
        this.tokens = tokens;
        this.targets = targets;
        this.keyMask = keyMask;
        int n = b * t, c = cfg.width(), f = cfg.ffn(), vocab = cfg.vocab(), h = cfg.heads(), d = cfg.headDim();
        for (int i = 0; i < n; i++) {
            int tok = tokens[i], pos = i % t;
            if (tok < 0 || tok >= vocab) throw new IllegalArgumentException("token " + tok + " at " + i + " outside vocabulary of " + vocab);
            System.arraycopy(params, wteOff + tok * c, enc, i * c, c);
            if (wpeOff >= 0) kern.axpy(1f, params, wpeOff + pos * c, enc, i * c, c);
            else if (sinusoid != null) kern.axpy(1f, sinusoid, pos * c, enc, i * c, c);
        }
        System.arraycopy(enc, 0, resIn[0], 0, n * c);
        dropOn = train && cfg.dropout() > 0;
        dropSeed = dropoutSeed;
        for (int l = 0; l < cfg.layers(); l++) {
            Layer w = lp[l];
            float[] x = resIn[l];
            w.ln1().forward(x, ln1[l], ln1Mean[l], ln1Rstd[l], n);
            w.qkv().forward(ln1[l], qkv[l], n);
            splitHeads(qkv[l], q[l], k[l], v[l], b, t, h, d);
            if (rotary != null) { rotary.forward(q[l], b * h, t); rotary.forward(k[l], b * h, t); }
            saved[l] = attention[l].forward(dims, q[l], k[l], v[l], keyMask, att[l], saved[l]);
            mergeHeads(att[l], attMerged[l], b, t, h, d);
            float[] r2 = res2[l];
            w.proj().forward(attMerged[l], r2, n);
            if (dropOn) w.attDrop().forward(r2, n * c, dropSeed);
            kern.axpy(1f, x, 0, r2, 0, n * c);                                 // res2 = x + drop(proj)
            w.ln2().forward(r2, ln2[l], ln2Mean[l], ln2Rstd[l], n);
            w.fc().forward(ln2[l], fcPre[l], n);
            map(ElementwiseOp.GELU, fcPre[l], fcAct[l], n * f);
            float[] next = resIn[l + 1];
            w.fcproj().forward(fcAct[l], next, n);
            if (dropOn) w.ffnDrop().forward(next, n * c, dropSeed);
            kern.axpy(1f, r2, 0, next, 0, n * c);                              // x' = res2 + drop(fcproj)
        }
        lnfNorm.forward(resIn[cfg.layers()], lnf, lnfMean, lnfRstd, n);
        kern.gemm(false, true, n, vocab, c, 1f, lnf, 0, c, params, wteOff, c, 0f, probs, 0, vocab);   // logits = y·wteᵀ
        double loss = 0;
        counted = 0;
        for (int i = 0; i < n; i++) {
            int row = i * vocab;
            float mx = kern.max(probs, row, vocab);
            kern.expAffine(probs, row, vocab, -mx, 1f, 0f);
            float sum = kern.sum(probs, row, vocab);
            kern.scale(probs, row, vocab, 1f / sum);
            if (targets != null && targets[i] >= 0) {
                if (targets[i] >= vocab) throw new IllegalArgumentException("target " + targets[i] + " outside vocabulary");
                loss -= Math.log(Math.max(probs[row + targets[i]], Float.MIN_NORMAL));
                counted++;
            }
        }
        return counted == 0 ? 0f : (float) (loss / counted);
    }

    /** Backward of the last forward: adds d(loss)/d(params) into {@link #grads()}. */
    public void backward() {
        if (tokens == null) throw new IllegalStateException("backward before forward");
        int b = bsz, t = len, n = b * t, c = cfg.width(), f = cfg.ffn(), vocab = cfg.vocab(), h = cfg.heads(), d = cfg.headDim();
        // dlogits = (p − onehot)/count, in place in probs (rows without a target contribute nothing)
        float inv = counted == 0 ? 0f : 1f / counted;
        for (int i = 0; i < n; i++) {
            int row = i * vocab;
            if (targets == null || targets[i] < 0) { Arrays.fill(probs, row, row + vocab, 0f); continue; }
            probs[row + targets[i]] -= 1f;
            kern.scale(probs, row, vocab, inv);
        }
        kern.gemm(true, false, vocab, c, n, 1f, probs, 0, vocab, lnf, 0, c, 1f, grads, wteOff, c);  // dwte += dlogitsᵀ·y
        kern.gemm(false, false, n, c, vocab, 1f, probs, 0, vocab, params, wteOff, c, 0f, dln, 0, c); // dy = dlogits·wte
        Arrays.fill(dx, 0f);
        lnfNorm.backward(dln, resIn[cfg.layers()], lnfMean, lnfRstd, dx, n);
        for (int l = cfg.layers() - 1; l >= 0; l--) {
            Layer w = lp[l];
            // x' = res2 + drop(fcproj(gelu(fc(LN2(res2)))))
            System.arraycopy(dx, 0, dtmp, 0, n * c);
            if (dropOn) w.ffnDrop().backward(dtmp, n * c, dropSeed);
            Arrays.fill(dfc, 0f);
            w.fcproj().backward(fcAct[l], dtmp, dfc, n);
            float[] gd = fcAct[l];                                             // fcAct is not needed any more: reuse for gelu'
            map(ElementwiseOp.GELU_GRAD, fcPre[l], gd, n * f);
            kern.mul(dfc, 0, gd, 0, dfc, 0, n * f);
            Arrays.fill(dln, 0f);
            w.fc().backward(ln2[l], dfc, dln, n);
            w.ln2().backward(dln, res2[l], ln2Mean[l], ln2Rstd[l], dx, n);
            // res2 = x + drop(proj(merge(attention(rotate(split(qkv(LN1(x))))))))
            System.arraycopy(dx, 0, dtmp, 0, n * c);
            if (dropOn) w.attDrop().backward(dtmp, n * c, dropSeed);
            Arrays.fill(datt, 0f);
            w.proj().backward(attMerged[l], dtmp, datt, n);
            splitMerged(datt, dtmp, b, t, h, d);                                // (N, C) -> (B, H, T, D)
            attention[l].backward(saved[l], dtmp, dq, dk, dv);
            if (rotary != null) { rotary.backward(dq, b * h, t); rotary.backward(dk, b * h, t); }
            joinHeads(dq, dk, dv, dqkv, b, t, h, d);
            Arrays.fill(dln, 0f);
            w.qkv().backward(ln1[l], dqkv, dln, n);
            w.ln1().backward(dln, resIn[l], ln1Mean[l], ln1Rstd[l], dx, n);
        }
        // embeddings
        for (int i = 0; i < n; i++) {
            kern.axpy(1f, dx, i * c, grads, wteOff + tokens[i] * c, c);
            if (wpeOff >= 0) kern.axpy(1f, dx, i * c, grads, wpeOff + (i % t) * c, c);
        }
    }

    /** Targets counted in the last forward's loss. */
    public int counted() { return counted; }

    /** How many counted targets the last forward ranked first (call before backward, which reuses the probabilities). */
    public int correct() {
        int vocab = cfg.vocab(), n = bsz * len, ok = 0;
        for (int i = 0; i < n; i++) {
            if (targets == null || targets[i] < 0) continue;
            int row = i * vocab, best = 0;
            for (int j = 1; j < vocab; j++) if (probs[row + j] > probs[row + best]) best = j;
            if (best == targets[i]) ok++;
        }
        return ok;
    }

    /** The final LayerNorm output (B·T, C) of the last forward: per-token representations. */
    public float[] hidden() { return lnf; }

    /** Softmax probabilities (B·T, V) of the last forward (valid until backward, which reuses them). */
    public float[] probabilities() { return probs; }

    /**
     * Mean-pooled representations: for each of the B rows of tokens (B, T), the mean of the final
     * LayerNorm outputs over the positions where mask (B, T) is 1 (all positions when mask is null;
     * a row with no position gets zeros). The mask is also the attention key mask of bidirectional
     * models. Returns (B, C).
     */
    public float[] embed(int[] tokens, float[] mask, int b, int t) {
        forward(tokens, null, b, t, cfg.causal() ? null : mask, false, 0);
        int c = cfg.width();
        float[] out = new float[b * c];
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
     * Samples a continuation of a protein prompt (residue letters; BOS is added here) with the
     * recurrent decoder: at most maxNew residues, stopping at EOS. Every new token costs the same
     * however long the prompt for FAVOR+ (O(M·D) state per head). Returns the new residues.
     */
    public String generate(String residues, int maxNew, Sampler sampler, SplittableRandom random) {
        int bad = Tokenizer.firstUnknown(residues);
        if (bad >= 0) throw new IllegalArgumentException("prompt has '" + residues.charAt(bad) + "' at " + (bad + 1)
                + ", not an amino-acid letter");
        int[] out = generate(Tokenizer.encode(residues, Tokenizer.Unknown.MAP_TO_X), maxNew, sampler, random);
        return Tokenizer.decode(out, 0, out.length);
    }

    /**
     * As {@link #generate(String, int, Sampler, SplittableRandom)} on token ids (without BOS, which
     * is added here): returns at most maxNew new tokens, EOS not included.
     */
    public int[] generate(int[] tokens, int maxNew, Sampler sampler, SplittableRandom random) {
        if (maxNew < 0) throw new IllegalArgumentException("maxNew must be >= 0, got " + maxNew);
        Decoder dec = decoder();
        float[] p = dec.step(Tokenizer.BOS);
        for (int tok : tokens) p = dec.step(tok);
        int[] out = new int[maxNew];
        int n = 0;
        while (n < maxNew) {
            int next = sampler.sample(p, random);
            if (next == Tokenizer.EOS) break;
            out[n++] = next;
            if (n < maxNew) p = dec.step(next);
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * The mean-pooled representation (C) of one protein: BOS, the residues and EOS, as
     * {@code performer embed} feeds them (at most maxLen tokens with learned positions).
     */
    public float[] embed(String residues) {
        int[] seq = Tokenizer.encode(residues, Tokenizer.Unknown.MAP_TO_X), tok = new int[seq.length + 2];
        tok[0] = Tokenizer.BOS;
        System.arraycopy(seq, 0, tok, 1, seq.length);
        tok[seq.length + 1] = Tokenizer.EOS;
        return embed(tok, null, 1, tok.length);
    }

    /** A decoder for one causal sequence, one token at a time (see {@link Decoder}). */
    public Decoder decoder() { return new Decoder(); }

    /**
     * One-token-at-a-time causal decoding. FAVOR+ layers keep O(M·D) state per head
     * ({@link RecurrentFavor}), so every token costs the same however long the prefix; exact
     * attention keeps a key/value cache (O(t) per token); identity attention keeps nothing.
     * The FAVOR+ key stabilizer is the running max over the keys so far (the parallel form uses
     * the max over all keys), which changes outputs only through the eps inside the features.
     */
    public final class Decoder {
        private final RecurrentFavor[] rec = new RecurrentFavor[cfg.layers()];
        private final float[][] kCache = new float[cfg.layers()][], vCache = new float[cfg.layers()][];
        private final float[] x, a, qkvRow, o, hid, tmp, logits, mean = new float[1], rstd = new float[1];
        private final float[] rowCos = new float[cfg.headDim() / 2], rowSin = new float[cfg.headDim() / 2]; // rotary angles of pos
        private float[] scores = new float[16];   // exact attention scores over the cache (grown by doubling)
        private int pos;

        private Decoder() {
            if (!cfg.causal()) throw new IllegalStateException("only causal models generate text; this one is bidirectional");
            int c = cfg.width();
            for (int l = 0; l < cfg.layers(); l++) {
                if (attention[l] instanceof FavorAttention f) rec[l] = RecurrentFavor.of(kern, f, cfg.heads());
                else if (cfg.attention() instanceof AttentionSpec.Exact) { kCache[l] = new float[16 * c]; vCache[l] = new float[16 * c]; }
            }
            x = new float[c]; a = new float[c]; qkvRow = new float[3 * c]; o = new float[c]; hid = new float[cfg.ffn()]; tmp = new float[c];
            logits = new float[cfg.vocab()];
        }

        /** Tokens consumed so far. */
        public int position() { return pos; }

        /** Floats of attention state kept now, over all layers (constant for FAVOR+, growing for exact). */
        public long stateFloats() {
            long n = 0;
            for (int l = 0; l < cfg.layers(); l++) {
                if (rec[l] != null) n += rec[l].stateFloats();
                else if (kCache[l] != null) n += 2L * pos * cfg.width();
            }
            return n;
        }

        /** Consumes a token; returns the probabilities (V) of the next one (a live buffer, overwritten by the next call). */
        public float[] step(int token) {
            int c = cfg.width(), f = cfg.ffn(), h = cfg.heads(), d = cfg.headDim(), vocab = cfg.vocab();
            if (token < 0 || token >= vocab) throw new IllegalArgumentException("token " + token + " outside vocabulary of " + vocab);
            System.arraycopy(params, wteOff + token * c, x, 0, c);
            if (wpeOff >= 0) {
                if (pos >= cfg.maxLen()) throw new IllegalStateException("position " + pos + " beyond the learned positions (maxLen " + cfg.maxLen() + ")");
                kern.axpy(1f, params, wpeOff + pos * c, x, 0, c);
            } else if (sinusoid != null) {
                for (int i = 0; i < c; i += 2) {
                    double ang = pos / Math.pow(10000, (double) i / c);
                    x[i] += (float) Math.sin(ang);
                    if (i + 1 < c) x[i + 1] += (float) Math.cos(ang);
                }
            } else {
                rotary.angles(pos, rowCos, rowSin);          // this position's angles (any position, not only < maxLen)
            }
            for (int l = 0; l < cfg.layers(); l++) {
                Layer w = lp[l];
                w.ln1().forward(x, a, mean, rstd, 1);
                w.qkv().forward(a, qkvRow, 1);
                if (rotary != null) rotary.forwardRow(qkvRow, h, rowCos, rowSin);
                if (rec[l] != null) rec[l].step(qkvRow, 0, qkvRow, c, qkvRow, 2 * c, o, 0);
                else if (kCache[l] != null) cachedAttention(l, h, d);
                else System.arraycopy(qkvRow, 2 * c, o, 0, c);
                w.proj().forward(o, tmp, 1);
                kern.axpy(1f, tmp, 0, x, 0, c);
                w.ln2().forward(x, a, mean, rstd, 1);
                w.fc().forward(a, hid, 1);
                kern.map(ElementwiseOp.GELU, hid, 0, hid, 0, f);
                w.fcproj().forward(hid, tmp, 1);
                kern.axpy(1f, tmp, 0, x, 0, c);
            }
            lnfNorm.forward(x, a, mean, rstd, 1);
            kern.gemm(false, true, 1, vocab, c, 1f, a, 0, c, params, wteOff, c, 0f, logits, 0, vocab);
            float mx = kern.max(logits, 0, vocab);
            kern.expAffine(logits, 0, vocab, -mx, 1f, 0f);
            kern.scale(logits, 0, vocab, 1f / kern.sum(logits, 0, vocab));
            pos++;
            return logits;
        }

        /** Exact causal attention of the current token over the cached keys and values (itself included). */
        private void cachedAttention(int l, int h, int d) {
            int c = h * d;
            if ((pos + 1) * c > kCache[l].length) {
                kCache[l] = Arrays.copyOf(kCache[l], 2 * (pos + 1) * c);
                vCache[l] = Arrays.copyOf(vCache[l], 2 * (pos + 1) * c);
            }
            if (pos + 1 > scores.length) scores = new float[2 * (pos + 1)];
            float[] sc = scores;
            System.arraycopy(qkvRow, c, kCache[l], pos * c, c);
            System.arraycopy(qkvRow, 2 * c, vCache[l], pos * c, c);
            float scale = (float) (1.0 / Math.sqrt(d));
            for (int hi = 0; hi < h; hi++) {
                for (int j = 0; j <= pos; j++) sc[j] = scale * kern.dot(qkvRow, hi * d, kCache[l], j * c + hi * d, d);
                float mx = kern.max(sc, 0, pos + 1);
                kern.expAffine(sc, 0, pos + 1, -mx, 1f, 0f);
                float z = kern.sum(sc, 0, pos + 1);
                Arrays.fill(o, hi * d, (hi + 1) * d, 0f);
                for (int j = 0; j <= pos; j++) kern.axpy(sc[j] / z, vCache[l], j * c + hi * d, o, hi * d, d);
            }
        }
    }

    // ------------------------------------------------------------------ layers

    /** Elements per parallel task of the element-wise maps (64K floats: 256 KB, well above task overhead). */
    private static final int MAP_CHUNK = 1 << 16;

    /** out = op(x) over n elements, split across the backend's threads. */
    private void map(ElementwiseOp op, float[] x, float[] out, int n) {
        int tasks = (n + MAP_CHUNK - 1) / MAP_CHUNK;
        kern.parallelFor(tasks, i -> {
            int from = i * MAP_CHUNK;
            kern.map(op, x, from, out, from, Math.min(MAP_CHUNK, n - from));
        });
    }

    /** Whether dropout keeps element i of (layer, site) under seed: the mask the model applies (for references). */
    static boolean dropoutKeeps(long seed, float p, int layer, int site, int i) {
        return Dropout.keeps(seed, p, layer, site, i);
    }

    /** qkv (B·T, 3C) -> q, k, v (B, H, T, D). */
    private static void splitHeads(float[] qkv, float[] q, float[] k, float[] v, int b, int t, int h, int d) {
        int c = h * d;
        for (int bi = 0; bi < b; bi++)
            for (int ti = 0; ti < t; ti++) {
                int row = (bi * t + ti) * 3 * c;
                for (int hi = 0; hi < h; hi++) {
                    int dst = ((bi * h + hi) * t + ti) * d;
                    System.arraycopy(qkv, row + hi * d, q, dst, d);
                    System.arraycopy(qkv, row + c + hi * d, k, dst, d);
                    System.arraycopy(qkv, row + 2 * c + hi * d, v, dst, d);
                }
            }
    }

    /** dq, dk, dv (B, H, T, D) -> dqkv (B·T, 3C). */
    private static void joinHeads(float[] dq, float[] dk, float[] dv, float[] dqkv, int b, int t, int h, int d) {
        int c = h * d;
        for (int bi = 0; bi < b; bi++)
            for (int ti = 0; ti < t; ti++) {
                int row = (bi * t + ti) * 3 * c;
                for (int hi = 0; hi < h; hi++) {
                    int src = ((bi * h + hi) * t + ti) * d;
                    System.arraycopy(dq, src, dqkv, row + hi * d, d);
                    System.arraycopy(dk, src, dqkv, row + c + hi * d, d);
                    System.arraycopy(dv, src, dqkv, row + 2 * c + hi * d, d);
                }
            }
    }

    /** (B, H, T, D) -> (B·T, C). */
    private static void mergeHeads(float[] x, float[] out, int b, int t, int h, int d) {
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int ti = 0; ti < t; ti++)
                    System.arraycopy(x, ((bi * h + hi) * t + ti) * d, out, (bi * t + ti) * h * d + hi * d, d);
    }

    /** (B·T, C) -> (B, H, T, D). */
    private static void splitMerged(float[] x, float[] out, int b, int t, int h, int d) {
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
                for (int ti = 0; ti < t; ti++)
                    System.arraycopy(x, (bi * t + ti) * h * d + hi * d, out, ((bi * h + hi) * t + ti) * d, d);
    }
}

package dev.performer.attention;

import dev.performer.kernel.Kernels;
import java.util.Arrays;

/**
 * FAVOR+ attention: D⁻¹(φ(Q)(φ(K)ᵀV)), bidirectional or causal, with a hand-written backward.
 *
 * <p>Per batch-head, with Φq = φ(Q) (Lq×Mf), Φk = φ(K) (Lk×Mf, masked rows zero):
 * <pre>
 *   bidirectional  S = Φkᵀ V (Mf×D), z = Φkᵀ 1 (Mf);  num = Φq S, den = Φq z, out = num / den
 *   causal (chunks of T rows c):  A = tril(Φq[c] Φk[c]ᵀ)
 *                  num[c] = Φq[c] S + A V[c],  den[c] = Φq[c] z + A 1,  then S += Φk[c]ᵀ V[c], z += Φk[c]ᵀ 1
 * </pre>
 * Backward, with G = dout / den and g = −(dout·out) / den (per row):
 * <pre>
 *   dΦq_i = S_i G_i + z_i g_i,     dΦk_j = R_j v_j + r_j,    dv_j = R_jᵀ φk_j
 *   where S_i, z_i are the prefix states (all keys when bidirectional) and
 *   R_j = Σ_{i≥j} φq_i G_iᵀ, r_j = Σ_{i≥j} φq_i g_i are suffix states (all queries when bidirectional).
 * </pre>
 * The causal backward runs one forward sweep over chunks (rebuilding S, z by accumulation) and one
 * reverse sweep (accumulating R, r); within a chunk the work is masked T×T products
 * ({@link Kernels#gemmLower}, {@link Kernels#gemmTriangular}). Nothing is ever rebuilt by
 * subtraction. Features are not kept from forward to backward: forward computes φ block by block,
 * and the causal backward's forward sweep computes them again and keeps them (with the chunks' score
 * gradients) for its reverse sweep while they fit {@link #FEATURE_CACHE_FLOATS} per task, else the
 * reverse sweep recomputes them. Between forward and backward the attention keeps O(L) per head (the
 * denominators), O(Mf·D) states and, causal, the chunks' masked scores (O(L·T)): no O(L·M·D)
 * tensor. dq, dk come from {@link FeatureMap#backward} block by block.
 *
 * <p>OPRF (FAVOR++) features: an adaptive map, in bidirectional attention, takes A* per batch-head
 * from ρ of that head's queries and unmasked keys ({@link FeatureMap#rho}, O(L·D)) and keeps it for
 * backward, which holds it constant; causal attention uses {@link FeatureMap#fixedA}, so that no
 * position sees statistics of later ones.
 */
public final class FavorAttention implements Attention {

    /**
     * Rows per causal chunk: a trade between GEMM efficiency and the 2·L·T·(M+D) intra-chunk flops. 70 is
     * five whole 14-row panels of the AVX-512 micro-tile, where 64 left an 8-row edge panel computed at
     * the cost of a whole one: 2-3% faster than 64 on the causal layer (28 to 56 were within noise of
     * 64, 84 and 128 slower; results/causal-jfr/chunk.txt).
     */
    public static final int DEFAULT_CHUNK = 70;

    private final Kernels kern;
    private final FeatureMap map;
    private final boolean causal;
    private final int m, d, mf, chunk;
    private final boolean perHead;   // OPRF with A from each batch-head's inputs
    private float[] w;               // (M×D) projection, null without projection
    private float[] wUse;            // what the map computes with (FeatureMap.prepare at the fixed A): w but for OPRF
    private float[] wUseT;           // wUse's M×D transposed (D×M): a block's projection then packs B by rows

    /**
     * @param w projection (M×D row-major), copied; null only for a generalized map without projection
     * @param m number of random projections M (ignored without projection)
     */
    public FavorAttention(Kernels kern, FeatureMap map, float[] w, int m, int d, boolean causal) {
        this(kern, map, w, m, d, causal, DEFAULT_CHUNK);
    }

    public FavorAttention(Kernels kern, FeatureMap map, float[] w, int m, int d, boolean causal, int chunk) {
        if (kern == null || map == null) throw new IllegalArgumentException("kernels and feature map are required");
        if (d < 1) throw new IllegalArgumentException("head dim D must be >= 1, got " + d);
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        this.kern = kern;
        this.map = map;
        this.causal = causal;
        this.d = d;
        this.m = map.projected() ? m : 0;
        this.mf = map.features(m, d);
        this.chunk = chunk;
        this.perHead = map.adaptive() && !causal;
        if (map.projected()) {
            if (m < 1) throw new IllegalArgumentException("number of random features M must be >= 1, got " + m);
            setProjection(w);
        } else if (w != null) {
            throw new IllegalArgumentException(map.name() + " takes no projection");
        }
    }

    /** FAVOR+ with a freshly drawn projection. */
    public static FavorAttention random(Kernels kern, FeatureMap map, int m, int d, boolean causal,
                                        Projection.Type type, Projection.Scaling scaling, long seed) {
        float[] w = map.projected() ? Projection.draw(type, scaling, m, d, seed) : null;
        return new FavorAttention(kern, map, w, m, d, causal);
    }

    /** Replaces the projection (M×D); a trainer calls this to redraw features. */
    public void setProjection(float[] w) {
        if (!map.projected()) throw new IllegalArgumentException(map.name() + " takes no projection");
        if (w == null || w.length != m * d)
            throw new IllegalArgumentException("projection must be (M=" + m + ", D=" + d + ") = " + m * d
                    + " floats, got " + (w == null ? "none" : w.length));
        for (int i = 0; i < w.length; i++)
            if (!Float.isFinite(w[i])) throw new IllegalArgumentException("projection has a non-finite value at row "
                    + i / d + ", column " + i % d);
        this.w = w.clone();
        this.wUse = map.prepare(this.w, m, d, map.fixedA(d), null);
        this.wUseT = FeatureMap.transposed(wUse, m, d);
    }

    /** Draws a new projection from a seed (the redraw API). */
    public void redraw(Projection.Type type, Projection.Scaling scaling, long seed) {
        setProjection(Projection.draw(type, scaling, m, d, seed));
    }

    /** A copy of the projection (M×D), or null without projection. */
    public float[] projection() { return w == null ? null : w.clone(); }

    public FeatureMap featureMap() { return map; }
    public int features() { return mf; }
    public int projections() { return m; }
    public int dim() { return d; }

    @Override public String name() { return "favor-" + map.name() + (causal ? "/causal" : "/bidir"); }
    @Override public boolean causal() { return causal; }

    /**
     * φ(x) for all batch-heads of x (B,H,L,D): (B,H,L,Mf). For inspection and parity tests; OPRF uses
     * its fixed A here (the adaptive one needs the queries and the keys together).
     */
    public float[] features(Dims dims, float[] x, boolean query) {
        int l = query ? dims.lq() : dims.lk();
        dims.checkLen(query ? "q" : "k", x, dims.bh() * l * d, "(B,H,L,D)");
        float[] phi = new float[dims.bh() * l * mf];
        float[] wl = wUse;
        kern.parallelFor(dims.bh(), bh -> map.forward(kern, x, bh * l * d, l, d, wl, m, query, phi, bh * l * mf));
        return phi;
    }

    /**
     * What forward keeps for backward: the denominators (B,H,Lq), the key stabilizer per head
     * (B,H), for the bidirectional form S (B,H,Mf,D) and z (B,H,Mf), for the causal form each
     * T-row chunk's masked scores (B,H,L,T). No feature matrix is kept: backward recomputes φ chunk
     * by chunk, so memory stays O(L·T + Mf·D) per head plus O(T·Mf) scratch per thread. Adaptive
     * OPRF also keeps each head's A (B,H), and w is then the drawn projection, else the prepared one.
     */
    private static final class State implements Saved {
        Dims dims;
        float[] q, k, v, mask, out, w;
        final float[] den, keyMax;
        final float[] s, z;
        final double[] a;
        final FavorAttention owner;
        int parts = 1;        // row parts per head of the forward that filled this state (rowParts)
        float[] qSum, chunkC; // causal single pass: (B,H,L) Σ φq per row, (B,H,chunks) running key max per chunk
        // with parts > 1, per (B,H,P): bidirectional partial states S_p, z_p, Σ v, key max and count
        // (forward scratch); causal exclusive prefix states (kept for backward); backward R_p, r_p
        float[] pS, pZ, pV, pC, pR, pRz;
        int[] pCount;
        float[] cacheQ, cacheK; // causal backward over parts: (B,H,L,Mf) features of the forward sweeps
        float[] cacheG;         // and (B,H,L,T) their chunks' score gradients
        // causal: each chunk's masked scores tril(Φq Φkᵀ), the chunk at c0 of head bh at (bh·L + c0)·T, t×t
        // (B,H,L,T: the size of V at T = D), for backward's reverse sweep; with the running key max (the
        // single-pass forward) they are each chunk's, without eps (see chunkScores)
        float[] scores;
        boolean scoresRunning;

        State(FavorAttention owner, Dims dims) {
            this.owner = owner;
            this.dims = dims;
            int bhN = dims.bh();
            den = new float[bhN * dims.lq()];
            keyMax = new float[bhN];
            s = owner.causal ? null : new float[bhN * owner.mf * owner.d];
            z = owner.causal ? null : new float[bhN * owner.mf];
            a = owner.perHead ? new double[bhN] : null;
        }

        /** Whether this state's buffers have the sizes a forward over dims needs. */
        boolean fits(FavorAttention a, Dims dims) {
            return owner == a && den.length == dims.bh() * dims.lq() && keyMax.length == dims.bh();
        }

        @Override public Dims dims() { return dims; }
    }

    /**
     * The causal backward keeps the query and key features its forward sweep computed for its reverse
     * sweep (instead of projecting and exponentiating them again) while each of the two takes at most this
     * many floats per task (16M floats, 64 MB: L 65536 at M 256; the score gradients kept with them add T/Mf of
     * that); beyond it the reverse sweep recomputes them.
     */
    static final long FEATURE_CACHE_FLOATS = 16L << 20;

    /** This layer's limit ({@link #FEATURE_CACHE_FLOATS}; tests set 0 to take the recomputing path). */
    long featureCacheFloats = FEATURE_CACHE_FLOATS;

    /** Rows per streamed block in the bidirectional form (features of one block live at a time). */
    private static final int STREAM = 256;

    /** Per-task scratch: feature blocks, their gradients, the T×T chunk matrix, states. */
    private final class Work {
        final int rows;
        final int featureRows; // rows of phiQ, phiK: causal chunks take their features a few chunks at a time
        final float[] phiQ, phiK, dphi, a, g, gden, s2, z2, scratch, vsum, wPrep;
        float[] cacheQ, cacheK; // causal backward: a head's features from its forward sweep, for the reverse one
        float[] cacheG;         // and its chunks' score gradients tril(G Vᵀ + g 1ᵀ), (L,T)

        Work(int rows) {
            this.rows = rows;
            featureRows = causal ? rows * Math.max(1, STREAM / rows) : rows;
            phiQ = new float[featureRows * mf];
            phiK = new float[featureRows * mf];
            dphi = new float[featureRows * mf];
            scratch = new float[featureRows * mf];
            a = new float[rows * rows];
            g = new float[rows * d];
            gden = new float[rows];
            s2 = new float[mf * d];
            z2 = new float[mf];
            vsum = new float[d];
            wPrep = perHead ? new float[map.preparedLength(m, d)] : null;
        }
    }

    /** Scratch reused across calls, one per worker thread (sized for the largest block seen). */
    private final ThreadLocal<Work> work = new ThreadLocal<>();

    private Work work(int rows) {
        Work wk = work.get();
        if (wk == null || wk.rows != rows) {
            wk = new Work(rows);
            work.set(wk);
        }
        return wk;
    }

    /** The projection head bh computes with: for adaptive OPRF prepared at its own A (into wk), else st.w. */
    private float[] headProjection(State st, int bh, Work wk) {
        return perHead ? map.prepare(st.w, m, d, st.a[bh], wk.wPrep) : st.w;
    }

    private boolean masked(float[] mask, int b, int lk, int j) { return mask != null && mask[b * lk + j] == 0f; }

    private void zeroMaskedRows(float[] mask, int b, int lk, int j0, int t, float[] x, int off) {
        if (mask == null) return;
        for (int j = 0; j < t; j++)
            if (mask[b * lk + j0 + j] == 0f) Arrays.fill(x, off + j * mf, off + (j + 1) * mf, 0f);
    }

    /** The stabilizer of keys [from, to) of one head: the max of their pre-activations, masked keys included. */
    private float keyMax(float[] k, int ko, int from, int to, float[] wl, Work wk) {
        float c = Float.NEGATIVE_INFINITY;
        for (int j0 = from; j0 < to; j0 += wk.rows) {
            int t = Math.min(wk.rows, to - j0);
            project(k, ko + j0 * d, t, wl, wk.phiK);
            c = Math.max(c, map.maxPre(kern, wk.phiK, 0, t, d, m));
        }
        return c;
    }

    /**
     * Pre-activations of t rows at x[off] into phi: with the shared projection through its transposed
     * copy (packing a B of D×M rows is a row copy; W's M×D transposed in every 64-row chunk cost as much
     * as the product, measured 69 against 103 GFLOP/s), with a head's own (adaptive OPRF) as M×D.
     */
    private void project(float[] x, int off, int t, float[] wl, float[] phi) {
        if (wl == wUse && wUseT != null) map.projectTransposed(kern, x, off, t, d, wl, wUseT, m, phi, 0);
        else map.project(kern, x, off, t, d, wl, m, phi, 0);
    }

    /** φ(K) rows [j0, j0+t) of one head into wk.phiK with stabilizer c (masked rows zero). */
    private void keyFeatures(float[] k, int ko, int j0, int t, float[] wl, float c, float[] mask, int b, int lk,
                             Work wk) {
        project(k, ko + j0 * d, t, wl, wk.phiK);
        map.activateKeys(kern, k, ko + j0 * d, t, d, m, wk.phiK, 0, c, true);
        zeroMaskedRows(mask, b, lk, j0, t, wk.phiK, 0);
    }

    /** φ(Q) rows [i0, i0+t) of one head into wk.phiQ. */
    private void queryFeatures(float[] q, int qo, int i0, int t, float[] wl, Work wk) {
        project(q, qo + i0 * d, t, wl, wk.phiQ);
        map.activateQueries(kern, q, qo + i0 * d, t, d, m, wk.phiQ, 0);
    }

    // ---------------------------------------------------------------- the split of a head's rows

    /** Rows a part covers at least: below it, splitting a head costs more than it saves. */
    static final int MIN_PART_ROWS = 256;

    /**
     * Into how many parts forward and backward split each head's rows (the cost model of the split):
     * 1 when the batch·heads alone keep the threads busy and balanced, else about two tasks per
     * thread, at most one part per block of rows and per {@value #MIN_PART_ROWS} rows. Bidirectional
     * parts sum partial states (S, z rescaled to the common key stabilizer; R, r in backward). Causal
     * parts run a parallel scan: every part's own state, their prefix sums (suffix sums in backward's
     * reverse sweep), then each part's chunks from its prefix. The scan computes the keys' features
     * once more (about 1.3× the work of one pass), so it pays on two or more threads.
     */
    static int rowParts(int bh, int threads, int blocks, int rows) {
        if (threads <= 1 || bh >= 2 * threads || (bh >= threads && bh % threads == 0)) return 1;
        int want = (2 * threads + bh - 1) / bh;
        return Math.max(1, Math.min(want, Math.min(blocks, rows / MIN_PART_ROWS)));
    }

    /**
     * Threads from which the causal forward splits a head's rows: its scan runs a key-max pass and the
     * parts' states before the chunks (about 1.6× the work of the one-pass forward), measured slower
     * than one thread on two (1 head, L 4096: 115 against 104 ms). Backward's scan adds only the parts'
     * states to its two sweeps and splits from two threads.
     */
    static final int CAUSAL_SCAN_THREADS = 4;

    /** The row parts per head that a forward used (tests). */
    static int partsOf(Saved saved) { return ((State) saved).parts; }

    /** The first row of part p (of parts) when blocks of `rows` rows are dealt out evenly, within l rows. */
    private static int partStart(int p, int parts, int blocks, int rows, int l) {
        return (int) Math.min(l, (long) blocks * p / parts * rows);
    }

    private static float[] fit(float[] a, int n) { return a != null && a.length == n ? a : new float[n]; }

    /** Rows per block: the causal chunk, or the bidirectional streaming block. */
    private int blockRows(Dims dims) {
        return causal ? Math.min(chunk, dims.lq()) : Math.min(STREAM, Math.max(dims.lq(), dims.lk()));
    }

    private int blocks(Dims dims) {
        int rows = blockRows(dims);
        return (Math.max(dims.lq(), dims.lk()) + rows - 1) / rows;
    }

    // ---------------------------------------------------------------- forward

    @Override
    public Saved forward(Dims dims, float[] q, float[] k, float[] v, float[] keyMask, float[] out, Saved reuse) {
        Attention.checkForward(this, dims, q, k, v, keyMask, out);
        if (dims.dim() != d)
            throw new IllegalArgumentException(name() + " was built for D=" + d + ", inputs have D=" + dims.dim());
        int bhN = dims.bh(), lq = dims.lq(), lk = dims.lk(), rows = blockRows(dims);
        State st = reuse instanceof State r && r.fits(this, dims) ? r : new State(this, dims);
        st.dims = dims; st.q = q; st.k = k; st.v = v; st.mask = keyMask; st.out = out; st.w = perHead ? w : wUse;
        // the causal scan costs about 1.6× the one-pass forward: it pays from CAUSAL_SCAN_THREADS threads
        int parts = causal && kern.threads() < CAUSAL_SCAN_THREADS ? 1
                : rowParts(bhN, kern.threads(), blocks(dims), Math.max(lq, lk));
        st.parts = parts;
        if (causal) st.scores = fit(st.scores, bhN * lq * chunk);
        st.scoresRunning = causal && parts == 1 && map.stabilized();
        if (causal && parts == 1 && map.stabilized()) {
            st.qSum = fit(st.qSum, bhN * lq);
            st.chunkC = fit(st.chunkC, bhN * ((lq + chunk - 1) / chunk));
        }
        if (parts > 1) {
            if (causal) causalForwardParts(st, rows);
            else bidirForwardParts(st, rows);
            return st;
        }
        kern.parallelFor(bhN, bh -> {
            int qo = bh * lq * d, ko = bh * lk * d, b = bh / dims.heads();
            Work wk = work(rows);
            if (causal && map.stabilized()) {
                st.keyMax[bh] = causalForwardRunning(lq, st, bh, b, wk);
            } else if (causal) {
                st.keyMax[bh] = 0f;
                causalForward(0, lq, lq, st, qo, ko, b, st.w, 0f, null, 0, null, 0, wk);
            } else {
                if (perHead) st.a[bh] = FeatureMap.optimalA(FeatureMap.rho(q, qo, lq, k, ko, lk, d, keyMask, b * lk));
                float[] wl = headProjection(st, bh, wk);
                int[] count = new int[1];
                st.keyMax[bh] = bidirState(0, lk, lk, k, ko, v, keyMask, b, wl, st.s, bh * mf * d, st.z, bh * mf,
                        wk.vsum, 0, count, 0, wk);
                addEps(st.s, bh * mf * d, st.z, bh * mf, wk.vsum, 0, count[0]);
                bidirOutput(st, bh, 0, lq, wl, wk);
            }
            normalize(st, bh, 0, lq);
        });
        return st;
    }

    /** out rows [from, to) of head bh divided by their denominators (0 where the denominator is 0). */
    private void normalize(State st, int bh, int from, int to) {
        int lq = st.dims.lq(), qo = bh * lq * d;
        for (int i = from; i < to; i++) {
            float dn = st.den[bh * lq + i];
            if (dn == 0f) Arrays.fill(st.out, qo + i * d, qo + (i + 1) * d, 0f);
            else kern.scale(st.out, qo + i * d, d, 1f / dn);
        }
    }

    /** Bidirectional: num = Φq S into out and den = Φq z for query rows [from, to) of head bh. */
    private void bidirOutput(State st, int bh, int from, int to, float[] wl, Work wk) {
        int lq = st.dims.lq(), qo = bh * lq * d;
        for (int i0 = from; i0 < to; i0 += wk.rows) {
            int t = Math.min(wk.rows, to - i0);
            queryFeatures(st.q, qo, i0, t, wl, wk);
            kern.gemm(false, false, t, d, mf, 1f, wk.phiQ, 0, mf, st.s, bh * mf * d, d, 0f,
                    st.out, qo + i0 * d, d); // num = Φq S
            for (int i = 0; i < t; i++)
                st.den[bh * lq + i0 + i] = kern.dot(wk.phiQ, i * mf, st.z, bh * mf, mf); // den = Φq z
        }
    }

    /**
     * Bidirectional over parts: partial states of each part's keys, summed per head at the largest
     * part stabilizer (S = Σ_p e^(c_p − c) S_p, likewise z; then the eps part of all keys), then the
     * outputs of each part's queries.
     */
    private void bidirForwardParts(State st, int rows) {
        Dims dims = st.dims;
        int bhN = dims.bh(), lq = dims.lq(), lk = dims.lk(), parts = st.parts, n = bhN * parts, blocks = blocks(dims);
        st.pS = fit(st.pS, n * mf * d); st.pZ = fit(st.pZ, n * mf); st.pV = fit(st.pV, n * d); st.pC = fit(st.pC, n);
        if (st.pCount == null || st.pCount.length != n) st.pCount = new int[n];
        if (perHead)
            kern.parallelFor(bhN, bh -> st.a[bh] = FeatureMap.optimalA(FeatureMap.rho(st.q, bh * lq * d, lq, st.k,
                    bh * lk * d, lk, d, st.mask, bh / dims.heads() * lk)));
        kern.parallelFor(n, task -> {
            int bh = task / parts, p = task % parts;
            Work wk = work(rows);
            st.pC[task] = bidirState(partStart(p, parts, blocks, rows, lk), partStart(p + 1, parts, blocks, rows, lk),
                    lk, st.k, bh * lk * d, st.v, st.mask, bh / dims.heads(), headProjection(st, bh, wk),
                    st.pS, task * mf * d, st.pZ, task * mf, st.pV, task * d, st.pCount, task, wk);
        });
        kern.parallelFor(bhN, bh -> {
            int sOff = bh * mf * d, zOff = bh * mf, count = 0;
            float c = Float.NEGATIVE_INFINITY;
            for (int p = 0; p < parts; p++) c = Math.max(c, st.pC[bh * parts + p]);
            Arrays.fill(st.s, sOff, sOff + mf * d, 0f);
            Arrays.fill(st.z, zOff, zOff + mf, 0f);
            float[] vsum = work(rows).vsum;
            Arrays.fill(vsum, 0f);
            for (int p = 0, task = bh * parts; p < parts; p++, task++) {
                if (st.pC[task] == Float.NEGATIVE_INFINITY) continue;           // a part without keys
                float f = map.stabilized() ? (float) Math.exp(st.pC[task] - c) : 1f;
                kern.axpy(f, st.pS, task * mf * d, st.s, sOff, mf * d);
                kern.axpy(f, st.pZ, task * mf, st.z, zOff, mf);
                kern.axpy(1f, st.pV, task * d, vsum, 0, d);
                count += st.pCount[task];
            }
            addEps(st.s, sOff, st.z, zOff, vsum, 0, count);
            st.keyMax[bh] = map.stabilized() ? c : 0f;
        });
        kern.parallelFor(n, task -> {
            int bh = task / parts, p = task % parts;
            int from = partStart(p, parts, blocks, rows, lq), to = partStart(p + 1, parts, blocks, rows, lq);
            Work wk = work(rows);
            bidirOutput(st, bh, from, to, headProjection(st, bh, wk), wk);
            normalize(st, bh, from, to);
        });
    }

    /**
     * S = Φkᵀ V and z = Φkᵀ 1 over keys [from, to) of one head in one streamed pass; returns the key
     * stabilizer c of those keys (−∞ if there are none; 0 for unstabilized maps). For stabilized maps
     * φ(k) = ratio·exp(u − n − c) + ratio·eps with c the max over the keys, which is only known at the
     * end: the exponential part is accumulated against the running max and rescaled by
     * exp(c_old − c_new) ≤ 1 whenever the max grows. The eps part is left out: Σ v of the unmasked keys
     * goes to vsum (at vOff) and their count to counts[at], for {@link #addEps}.
     */
    private float bidirState(int from, int to, int lk, float[] k, int ko, float[] v, float[] mask, int b, float[] wl,
                             float[] s, int sOff, float[] z, int zOff, float[] vsum, int vOff, int[] counts, int at,
                             Work wk) {
        boolean stab = map.stabilized();
        float c = Float.NEGATIVE_INFINITY;
        Arrays.fill(s, sOff, sOff + mf * d, 0f);   // the buffers may be recycled from an earlier forward
        Arrays.fill(z, zOff, zOff + mf, 0f);
        Arrays.fill(vsum, vOff, vOff + d, 0f);
        int count = 0;
        for (int j0 = from; j0 < to; j0 += wk.rows) {
            int t = Math.min(wk.rows, to - j0);
            project(k, ko + j0 * d, t, wl, wk.phiK);
            if (stab) {
                float cb = map.maxPre(kern, wk.phiK, 0, t, d, m);
                if (cb > c) {
                    if (c != Float.NEGATIVE_INFINITY) {
                        float rescale = (float) Math.exp(c - cb);
                        kern.scale(s, sOff, mf * d, rescale);
                        kern.scale(z, zOff, mf, rescale);
                    }
                    c = cb;
                }
                map.activateKeys(kern, k, ko + j0 * d, t, d, m, wk.phiK, 0, c, false);
            } else {
                map.activateKeys(kern, k, ko + j0 * d, t, d, m, wk.phiK, 0, 0f, true);
            }
            zeroMaskedRows(mask, b, lk, j0, t, wk.phiK, 0);
            kern.gemm(true, false, mf, d, t, 1f, wk.phiK, 0, mf, v, ko + j0 * d, d, 1f, s, sOff, d);   // S += Φkᵀ V
            for (int j = 0; j < t; j++) {
                kern.axpy(1f, wk.phiK, j * mf, z, zOff, mf);                                          // z += Φkᵀ 1
                if (stab && !masked(mask, b, lk, j0 + j)) {
                    kern.axpy(1f, v, ko + (j0 + j) * d, vsum, vOff, d);
                    count++;
                }
            }
        }
        counts[at] = count;
        return stab ? c : 0f;
    }

    /** The eps part of stabilized features: S += ratio·eps·1 (Σ v)ᵀ, z += ratio·eps·count. */
    private void addEps(float[] s, int sOff, float[] z, int zOff, float[] vsum, int vOff, int count) {
        if (!map.stabilized() || map.eps() == 0f) return;
        float re = map.ratio(m) * map.eps();
        for (int f = 0; f < mf; f++) kern.axpy(re, vsum, vOff, s, sOff + f * d, d);
        for (int f = 0; f < mf; f++) z[zOff + f] += re * count;
    }

    /**
     * Causal over parts, a parallel scan: the key stabilizer of each part's keys (max over parts), each
     * part's own state Σ φk vᵀ, Σ φk; their exclusive prefix sums per head (kept for backward); then
     * every part's chunks from its prefix state.
     */
    private void causalForwardParts(State st, int rows) {
        Dims dims = st.dims;
        int bhN = dims.bh(), l = dims.lq(), parts = st.parts, n = bhN * parts, blocks = blocks(dims);
        st.pC = fit(st.pC, n);
        boolean stab = map.stabilized();
        kern.parallelFor(n, task -> {
            int bh = task / parts, p = task % parts;
            st.pC[task] = stab ? keyMax(st.k, bh * l * d, partStart(p, parts, blocks, rows, l),
                    partStart(p + 1, parts, blocks, rows, l), st.w, work(rows)) : 0f;
        });
        for (int bh = 0; bh < bhN; bh++) {
            float c = Float.NEGATIVE_INFINITY;
            for (int p = 0; p < parts; p++) c = Math.max(c, st.pC[bh * parts + p]);
            st.keyMax[bh] = stab ? c : 0f;
        }
        prefixStates(st, parts, rows);
        kern.parallelFor(n, task -> {
            int bh = task / parts, p = task % parts;
            int from = partStart(p, parts, blocks, rows, l), to = partStart(p + 1, parts, blocks, rows, l);
            causalForward(from, to, l, st, bh * l * d, bh * l * d, bh / dims.heads(), st.w, st.keyMax[bh],
                    st.pS, task * mf * d, st.pZ, task * mf, work(rows));
            normalize(st, bh, from, to);
        });
    }

    /**
     * Causal: into st.pS, st.pZ the state Σ φk vᵀ, Σ φk of the keys before each part's first row (the
     * parts' own states, then their exclusive prefix sums), with the key stabilizer st.keyMax.
     */
    private void prefixStates(State st, int parts, int rows) {
        Dims dims = st.dims;
        int bhN = dims.bh(), l = dims.lq(), n = bhN * parts, blocks = blocks(dims);
        st.pS = fit(st.pS, n * mf * d); st.pZ = fit(st.pZ, n * mf);
        kern.parallelFor(n, task -> {                                  // each part's own Σ φk vᵀ, Σ φk
            int bh = task / parts, p = task % parts, ko = bh * l * d, b = bh / dims.heads();
            int to = partStart(p + 1, parts, blocks, rows, l), so = task * mf * d, zo = task * mf;
            Work wk = work(rows);
            Arrays.fill(st.pS, so, so + mf * d, 0f);
            Arrays.fill(st.pZ, zo, zo + mf, 0f);
            for (int c0 = partStart(p, parts, blocks, rows, l); c0 < to; c0 += chunk) {
                int t = Math.min(chunk, to - c0);
                keyFeatures(st.k, ko, c0, t, st.w, st.keyMax[bh], st.mask, b, l, wk);
                kern.gemm(true, false, mf, d, t, 1f, wk.phiK, 0, mf, st.v, ko + c0 * d, d, 1f, st.pS, so, d);
                for (int j = 0; j < t; j++) kern.axpy(1f, wk.phiK, j * mf, st.pZ, zo, mf);
            }
        });
        exclusiveScan(st.pS, st.pZ, bhN, parts, false);
    }

    /**
     * In place over the parts of each head: state p becomes the sum of the states before it (or, reverse,
     * after it); (Mf×D) and (Mf) per part.
     */
    private void exclusiveScan(float[] s, float[] z, int bhN, int parts, boolean reverse) {
        kern.parallelFor(bhN, bh -> {
            float[] accS = new float[mf * d], accZ = new float[mf];
            for (int i = 0; i < parts; i++) {
                int task = bh * parts + (reverse ? parts - 1 - i : i), so = task * mf * d, zo = task * mf;
                for (int e = 0; e < mf * d; e++) { float x = s[so + e]; s[so + e] = accS[e]; accS[e] += x; }
                for (int e = 0; e < mf; e++) { float x = z[zo + e]; z[zo + e] = accZ[e]; accZ[e] += x; }
            }
        });
    }

    /**
     * Causal chunks of rows [from, to) of one head (from on the chunk grid), starting from the state
     * (s0, z0) of the rows before from (zero when s0 is null): num into out and den.
     */
    private void causalForward(int from, int to, int l, State st, int qo, int ko, int b, float[] wl, float c,
                               float[] s0, int s0Off, float[] z0, int z0Off, Work wk) {
        float[] s = wk.s2, z = wk.z2, a = st.scores, v = st.v, out = st.out, den = st.den;
        int dOff = qo / d;   // den of head bh starts at bh·L = qo / D
        if (s0 == null) { Arrays.fill(s, 0f); Arrays.fill(z, 0f); }
        else { System.arraycopy(s0, s0Off, s, 0, mf * d); System.arraycopy(z0, z0Off, z, 0, mf); }
        for (int b0 = from; b0 < to; b0 += wk.featureRows) {
            int tb = Math.min(wk.featureRows, to - b0);
            queryFeatures(st.q, qo, b0, tb, wl, wk);
            keyFeatures(st.k, ko, b0, tb, wl, c, st.mask, b, l, wk);
            for (int c0 = b0; c0 < b0 + tb; c0 += chunk) {
                int t = Math.min(chunk, b0 + tb - c0), po = (c0 - b0) * mf, ao = (dOff + c0) * chunk;
                kern.gemm(false, false, t, d, mf, 1f, wk.phiQ, po, mf, s, 0, d, 0f, out, qo + c0 * d, d);
                for (int i = 0; i < t; i++) den[dOff + c0 + i] = kern.dot(wk.phiQ, po + i * mf, z, 0, mf);
                lowerProduct(t, wk.phiQ, po, wk.phiK, po, a, ao);
                for (int i = 0; i < t; i++) den[dOff + c0 + i] += kern.sum(a, ao + i * t, i + 1);
                kern.gemmTriangular(false, t, d, 1f, a, ao, t, v, ko + c0 * d, d, 1f, out, qo + c0 * d, d);
                kern.gemm(true, false, mf, d, t, 1f, wk.phiK, po, mf, v, ko + c0 * d, d, 1f, s, 0, d);
                for (int j = 0; j < t; j++) kern.axpy(1f, wk.phiK, po + j * mf, z, 0, mf);
            }
        }
    }

    /**
     * Causal forward of one head with a stabilized map in a single pass over the keys: no separate pass
     * for the key maximum c. Chunk t computes with the running max c_t of the keys so far (the state's
     * exponential part rescaled by e^(c_old − c_new) when it grows) and leaves out the eps part of the
     * key features; a last pass over the rows (O(L·D)) then gives the convention's result for the final
     * c, the max over all keys: with E_i, e_i row i's exponential-part numerator and denominator,
     * σ_i = Σ φq_i, V_i and n_i the sum and count of the unmasked values up to i and rε = ratio·eps,
     * <pre>
     *   out_i = (e^(c_t − c)·E_i + rε·σ_i·V_i) / (e^(c_t − c)·e_i + rε·σ_i·n_i).
     * </pre>
     * Returns c, which backward's features use.
     */
    private float causalForwardRunning(int l, State st, int bh, int b, Work wk) {
        int qo = bh * l * d, dOff = bh * l, chunks = (l + chunk - 1) / chunk;
        float[] s = wk.s2, z = wk.z2, a = st.scores, v = st.v, out = st.out, den = st.den, wl = st.w;
        float[] qSum = st.qSum, chunkC = st.chunkC;
        Arrays.fill(s, 0f);
        Arrays.fill(z, 0f);
        float c = Float.NEGATIVE_INFINITY;
        for (int b0 = 0; b0 < l; b0 += wk.featureRows) {   // features of several chunks per product
            int tb = Math.min(wk.featureRows, l - b0);
            queryFeatures(st.q, qo, b0, tb, wl, wk);
            project(st.k, qo + b0 * d, tb, wl, wk.phiK);
            for (int c0 = b0; c0 < b0 + tb; c0 += chunk) {
                int t = Math.min(chunk, b0 + tb - c0), po = (c0 - b0) * mf, ao = (dOff + c0) * chunk;
                float cb = map.maxPre(kern, wk.phiK, po, t, d, m);
                if (cb > c) {
                    if (c != Float.NEGATIVE_INFINITY) {
                        float rescale = (float) Math.exp(c - cb);
                        kern.scale(s, 0, mf * d, rescale);
                        kern.scale(z, 0, mf, rescale);
                    }
                    c = cb;
                }
                chunkC[bh * chunks + c0 / chunk] = c;
                map.activateKeys(kern, st.k, qo + c0 * d, t, d, m, wk.phiK, po, c, false);
                zeroMaskedRows(st.mask, b, l, c0, t, wk.phiK, po);
                kern.gemm(false, false, t, d, mf, 1f, wk.phiQ, po, mf, s, 0, d, 0f, out, qo + c0 * d, d);
                for (int i = 0; i < t; i++) {
                    den[dOff + c0 + i] = kern.dot(wk.phiQ, po + i * mf, z, 0, mf);
                    qSum[dOff + c0 + i] = kern.sum(wk.phiQ, po + i * mf, mf);
                }
                lowerProduct(t, wk.phiQ, po, wk.phiK, po, a, ao);
                for (int i = 0; i < t; i++) den[dOff + c0 + i] += kern.sum(a, ao + i * t, i + 1);
                kern.gemmTriangular(false, t, d, 1f, a, ao, t, v, qo + c0 * d, d, 1f, out, qo + c0 * d, d);
                kern.gemm(true, false, mf, d, t, 1f, wk.phiK, po, mf, v, qo + c0 * d, d, 1f, s, 0, d);
                for (int j = 0; j < t; j++) kern.axpy(1f, wk.phiK, po + j * mf, z, 0, mf);
            }
        }
        float re = map.ratio(m) * map.eps();
        float[] vsum = wk.vsum;
        Arrays.fill(vsum, 0f);
        int count = 0;
        for (int i = 0; i < l; i++) {
            if (!masked(st.mask, b, l, i)) {
                kern.axpy(1f, v, qo + i * d, vsum, 0, d);
                count++;
            }
            float f = (float) Math.exp(chunkC[bh * chunks + i / chunk] - c);   // 1 from the last growth of c on
            float eq = re * qSum[dOff + i];
            if (f != 1f) kern.scale(out, qo + i * d, d, f);
            if (eq != 0f) kern.axpy(eq, vsum, 0, out, qo + i * d, d);
            den[dOff + i] = f * den[dOff + i] + eq * count;
        }
        return c;
    }

    /** a (t×t at ao, ld t) = tril(X Yᵀ) for X, Y (t×Mf) rows at the given offsets: entries j > i are 0. */
    private void lowerProduct(int t, float[] x, int xo, float[] y, int yo, float[] a, int ao) {
        kern.gemmLower(false, true, t, mf, 1f, x, xo, mf, y, yo, mf, a, ao, t);
    }

    /**
     * Into a (t×t) the masked scores tril(Φq Φkᵀ) of the chunk at c0 (t rows) of head bh with backward's
     * features (key stabilizer c, eps included), from the forward's: as kept when the forward used c,
     * else, from the single pass's running max c_t of the chunk and its scores without eps,
     * a_ij = e^(c_t − c)·a'_ij + ratio·eps·σ_i for unmasked j ≤ i (σ_i = Σ φq_i), the identity that
     * pass's output uses too.
     */
    private void chunkScores(State st, int bh, int b, int c0, int t, float[] a) {
        int l = st.dims.lq(), so = (bh * l + c0) * chunk;
        if (!st.scoresRunning) {
            System.arraycopy(st.scores, so, a, 0, t * t);
            return;
        }
        float f = (float) Math.exp(st.chunkC[bh * ((l + chunk - 1) / chunk) + c0 / chunk] - st.keyMax[bh]);
        float re = map.ratio(m) * map.eps();
        for (int i = 0; i < t; i++) {
            float eq = re * st.qSum[bh * l + c0 + i];
            for (int j = 0; j <= i; j++)
                a[i * t + j] = masked(st.mask, b, l, c0 + j) ? 0f : f * st.scores[so + i * t + j] + eq;
            Arrays.fill(a, i * t + i + 1, (i + 1) * t, 0f);
        }
    }

    // ---------------------------------------------------------------- backward

    /** G = dout / den and g = −(dout·out) / den for query rows [i0, i0+t) of one head (0 where den = 0). */
    private void upstream(State st, float[] dout, int qo, int dOff, int i0, int t, Work wk) {
        for (int i = 0; i < t; i++) {
            float dn = st.den[dOff + i0 + i];
            int r = qo + (i0 + i) * d;
            if (dn == 0f) { // the output was set to 0: no gradient flows
                Arrays.fill(wk.g, i * d, (i + 1) * d, 0f);
                wk.gden[i] = 0f;
                continue;
            }
            float inv = 1f / dn;
            for (int cc = 0; cc < d; cc++) wk.g[i * d + cc] = dout[r + cc] * inv;
            wk.gden[i] = -kern.dot(dout, r, st.out, r, d) * inv;
        }
    }

    @Override
    public void backward(Saved saved, float[] dout, float[] dq, float[] dk, float[] dv) {
        if (!(saved instanceof State st)) throw new IllegalArgumentException("saved state is not from " + name());
        Dims dims = st.dims;
        Attention.checkBackward(dims, dout, dq, dk, dv);
        int lq = dims.lq(), lk = dims.lk(), rows = blockRows(dims), bhN = dims.bh();
        // a causal forward on few threads did not split (CAUSAL_SCAN_THREADS): backward still may
        int parts = causal && st.parts == 1 ? rowParts(bhN, kern.threads(), blocks(dims), lq) : st.parts;
        if (causal && parts > 1 && st.parts == 1) prefixStates(st, parts, rows);
        if (parts == 1) {
            kern.parallelFor(bhN, bh -> {
                int qo = bh * lq * d, ko = bh * lk * d, b = bh / dims.heads();
                Work wk = work(rows);
                float[] r = wk.s2, rz = wk.z2;
                if (causal) {
                    boolean cache = (long) lq * mf <= featureCacheFloats;
                    if (cache) {
                        wk.cacheQ = fit(wk.cacheQ, lq * mf);
                        wk.cacheK = fit(wk.cacheK, lq * mf);
                        wk.cacheG = fit(wk.cacheG, lq * chunk);
                    }
                    float[] cq = cache ? wk.cacheQ : null, ck = cache ? wk.cacheK : null, cg = cache ? wk.cacheG : null;
                    causalForwardSweep(0, lq, st, dout, qo, ko, b, bh, null, 0, null, 0, null, 0, null, 0, cq, ck, cg,
                            0, wk, dq);
                    causalReverseSweep(0, lq, st, dout, qo, ko, b, bh, null, 0, null, 0, cq, ck, cg, 0, wk, dk, dv);
                } else {
                    float[] wb = headProjection(st, bh, wk);
                    Arrays.fill(r, 0f);
                    Arrays.fill(rz, 0f);
                    bidirBackwardQueries(0, lq, st, dout, qo, bh, wb, r, 0, rz, 0, wk, dq);
                    bidirBackwardKeys(0, lk, st, ko, b, bh, wb, r, 0, rz, 0, wk, dk, dv);
                }
            });
            return;
        }
        int n = bhN * parts, blocks = blocks(dims);
        st.pR = fit(st.pR, n * mf * d); st.pRz = fit(st.pRz, n * mf);
        if (causal) {
            // forward sweeps from the forward's prefix states, each also summing its part's R_p, r_p;
            // their exclusive suffix sums start the reverse sweeps (parts split heads only while B·H < threads,
            // so the features of all B·H·L rows are a few tasks' worth)
            boolean cache = (long) bhN * lq * mf <= featureCacheFloats * kern.threads();
            if (cache) {
                st.cacheQ = fit(st.cacheQ, bhN * lq * mf);
                st.cacheK = fit(st.cacheK, bhN * lq * mf);
                st.cacheG = fit(st.cacheG, bhN * lq * chunk);
            }
            float[] cq = cache ? st.cacheQ : null, ck = cache ? st.cacheK : null, cg = cache ? st.cacheG : null;
            kern.parallelFor(n, task -> {
                int bh = task / parts, p = task % parts, qo = bh * lq * d, so = task * mf * d, zo = task * mf;
                Arrays.fill(st.pR, so, so + mf * d, 0f);
                Arrays.fill(st.pRz, zo, zo + mf, 0f);
                int from = partStart(p, parts, blocks, rows, lq);
                causalForwardSweep(from, partStart(p + 1, parts, blocks, rows, lq), st, dout, qo, qo,
                        bh / dims.heads(), bh, st.pS, so, st.pZ, zo, st.pR, so, st.pRz, zo, cq, ck, cg,
                        bh * lq + from, work(rows), dq);
            });
            exclusiveScan(st.pR, st.pRz, bhN, parts, true);
            kern.parallelFor(n, task -> {
                int bh = task / parts, p = task % parts, qo = bh * lq * d;
                int from = partStart(p, parts, blocks, rows, lq);
                causalReverseSweep(from, partStart(p + 1, parts, blocks, rows, lq), st, dout, qo, qo,
                        bh / dims.heads(), bh, st.pR, task * mf * d, st.pRz, task * mf, cq, ck, cg,
                        bh * lq + from, work(rows), dk, dv);
            });
            return;
        }
        // bidirectional: each part's queries give dq and partial R_p, r_p; their sums give each part's keys dk, dv
        kern.parallelFor(n, task -> {
            int bh = task / parts, p = task % parts, so = task * mf * d, zo = task * mf;
            Work wk = work(rows);
            Arrays.fill(st.pR, so, so + mf * d, 0f);
            Arrays.fill(st.pRz, zo, zo + mf, 0f);
            bidirBackwardQueries(partStart(p, parts, blocks, rows, lq), partStart(p + 1, parts, blocks, rows, lq), st,
                    dout, bh * lq * d, bh, headProjection(st, bh, wk), st.pR, so, st.pRz, zo, wk, dq);
        });
        kern.parallelFor(bhN, bh -> {
            int first = bh * parts;
            for (int p = 1; p < parts; p++) {
                kern.axpy(1f, st.pR, (first + p) * mf * d, st.pR, first * mf * d, mf * d);
                kern.axpy(1f, st.pRz, (first + p) * mf, st.pRz, first * mf, mf);
            }
        });
        kern.parallelFor(n, task -> {
            int bh = task / parts, p = task % parts;
            Work wk = work(rows);
            bidirBackwardKeys(partStart(p, parts, blocks, rows, lk), partStart(p + 1, parts, blocks, rows, lk), st,
                    bh * lk * d, bh / dims.heads(), bh, headProjection(st, bh, wk), st.pR, bh * parts * mf * d,
                    st.pRz, bh * parts * mf, wk, dk, dv);
        });
    }

    /** Query rows [from, to) of head bh: dq, and R += Φqᵀ G, r += Φqᵀ g into (r, rOff), (rz, rzOff). */
    private void bidirBackwardQueries(int from, int to, State st, float[] dout, int qo, int bh, float[] wb,
                                      float[] r, int rOff, float[] rz, int rzOff, Work wk, float[] dq) {
        int sOff = bh * mf * d, zOff = bh * mf, lq = st.dims.lq();
        for (int i0 = from; i0 < to; i0 += wk.rows) {
            int t = Math.min(wk.rows, to - i0);
            queryFeatures(st.q, qo, i0, t, wb, wk);
            upstream(st, dout, qo, bh * lq, i0, t, wk);
            kern.gemm(false, true, t, mf, d, 1f, wk.g, 0, d, st.s, sOff, d, 0f, wk.dphi, 0, mf);     // dΦq = G Sᵀ
            for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], st.z, zOff, wk.dphi, i * mf, mf);     //     + g zᵀ
            kern.gemm(true, false, mf, d, t, 1f, wk.phiQ, 0, mf, wk.g, 0, d, 1f, r, rOff, d);        // R += Φqᵀ G
            for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], wk.phiQ, i * mf, rz, rzOff, mf);       // r += Φqᵀ g
            map.backward(kern, st.q, qo + i0 * d, t, d, wb, m, wk.phiQ, 0, wk.dphi, 0, dq, qo + i0 * d, wk.scratch);
        }
    }

    /** Key rows [from, to) of head bh: dk and dv from the query states R, r at (r, rOff), (rz, rzOff). */
    private void bidirBackwardKeys(int from, int to, State st, int ko, int b, int bh, float[] wb, float[] r, int rOff,
                                   float[] rz, int rzOff, Work wk, float[] dk, float[] dv) {
        int lk = st.dims.lk();
        for (int j0 = from; j0 < to; j0 += wk.rows) {
            int t = Math.min(wk.rows, to - j0);
            keyFeatures(st.k, ko, j0, t, wb, st.keyMax[bh], st.mask, b, lk, wk);
            kern.gemm(false, true, t, mf, d, 1f, st.v, ko + j0 * d, d, r, rOff, d, 0f, wk.dphi, 0, mf); // dΦk = V Rᵀ
            for (int j = 0; j < t; j++) kern.axpy(1f, rz, rzOff, wk.dphi, j * mf, mf);                 //     + 1 rᵀ
            zeroMaskedRows(st.mask, b, lk, j0, t, wk.dphi, 0);
            kern.gemm(false, false, t, d, mf, 1f, wk.phiK, 0, mf, r, rOff, d, 0f, dv, ko + j0 * d, d);  // dV = Φk R
            map.backward(kern, st.k, ko + j0 * d, t, d, wb, m, wk.phiK, 0, wk.dphi, 0, dk, ko + j0 * d, wk.scratch);
        }
    }

    /**
     * Causal backward's forward sweep over chunks of rows [from, to), from the prefix state (s0, z0)
     * (zero when null): dΦq[c] = G[c] Sᵀ + g[c] zᵀ + tril(G[c] V[c]ᵀ + g[c] 1ᵀ) Φk[c], then dq[c]. With
     * rAcc it also sums R_p = Σ Φq[c]ᵀ G[c] and r_p = Σ Φq[c]ᵀ g[c] over the rows into (rAcc, rOff) and
     * (rzAcc, rzOff), for the parts' suffix states. With cq, ck, cg it keeps each chunk's features (row i
     * at (cRow + i − from)·Mf) and score gradients (the chunk at c0: (cRow + c0 − from)·T) there for
     * {@link #causalReverseSweep}.
     */
    private void causalForwardSweep(int from, int to, State st, float[] dout, int qo, int ko, int b, int bh,
                                    float[] s0, int s0Off, float[] z0, int z0Off, float[] rAcc, int rOff,
                                    float[] rzAcc, int rzOff, float[] cq, float[] ck, float[] cg, int cRow, Work wk,
                                    float[] dq) {
        int l = st.dims.lq(), cOff = cRow * mf;
        float[] s = wk.s2, z = wk.z2, a = wk.a, v = st.v, fq = wk.phiQ, fk = wk.phiK;
        float c = st.keyMax[bh];
        if (s0 == null) { Arrays.fill(s, 0f); Arrays.fill(z, 0f); }
        else { System.arraycopy(s0, s0Off, s, 0, mf * d); System.arraycopy(z0, z0Off, z, 0, mf); }
        for (int b0 = from; b0 < to; b0 += wk.featureRows) {
            int tb = Math.min(wk.featureRows, to - b0);
            queryFeatures(st.q, qo, b0, tb, st.w, wk);
            keyFeatures(st.k, ko, b0, tb, st.w, c, st.mask, b, l, wk);
            if (cq != null) {
                System.arraycopy(fq, 0, cq, cOff + (b0 - from) * mf, tb * mf);
                System.arraycopy(fk, 0, ck, cOff + (b0 - from) * mf, tb * mf);
            }
            for (int c0 = b0; c0 < b0 + tb; c0 += chunk) {   // dΦq of the block's chunks, then dq of the block
                int t = Math.min(chunk, b0 + tb - c0), po = (c0 - b0) * mf;
                upstream(st, dout, qo, bh * l, c0, t, wk);
                kern.gemm(false, true, t, mf, d, 1f, wk.g, 0, d, s, 0, d, 0f, wk.dphi, po, mf);
                for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], z, 0, wk.dphi, po + i * mf, mf);
                float[] ga = cg != null ? cg : a;
                int gao = cg != null ? (cRow + c0 - from) * chunk : 0;
                gradScores(t, wk, v, ko + c0 * d, ga, gao);
                kern.gemmTriangular(false, t, mf, 1f, ga, gao, t, fk, po, mf, 1f, wk.dphi, po, mf);
                kern.gemm(true, false, mf, d, t, 1f, fk, po, mf, v, ko + c0 * d, d, 1f, s, 0, d);
                for (int j = 0; j < t; j++) kern.axpy(1f, fk, po + j * mf, z, 0, mf);
                if (rAcc != null) {
                    kern.gemm(true, false, mf, d, t, 1f, fq, po, mf, wk.g, 0, d, 1f, rAcc, rOff, d);
                    for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], fq, po + i * mf, rzAcc, rzOff, mf);
                }
            }
            map.backward(kern, st.q, qo + b0 * d, tb, d, st.w, m, fq, 0, wk.dphi, 0, dq, qo + b0 * d, wk.scratch);
        }
    }

    /**
     * Causal backward's reverse sweep over chunks of rows [from, to) (from on the chunk grid), from the
     * suffix state (r0, rz0) of the rows after to (zero when null), with suffix states R (Mf×D), r (Mf):
     * dΦk[c] = V[c] Rᵀ + 1 rᵀ + tril(G[c] V[c]ᵀ + g 1ᵀ)ᵀ Φq[c];  dV[c] = Φk[c] R + tril(Φq[c] Φk[c]ᵀ)ᵀ G[c],
     * the last scores from the forward. The features come from the forward sweep's copies cq, ck (the same
     * values) when given, else are recomputed a block of chunks at a time; likewise the score gradients
     * from cg.
     */
    private void causalReverseSweep(int from, int to, State st, float[] dout, int qo, int ko, int b, int bh,
                                    float[] r0, int r0Off, float[] rz0, int rz0Off, float[] cq, float[] ck, float[] cg,
                                    int cRow, Work wk, float[] dk, float[] dv) {
        int l = st.dims.lq(), cOff = cRow * mf;
        float[] r = wk.s2, rz = wk.z2, a = wk.a, v = st.v;
        float c = st.keyMax[bh];
        if (r0 == null) { Arrays.fill(r, 0f); Arrays.fill(rz, 0f); }
        else { System.arraycopy(r0, r0Off, r, 0, mf * d); System.arraycopy(rz0, rz0Off, rz, 0, mf); }
        if (to <= from) return;
        int fr = wk.featureRows;
        for (int b0 = from + (to - 1 - from) / fr * fr; b0 >= from; b0 -= fr) {
            int tb = Math.min(fr, to - b0);
            float[] fq = cq, fk = ck;
            int fo = cOff + (b0 - from) * mf;   // the block's first feature row
            if (cq == null) {
                queryFeatures(st.q, qo, b0, tb, st.w, wk);
                keyFeatures(st.k, ko, b0, tb, st.w, c, st.mask, b, l, wk);
                fq = wk.phiQ;
                fk = wk.phiK;
                fo = 0;
            }
            for (int c0 = b0 + (tb - 1) / chunk * chunk; c0 >= b0; c0 -= chunk) { // dΦk, dV of the chunks
                int t = Math.min(chunk, b0 + tb - c0), po = fo + (c0 - b0) * mf, go = (c0 - b0) * mf;
                upstream(st, dout, qo, bh * l, c0, t, wk);
                kern.gemm(false, true, t, mf, d, 1f, v, ko + c0 * d, d, r, 0, d, 0f, wk.dphi, go, mf);
                for (int j = 0; j < t; j++) kern.axpy(1f, rz, 0, wk.dphi, go + j * mf, mf);
                float[] ga = cg != null ? cg : a;
                int gao = cg != null ? (cRow + c0 - from) * chunk : 0;
                if (cg == null) gradScores(t, wk, v, ko + c0 * d, a, 0);
                kern.gemmTriangular(true, t, mf, 1f, ga, gao, t, fq, po, mf, 1f, wk.dphi, go, mf);
                kern.gemm(false, false, t, d, mf, 1f, fk, po, mf, r, 0, d, 0f, dv, ko + c0 * d, d);
                chunkScores(st, bh, b, c0, t, a);     // tril(Φq Φkᵀ), from the forward
                kern.gemmTriangular(true, t, d, 1f, a, 0, t, wk.g, 0, d, 1f, dv, ko + c0 * d, d);
                kern.gemm(true, false, mf, d, t, 1f, fq, po, mf, wk.g, 0, d, 1f, r, 0, d);
                for (int i = 0; i < t; i++) kern.axpy(wk.gden[i], fq, po + i * mf, rz, 0, mf);
            }
            zeroMaskedRows(st.mask, b, l, b0, tb, wk.dphi, 0);        // then dk of the block
            map.backward(kern, st.k, ko + b0 * d, tb, d, st.w, m, fk, fo, wk.dphi, 0, dk, ko + b0 * d, wk.scratch);
        }
    }

    /**
     * a (t×t at ao) = tril(G V[c]ᵀ + g 1ᵀ) from the chunk's upstream G, g in wk: the gradient w.r.t. the masked scores
     * φq_i·φk_j.
     */
    private void gradScores(int t, Work wk, float[] v, int vOff, float[] a, int ao) {
        kern.gemmLower(false, true, t, d, 1f, wk.g, 0, d, v, vOff, d, a, ao, t);
        for (int i = 0; i < t; i++) {
            float gi = wk.gden[i];
            for (int j = 0; j <= i; j++) a[ao + i * t + j] += gi;
        }
    }
}

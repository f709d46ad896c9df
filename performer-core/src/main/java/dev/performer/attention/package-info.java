/**
 * The attention layer: exact softmax attention, identity attention ('X (OPT)'), and FAVOR+
 * (Choromanski et al., "Rethinking Attention with Performers", ICLR 2021), each with forward
 * and backward, over tensors laid out (B, H, L, D) in contiguous float32 arrays.
 *
 * <p>FAVOR+ is built from separately named pieces: the random projection ({@link
 * dev.performer.attention.Projection}), the feature maps φ ({@link dev.performer.attention.FeatureMap}),
 * and the numerator/denominator contractions in {@link dev.performer.attention.FavorAttention}
 * (bidirectional, and causal in chunks whose work is GEMMs); {@link dev.performer.attention.RecurrentFavor}
 * is the one-token-at-a-time causal form with O(M·D) state. All arithmetic goes through a
 * {@link dev.performer.kernel.Kernels} backend passed in by the caller.
 *
 * <h2>Numerical convention (matches shared/golden/README.md)</h2>
 * <pre>
 *   x~ = x·D^-1/4,  ratio = M^-1/2,  u = x~ Wᵀ                       (L×M per batch and head)
 *   SM+   φ(q) = ratio·(exp(u − |x~|²/2 − max_m u) + eps)            one max per query row
 *         φ(k) = ratio·(exp(u − |x~|²/2 − max_{l,m} u) + eps)        one max per batch and head
 *         (the key max runs over all keys, padded ones included; maxima are constants in backward)
 *   generalized  φ(x) = f(u) + eps   (f = relu, elu+1, exp, abs, identity or a user function;
 *                                      without projection u = x~ and M = D)
 *   bidirectional  out_i = Σ_j (φ(q_i)·φ(k_j)) v_j / Σ_j φ(q_i)·φ(k_j)
 *   causal         the same two sums over j ≤ i; nothing is added to the denominator
 *   key mask       a masked key takes part in neither sum
 * </pre>
 * A query row whose denominator is exactly 0 (every visible key masked) gets output 0 and
 * zero gradient, for every attention kind.
 */
package dev.performer.attention;
